/**
 * `createBatcher`: coalesces requests into rate-limited flushes, with one timer only
 * while something is pending.
 *
 * @module
 */
import { reportError, type OnError } from '../internal/report.js'
import { checkFunction, checkNonNegativeFinite, checkOptionalBoolean, checkOptionalFunction, checkOptionalString, checkOptions, checkPositiveInteger, knownOptions } from '../internal/validate.js'
import { isThenable } from '../internal/thenable.js'
import { armTimer, disarmTimer, type TimerHandle } from '../internal/timers.js'

/** Options of {@link createBatcher}. */
export interface BatcherOptions<T> {
  /** Receives the items requested since the last flush (`request()` without an item contributes `undefined`). May be async. */
  flush: (items: T[]) => unknown
  /** Minimum gap between the starts of two flushes, in ms (a `maxPending` or `flushNow` flush ignores it). Default 0. */
  minIntervalMs?: number
  /** Flush at once (in the same turn, inside `request`) when this many items are pending. Default: no limit. */
  maxPending?: number
  /** Flush what is pending on dispose instead of dropping it. Default false. */
  flushOnDispose?: boolean
  /** Receives flush failures (`guard:flush-error`). */
  onError?: OnError
  /** Name used in reports. */
  name?: string
  /** Clock in ms used for `minIntervalMs` (default: `performance.now()` read at call time, so fake timers drive it). */
  clock?: () => number
}

/** A batcher. Dispose clears its timer. */
export interface Batcher<T> extends Disposable {
  /** Adds an item (or one `undefined` when called without) and schedules a flush. Ignored after dispose. */
  request(...item: [T] | (undefined extends T ? [] : never)): void
  /** Flushes what is pending now (cancelling the armed timer); does nothing when nothing is pending. Returns whether it flushed. */
  flushNow(): boolean
  /** Number of items waiting for the next flush. */
  readonly pending: number
  /** Whether it was disposed. */
  readonly disposed: boolean
  /** Clears the timer; flushes first with `flushOnDispose`, else drops what is pending. Idempotent, never throws. */
  [Symbol.dispose](): void
}

const now = (): number => globalThis.performance.now()
const BATCHER_OPTIONS = knownOptions(['flush', 'minIntervalMs', 'maxPending', 'flushOnDispose', 'onError', 'name', 'clock'], {
  intervalMs: 'minIntervalMs', interval: 'minIntervalMs', delayMs: 'minIntervalMs', waitMs: 'minIntervalMs', max: 'maxPending', maxItems: 'maxPending', maxSize: 'maxPending', onFlush: 'flush',
})

class BatcherImpl<T> implements Batcher<T> {
  readonly #flush: (items: T[]) => unknown
  readonly #minIntervalMs: number
  readonly #maxPending: number
  readonly #flushOnDispose: boolean
  readonly #onError: OnError | undefined
  readonly #name: string | undefined
  readonly #clock: () => number
  #items: T[] = []
  #timer: TimerHandle | undefined
  #lastFlushAt = -Infinity
  #disposed = false
  readonly #onTimer = (): void => {
    this.#timer = undefined
    this.#run()
  }
  readonly #onFlushError = (error: unknown): void => {
    this.#report(error)
  }

  constructor(opts: BatcherOptions<T>) {
    this.#flush = checkFunction<(items: T[]) => unknown>('createBatcher: options.flush', opts.flush)
    this.#minIntervalMs = opts.minIntervalMs === undefined ? 0 : checkNonNegativeFinite('createBatcher: options.minIntervalMs', opts.minIntervalMs)
    this.#maxPending = opts.maxPending === undefined ? Infinity : checkPositiveInteger('createBatcher: options.maxPending', opts.maxPending)
    this.#flushOnDispose = checkOptionalBoolean('createBatcher: options.flushOnDispose', opts.flushOnDispose) ?? false
    this.#onError = checkOptionalFunction<OnError>('createBatcher: options.onError', opts.onError)
    this.#name = checkOptionalString('createBatcher: options.name', opts.name)
    this.#clock = checkOptionalFunction<() => number>('createBatcher: options.clock', opts.clock) ?? now
  }

  get pending(): number {
    return this.#items.length
  }

  get disposed(): boolean {
    return this.#disposed
  }

  request(...args: [T] | []): void {
    if (this.#disposed) return
    this.#items.push(args[0] as T)
    if (this.#items.length >= this.#maxPending) {
      this.#run()
      return
    }
    if (this.#timer === undefined) {
      const wait = Math.max(0, this.#lastFlushAt + this.#minIntervalMs - this.#clock())
      this.#timer = armTimer(wait, this.#onTimer)
    }
  }

  flushNow(): boolean {
    if (this.#items.length === 0) return false
    this.#run()
    return true
  }

  [Symbol.dispose](): void {
    if (this.#disposed) return
    this.#disposed = true
    if (this.#flushOnDispose && this.#items.length > 0) this.#run()
    else this.#items = []
    disarmTimer(this.#timer)
    this.#timer = undefined
  }

  /** Takes every pending item, clears the timer (the pending state is reset first), calls flush. */
  #run(): void {
    disarmTimer(this.#timer)
    this.#timer = undefined
    const items = this.#items
    this.#items = []
    this.#lastFlushAt = this.#clock()
    let result: unknown
    try {
      result = this.#flush(items)
    } catch (error) {
      this.#report(error)
      return
    }
    if (isThenable(result)) {
      Promise.resolve(result).then(undefined, this.#onFlushError)
    }
  }

  #report(error: unknown): void {
    reportError(this.#onError, error, { area: 'guard', event: 'flush-error', name: this.#name })
  }
}

/**
 * Coalesces requests into flushes: `request(item)` collects, and `flush(items)` runs
 * with everything collected since the last flush — after the current turn, and never
 * sooner than `minIntervalMs` after the previous flush started; at once (inside
 * `request`) when `maxPending` items are waiting.
 *
 * Hazard prevented (the audit's redraw batcher): a polling loop that woke every 100 ms
 * for a whole session, and a forced flush that left stale pending state. Here at most one
 * timer exists, and only while something is pending; every flush (timer, `maxPending`,
 * `flushNow()`) takes all pending items and clears the timer first, so the state is
 * always reset.
 *
 * Errors: a flush that throws or rejects is reported (`onError`, diagnostics
 * `asyncsafe:guard:flush-error`, a warning without `onError`) and later flushes go on.
 * Flushes are not awaited: an async flush slower than `minIntervalMs` may overlap the
 * next one. Requests after dispose are ignored (late events after teardown are common
 * and must not re-arm a timer).
 *
 * @param options `flush` (required), `minIntervalMs` (default 0), `maxPending` (default none), `flushOnDispose` (default false), `onError`, `name`, `clock`
 * @throws TypeError / RangeError for bad options
 * @example
 * ```ts
 * using redraw = createBatcher<void>({ flush: () => screen.render(), minIntervalMs: 50, maxPending: 5 })
 * stream.on('token', () => redraw.request())   // at most one render per 50 ms; 5 pending render at once
 * ```
 */
export function createBatcher<T = void>(options: BatcherOptions<T>): Batcher<T> {
  if (options === undefined) checkOptions('createBatcher: options', null)
  const opts = checkOptions<BatcherOptions<T>>('createBatcher: options', options, BATCHER_OPTIONS)
  return new BatcherImpl<T>(opts as BatcherOptions<T>)
}
