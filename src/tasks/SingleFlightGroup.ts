/**
 * `SingleFlightGroup`: one run per key at a time, shared by every concurrent caller.
 *
 * @module
 */

import type { AbortSignal } from '../internal/types.js'
import { DisposedError } from '../errors.js'
import { Flight } from '../internal/flight.js'
import { immediateTimeout, joinFlight, openWait } from '../internal/tasks-join.js'
import { checkFunction, checkOptionalString, checkOptions, checkTimeout, knownOptions } from '../internal/validate.js'
import type { FlightCoordinator } from './coordinator.js'

const GROUP_OPTIONS = knownOptions(['timeoutMs', 'name', 'coordinator'], { signal: 'pass it to each run(key, fn, { signal })', onError: 'every failure goes to the callers of its run' })

/** Options of a {@link SingleFlightGroup}. */
export interface SingleFlightGroupOptions {
  /**
   * Bounds each run (ms): when it passes, the run's signal aborts with a `TimeoutError`
   * and every waiter of the run rejects with it. Absent or `Infinity`: no timeout.
   */
  readonly timeoutMs?: number | undefined
  /** Name used in timeout messages. */
  readonly name?: string | undefined
  /**
   * Coordinates each run across processes (e.g. asyncsafe/redis's `RedisFlightCoordinator`):
   * the run becomes `coordinator.run(key, fn, signal)`, so one process calls `fn` and the
   * others get its outcome. Local rules (aborts, failures, `timeoutMs`) are unchanged.
   */
  readonly coordinator?: FlightCoordinator | undefined
}

/** Options of {@link SingleFlightGroup.run}. */
export interface SingleFlightRunOptions {
  /** Leaves the wait when it aborts: this caller rejects with `signal.reason`; the run goes on while others wait. */
  readonly signal?: AbortSignal | undefined
  /**
   * Leaves the wait after this many ms with a `TimeoutError`, like an abort (the run goes on
   * while others wait). `0` fails at once without starting or joining a run; absent or
   * `Infinity`: no limit. The run itself is bounded by the group's `timeoutMs`.
   */
  readonly timeoutMs?: number | undefined
}

/**
 * Collapses concurrent calls per key into one run ("single flight"): the first caller
 * for a key starts `fn(signal)`, every caller arriving while it runs joins it, and all
 * of them get its value or its error. Once the run settles the key is free again:
 * nothing is cached, errors included.
 *
 * Hazard it prevents: duplicate work (and duplicate side effects) when many callers
 * ask for the same thing at once, such as a cache stampede or a double initialization.
 *
 * - Fairness: every waiter of a run gets the same outcome; `fn` of a later caller that
 *   joined is never called.
 * - Cancellation: a caller's abort rejects that caller only, with `signal.reason`.
 *   When every caller of a run has left, the run's signal aborts and the key is freed:
 *   a later caller starts a fresh run and never joins the abandoned one.
 * - `forget(key)` frees the key at once: later callers start a fresh run while the old
 *   one finishes for the callers already waiting on it.
 * - Dispose aborts every run in flight (waiters reject with a `DisposedError`); later
 *   `run` calls reject with a `DisposedError`.
 *
 * @example
 * ```ts
 * const flights = new SingleFlightGroup<string, User>()
 * const user = await flights.run(id, (signal) => fetchUser(id, { signal }), { signal: req.signal })
 * ```
 */
export class SingleFlightGroup<K, T> implements Disposable {
  private readonly flights = new Map<K, Flight<T>>()
  private readonly timeoutMs: number | undefined
  private readonly coordinator: FlightCoordinator | undefined
  /** `SingleFlightGroup run` or `SingleFlightGroup "name" run`: labels timeouts. */
  private readonly runLabel: string
  /** Message of the DisposedError of a disposed group. */
  private readonly disposedMessage: string
  private disposed = false

  /**
   * @param options `timeoutMs` (per run), `name`
   * @throws TypeError / RangeError on bad input
   */
  constructor(options?: SingleFlightGroupOptions) {
    const opts = checkOptions<SingleFlightGroupOptions>('options', options, GROUP_OPTIONS)
    this.timeoutMs = checkTimeout('timeoutMs', opts.timeoutMs)
    const name = checkOptionalString('name', opts.name)
    if (opts.coordinator !== undefined) checkFunction('coordinator.run', (opts.coordinator as { run?: unknown }).run)
    this.coordinator = opts.coordinator
    const label = name === undefined ? 'SingleFlightGroup' : `SingleFlightGroup "${name}"`
    this.runLabel = `${label} run`
    this.disposedMessage = `${label} was disposed`
  }

  /** Number of keys with a run in flight. */
  get size(): number {
    return this.flights.size
  }

  /**
   * Joins the run in flight for `key`, or starts `fn(signal)` as that run.
   *
   * @param key the key; compared like `Map` keys (SameValueZero)
   * @param fn the work, called as `fn(signal)` only when no run is in flight for `key`
   * @param options `signal`: this caller leaves when it aborts; a signal already aborted
   *   rejects at once and starts nothing. `timeoutMs`: this caller leaves with a
   *   `TimeoutError` after that long
   * @returns the run's value; rejects with its error, `signal.reason` or a `TimeoutError`
   * @example
   * ```ts
   * const [a, b] = await Promise.all([flights.run('k', load), flights.run('k', load)]) // load ran once
   * ```
   */
  run(key: K, fn: (signal: AbortSignal) => T | PromiseLike<T>, options?: SingleFlightRunOptions): Promise<T> {
    try {
      checkFunction('fn', fn)
    } catch (error) {
      return Promise.reject(error)
    }
    const request = openWait(options, this.disposed ? this.disposedMessage : undefined)
    if (request instanceof Promise) return request
    const { signal, timeoutMs } = request
    if (timeoutMs === 0) return Promise.reject(immediateTimeout(this.runLabel))
    let flight = this.flights.get(key)
    if (flight === undefined) {
      const created: Flight<T> = new Flight<T>({
        timeoutMs: this.timeoutMs,
        label: this.runLabel,
        onDone: () => {
          if (this.flights.get(key) === created) this.flights.delete(key)
        },
      })
      this.flights.set(key, created)
      const coordinator = this.coordinator
      created.start(coordinator === undefined ? fn : (signal) => coordinator.run(key, fn, signal))
      flight = created
    }
    return joinFlight(flight, signal, timeoutMs, this.runLabel)
  }

  /**
   * Frees `key`: the next `run(key)` starts a fresh run; the current one (if any) goes on
   * for the callers already waiting on it.
   *
   * @returns whether a run was in flight for `key`
   * @example
   * ```ts
   * flights.forget(id) // the user changed: don't hand out the old fetch to new callers
   * ```
   */
  forget(key: K): boolean {
    return this.flights.delete(key)
  }

  /**
   * Whether a run is in flight for `key` (and would be joined by `run(key)`).
   *
   * @example
   * ```ts
   * if (!flights.inFlight(id)) metrics.coldFetches++
   * ```
   */
  inFlight(key: K): boolean {
    return this.flights.has(key)
  }

  /** Aborts every run in flight with a `DisposedError` and refuses later runs. Idempotent. */
  [Symbol.dispose](): void {
    if (this.disposed) return
    this.disposed = true
    const reason = new DisposedError(this.disposedMessage)
    const flights = [...this.flights.values()]
    this.flights.clear()
    for (const flight of flights) flight.abort(reason)
  }
}
