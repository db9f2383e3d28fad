/**
 * `Initializer`: a single-flight, retryable, disposable initialization.
 *
 * @module
 */

import type { AbortSignal } from '../internal/types.js'
import { DisposedError } from '../errors.js'
import { Flight } from '../internal/flight.js'
import { immediateTimeout, joinFlight, openWait } from '../internal/tasks-join.js'
import { reportError, type OnError } from '../internal/report.js'
import { checkFunction, checkOptionalFunction, checkOptionalString, checkOptions, checkTimeout, knownOptions } from '../internal/validate.js'

const INITIALIZER_OPTIONS = knownOptions(['timeoutMs', 'name', 'onError'], { signal: 'pass it to each get({ signal })' })

/** State of an {@link Initializer}. */
export type InitializerState = 'idle' | 'running' | 'ready' | 'failed'

/** The initialization function: called as `init(signal)`; honour the signal to stop early. */
export type InitFunction<T> = (signal: AbortSignal) => T | PromiseLike<T>

/** Options of an {@link Initializer}. */
export interface InitializerOptions {
  /**
   * Bounds each run (ms): when it passes, the run's signal aborts with a `TimeoutError`
   * and the run fails with it (state `'failed'`, the next `get` retries).
   * Absent or `Infinity`: no timeout.
   */
  readonly timeoutMs?: number | undefined
  /** Name used in reports and timeout messages. */
  readonly name?: string | undefined
  /**
   * Receives the failure of a run that nobody was awaiting when it failed (a run
   * started by `start()` with no `get` caller waiting). Failures a caller awaits are
   * that caller's to handle and are not reported. Default: a process warning.
   */
  readonly onError?: OnError | undefined
}

/** Options of {@link Initializer.get}. */
export interface InitializerGetOptions {
  /** Leaves the wait when it aborts: this caller rejects with `signal.reason`, the run goes on for the others. */
  readonly signal?: AbortSignal | undefined
  /**
   * Leaves the wait after this many ms with a `TimeoutError`, like an abort: the run goes
   * on for the others (and is abandoned if it was started by `get` and nobody else waits).
   * `0` fails at once unless the value is ready; absent or `Infinity`: no limit.
   * The run itself is bounded by the constructor's `timeoutMs`.
   */
  readonly timeoutMs?: number | undefined
}

/**
 * A single-flight initialization: however many callers ask at once, one run of `init`
 * happens, and all of them get its value or its error.
 *
 * Hazard it prevents: a "start if not already running" whose check and spawn were
 * separate steps (two concurrent callers both spawned), and a disposed manager whose
 * status stayed "initializing" forever. Here the check and the start are one
 * synchronous step, and dispose always leaves the state `'idle'`.
 *
 * Semantics:
 * - `start()` starts a run in the background and returns `true`; it returns `false`
 *   while a run is in flight or once ready (and then adopts the run in flight, see below).
 * - `get({ signal })` returns the ready value, joins the run in flight, or starts a run
 *   (also after a failure: errors are never cached).
 * - Fairness: every waiter of a run gets the same outcome, in the order they joined.
 * - Cancellation: a waiter's abort rejects that waiter only, with `signal.reason`.
 *   A run started by `get` is abandoned once every waiter has left: its signal aborts
 *   and the state returns to `'idle'`; a later `get` starts a fresh run and never joins
 *   the abandoned one. A run started by `start()` (or adopted by it) belongs to the
 *   initializer and is aborted only by `timeoutMs`, `reset()` or dispose.
 * - Errors: a failed run rejects every current waiter with its error; the state becomes
 *   `'failed'` and the next `get` (or `start`) retries. The failure goes to `onError` only
 *   when no caller was awaiting the run at that moment.
 * - Dispose aborts the run in flight (waiters reject with a `DisposedError`), forgets the
 *   value and leaves the state `'idle'`. A disposed initializer refuses new work:
 *   `start()` returns `false` and `get()` rejects with a `DisposedError`, so nothing
 *   initializes again after shutdown. The value itself is not closed: it is yours.
 *
 * @example
 * ```ts
 * await using mcp = new Initializer(async (signal) => connect({ signal }), { timeoutMs: 30_000, name: 'mcp' })
 * mcp.start()                      // warm up in the background; a second start() is a no-op
 * const client = await mcp.get({ signal: request.signal })
 * ```
 */
export class Initializer<T> implements Disposable, AsyncDisposable {
  private readonly init: InitFunction<T>
  private readonly timeoutMs: number | undefined
  private readonly name: string | undefined
  /** `Initializer` or `Initializer "name"`: labels errors (computed once). */
  private readonly label: string
  /** `<label> get`: labels the timeouts of `get`. */
  private readonly getLabel: string
  private readonly onError: OnError | undefined
  private flight: Flight<T> | undefined
  private settled: 'idle' | 'ready' | 'failed' = 'idle'
  private readyValue: T | undefined
  private disposed = false
  /** Whether the run in flight belongs to the initializer (started or adopted by `start()`). */

  /**
   * @param init the initialization, called as `init(signal)`
   * @param options `timeoutMs`, `name`, `onError`
   * @throws TypeError / RangeError on bad input
   */
  constructor(init: InitFunction<T>, options?: InitializerOptions) {
    this.init = checkFunction<InitFunction<T>>('init', init)
    const opts = checkOptions<InitializerOptions>('options', options, INITIALIZER_OPTIONS)
    this.timeoutMs = checkTimeout('timeoutMs', opts.timeoutMs)
    this.name = checkOptionalString('name', opts.name)
    this.label = this.name === undefined ? 'Initializer' : `Initializer "${this.name}"`
    this.getLabel = `${this.label} get`
    this.onError = checkOptionalFunction<OnError>('onError', opts.onError)
  }

  /** `'idle'` (nothing yet, abandoned, reset or disposed), `'running'`, `'ready'` or `'failed'` (the last run failed). */
  get state(): InitializerState {
    return this.flight !== undefined ? 'running' : this.settled
  }

  /** The value once `'ready'`, otherwise `undefined`. */
  get value(): T | undefined {
    return this.settled === 'ready' ? this.readyValue : undefined
  }

  /**
   * Starts a run in the background unless one is in flight or the value is ready.
   * The check and the start are one synchronous step. A run in flight that was started
   * by `get` is adopted: it is no longer abandoned when its waiters leave.
   *
   * @returns `true` when this call started a run; `false` while one runs, once ready, or after dispose
   * @example
   * ```ts
   * init.start() // true
   * init.start() // false: the same run goes on
   * ```
   */
  start(): boolean {
    if (this.disposed || this.settled === 'ready') return false
    if (this.flight !== undefined) {
      this.flight.own()
      return false
    }
    this.launch(true)
    return true
  }

  /**
   * The value: at once when ready, otherwise from the run in flight, or from a new run.
   *
   * @param options `signal`: this caller leaves when it aborts (rejects with `signal.reason`);
   *   a signal already aborted rejects at once without starting anything. `timeoutMs`: this
   *   caller leaves with a `TimeoutError` after that long
   * @returns the value of the run
   * @example
   * ```ts
   * const conn = await init.get({ signal: AbortSignal.timeout(1_000) })
   * ```
   */
  get(options?: InitializerGetOptions): Promise<T> {
    const request = openWait(options, this.disposed ? `${this.label} was disposed` : undefined)
    if (request instanceof Promise) return request
    const { signal, timeoutMs } = request
    // Ready means no run in flight (a run starts only from 'idle' or 'failed').
    if (this.settled === 'ready') return Promise.resolve(this.readyValue as T)
    if (timeoutMs === 0) return Promise.reject(immediateTimeout(this.getLabel))
    const flight = this.flight ?? this.launch(false)
    return joinFlight(flight, signal, timeoutMs, this.getLabel)
  }

  /**
   * Forgets the value or the failure and aborts the run in flight (its waiters reject
   * with an `AbortError` DOMException; its signal aborts with it). The state becomes `'idle'`.
   *
   * @example
   * ```ts
   * onConfigChange(() => init.reset()) // the next get() connects again
   * ```
   */
  reset(): void {
    this.clear(new DOMException(`${this.label} was reset`, 'AbortError'))
  }

  /** Aborts the run in flight, forgets the value, leaves the state `'idle'` and refuses new work. Idempotent. */
  [Symbol.dispose](): void {
    if (this.disposed) return
    this.disposed = true
    this.clear(new DisposedError(`${this.label} was disposed`))
  }

  /** Same as `[Symbol.dispose]()`; resolves at once (the aborted run is not awaited: it may ignore its signal). */
  [Symbol.asyncDispose](): Promise<void> {
    this[Symbol.dispose]()
    return Promise.resolve()
  }

  private clear(reason: unknown): void {
    const flight = this.flight
    this.flight = undefined
    this.settled = 'idle'
    this.readyValue = undefined
    // Forgotten first, so its onDone below is ignored.
    flight?.abort(reason)
  }

  private launch(owned: boolean): Flight<T> {
    const flight: Flight<T> = new Flight<T>({
      owned,
      timeoutMs: this.timeoutMs,
      label: this.label,
      onDone: (done) => {
        this.settle(done)
      },
    })
    this.flight = flight
    flight.start(this.init)
    return flight
  }

  private settle(flight: Flight<T>): void {
    if (flight !== this.flight) return
    this.flight = undefined
    switch (flight.state) {
      case 'fulfilled':
        this.settled = 'ready'
        this.readyValue = flight.value
        break
      case 'rejected':
        this.settled = 'failed'
        this.readyValue = undefined
        // A run started by get() always has its caller (it joins right after a synchronous throw).
        if (flight.isOwned && flight.waiting === 0) reportError(this.onError, flight.error, { area: 'init', event: 'error', name: this.name })
        break
      default:
        // Abandoned: every waiter left.
        this.settled = 'idle'
        this.readyValue = undefined
    }
  }
}
