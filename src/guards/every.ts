/**
 * `every`: a periodic task that never overlaps itself and stops by itself.
 *
 * @module
 */
import { DISPOSED } from '../internal/guards-shared.js'
import { reportError, type OnError } from '../internal/report.js'
import { checkFunction, checkOptionalBoolean, checkOptionalFunction, checkOptionalString, checkOptions, checkPositiveFinite, checkSignal, knownOptions } from '../internal/validate.js'
import { isThenable } from '../internal/thenable.js'
import { armTimer, disarmTimer, type TimerHandle } from '../internal/timers.js'
import type { AbortSignal } from '../internal/types.js'

/** Options of {@link every}. */
export interface EveryOptions {
  /** Stop once this returns true: checked before each tick and right after each tick settles. */
  until?: () => boolean
  /** Stop when this signal aborts (an already-aborted signal: no tick ever runs). */
  signal?: AbortSignal
  /** Run the first tick at once (synchronously, inside `every`) instead of after `intervalMs`. Default false. */
  immediate?: boolean
  /** Let the timer not keep the process alive. Default false. */
  unref?: boolean
  /** Name used in reports. */
  name?: string
  /** Receives tick failures (`guard:tick-error`); the ticker keeps going. */
  onError?: OnError
}

/** A running periodic task. Dispose stops it. */
export interface Ticker extends Disposable {
  /** Whether it stopped (dispose, `until()`, or the signal). */
  readonly stopped: boolean
  /** Number of ticks started so far. */
  readonly ticks: number
  /** Stops: clears the timer, aborts the running tick's signal (shared `DisposedError`). Idempotent, never throws. */
  [Symbol.dispose](): void
}

const INTERVAL_FIRST = 'the interval is the first argument: every(intervalMs, fn, options)'
const EVERY_OPTIONS = knownOptions(['until', 'signal', 'immediate', 'unref', 'name', 'onError'], { interval: INTERVAL_FIRST, intervalMs: INTERVAL_FIRST, while: 'until', stopWhen: 'until' })

class Every implements Ticker {
  readonly #intervalMs: number
  readonly #fn: (signal: AbortSignal) => unknown
  readonly #until: (() => boolean) | undefined
  readonly #unref: boolean
  readonly #name: string | undefined
  readonly #onError: OnError | undefined
  #controller: AbortController | undefined
  #signal: AbortSignal | undefined
  #timer: TimerHandle | undefined
  #stopped = false
  #ticks = 0
  readonly #onTimer = (): void => {
    this.#timer = undefined
    this.#tick()
  }
  readonly #afterTick = (): void => {
    this.#schedule()
  }
  readonly #onTickError = (error: unknown): void => {
    this.#report(error)
    this.#schedule()
  }

  constructor(intervalMs: number, fn: (signal: AbortSignal) => unknown, opts: EveryOptions) {
    this.#intervalMs = intervalMs
    this.#fn = fn
    this.#until = checkOptionalFunction<() => boolean>('every: options.until', opts.until)
    const signal = checkSignal('every: options.signal', opts.signal)
    const immediate = checkOptionalBoolean('every: options.immediate', opts.immediate) ?? false
    this.#unref = checkOptionalBoolean('every: options.unref', opts.unref) ?? false
    this.#name = checkOptionalString('every: options.name', opts.name)
    this.#onError = checkOptionalFunction<OnError>('every: options.onError', opts.onError)
    if (signal?.aborted) {
      this.#stopped = true
      return
    }
    if (signal !== undefined) {
      this.#signal = signal
      signal.addEventListener('abort', this, { once: true })
    }
    if (immediate) this.#tick()
    else this.#arm()
  }

  get stopped(): boolean {
    return this.#stopped
  }

  get ticks(): number {
    return this.#ticks
  }

  /** @internal Abort listener of `options.signal`. */
  handleEvent(): void {
    this.#stop(this.#signal?.reason)
  }

  [Symbol.dispose](): void {
    this.#stop(DISPOSED)
  }

  #stop(reason: unknown): void {
    if (this.#stopped) return
    this.#stopped = true
    disarmTimer(this.#timer)
    this.#timer = undefined
    const signal = this.#signal
    if (signal !== undefined) {
      this.#signal = undefined
      signal.removeEventListener('abort', this)
    }
    this.#controller?.abort(reason)
  }

  #untilReached(): boolean {
    const until = this.#until
    if (until === undefined) return false
    try {
      if (!until()) return false
    } catch (error) {
      this.#report(error)
    }
    // until() said done (or threw: stop rather than tick on a broken condition).
    this.#stop(DISPOSED)
    return true
  }

  #arm(): void {
    this.#timer = armTimer(this.#intervalMs, this.#onTimer, undefined, undefined, this.#unref)
  }

  #tick(): void {
    if (this.#stopped || this.#untilReached()) return
    this.#ticks++
    const controller = (this.#controller ??= new AbortController())
    let result: unknown
    try {
      result = this.#fn(controller.signal)
    } catch (error) {
      this.#report(error)
      this.#schedule()
      return
    }
    if (isThenable(result)) {
      // The next tick is armed only once this one settled: ticks never overlap.
      Promise.resolve(result).then(this.#afterTick, this.#onTickError)
      return
    }
    this.#schedule()
  }

  #schedule(): void {
    if (this.#stopped || this.#untilReached()) return
    this.#arm()
  }

  #report(error: unknown): void {
    // A tick that failed because it was stopped is cancellation, not a failure.
    if (this.#stopped) return
    reportError(this.#onError, error, { area: 'guard', event: 'tick-error', name: this.#name })
  }
}

/**
 * Calls `fn(signal)` every `intervalMs` milliseconds until stopped. The next tick is
 * armed `intervalMs` after the previous one settled (fixed delay), so an async tick never
 * overlaps the previous one. The first tick comes after `intervalMs`, or at once with
 * `immediate`.
 *
 * Stopping: dispose, `signal` abort, or `until()` returning true — checked before each
 * tick and right after each tick settles, so no tick starts (and no timer stays armed)
 * once the work it reports on is complete. Dispose or abort during an async tick aborts
 * the tick's signal (dispose: shared `DisposedError`; abort: the signal's reason) and
 * arms nothing more. At most one timer exists at any time, none after stopping.
 *
 * Errors: a tick that throws or rejects is reported (`onError`, diagnostics
 * `asyncsafe:guard:tick-error`, a warning without `onError`) and the ticker goes on — a
 * periodic updater should survive a transient failure. An `until` that throws is
 * reported and stops the ticker. Failures after a stop are not reported.
 *
 * @param intervalMs positive finite milliseconds (0 is refused: it would spin); intervals past
 *   `setTimeout`'s 2^31-1 ms (about 24.8 days) are honoured (the timer re-arms)
 * @param fn the tick, called as `fn(signal)`
 * @param options `until`, `signal`, `immediate` (default false), `unref` (default false), `name`, `onError`
 * @throws RangeError when `intervalMs` is 0, negative, NaN or Infinity; TypeError for a non-number or non-function
 * @example
 * ```ts
 * const started = Date.now()
 * using ticker = every(1_000, () => status.set(`elapsed ${Date.now() - started} ms`), {
 *   until: () => job.done, immediate: true,
 * })
 * await job.run()
 * ```
 */
export function every(intervalMs: number, fn: (signal: AbortSignal) => unknown, options?: EveryOptions): Ticker {
  const ms = checkPositiveFinite('every: intervalMs', intervalMs)
  checkFunction('every: fn', fn)
  const opts = checkOptions<EveryOptions>('every: options', options, EVERY_OPTIONS)
  return new Every(ms, fn, opts)
}
