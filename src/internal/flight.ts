/**
 * A single run of a task shared by any number of waiters: the single-flight core of
 * `Initializer`, `SingleFlightGroup` and `LruTtlCache.getOrLoad`.
 *
 * - The task runs once, as `fn(signal)`; every waiter gets its value or its error.
 * - A waiter that brings a signal may leave early: its promise rejects with
 *   `signal.reason`, and only its own promise.
 * - When the last waiter leaves a run that is not `owned`, the run is abandoned: its
 *   signal aborts (with the last waiter's reason), its result will be ignored, and
 *   `onDone` tells the owner to forget it, so a later caller starts a fresh run and
 *   never joins the aborted one.
 * - `timeoutMs` bounds the run: the run fails with a `TimeoutError` and its signal
 *   aborts with it, whether or not the task honours the signal.
 * - `abort(reason)` ends the run now (reset, dispose): waiters reject with `reason`.
 *
 * The run's signal is a task signal (`createTaskAbort`): on Node 20 the real AbortSignal is
 * created only if the task uses it, so a run nobody aborts costs no signal.
 *
 * Nothing here produces an unhandled rejection: the shared promise has a handler of
 * its own, and per-waiter promises are created only for callers that await them.
 */

import type { AbortSignal } from './types.js'
import { TimeoutError } from '../errors.js'
import { createTaskAbort, type TaskAbort } from './lazy-signal.js'
import { isThenable } from './thenable.js'
import { armTimer, disarmTimer, type TimerHandle } from './timers.js'

type Settle<T> = { resolve: (value: T) => void; reject: (error: unknown) => void }

/** A waiter that may leave early: on its signal, or after its own timeout. */
interface SignalWaiter<T> extends Settle<T> {
  readonly signal: AbortSignal | undefined
  readonly listener: (() => void) | undefined
  timer: TimerHandle | undefined
}

/** State of a flight. */
export type FlightState = 'running' | 'fulfilled' | 'rejected' | 'abandoned'

/** Options of a flight. */
export interface FlightOptions<T> {
  /** Bounds the run (ms); `undefined` for none. */
  readonly timeoutMs?: number | undefined
  /** An owned run is never abandoned when its waiters leave (only `abort()` ends it early). */
  readonly owned?: boolean
  /** Called once, synchronously, when the run settles or is abandoned. */
  readonly onDone?: (flight: Flight<T>) => void
  /** Used in the TimeoutError message. */
  readonly label?: string
}

const noop = (): void => {}

/** One shared run; see the module comment. Create it, store it, then `start(fn)`. */
export class Flight<T> {
  /** The run's signal, handed to the task. */
  readonly signal: AbortSignal
  private readonly controller: TaskAbort = createTaskAbort()
  private readonly shared: Promise<T>
  private settleShared!: Settle<T>
  private current: FlightState = 'running'
  private result: T | undefined
  private failure: unknown
  private waiters = 0
  private readonly signalWaiters = new Set<SignalWaiter<T>>()
  private timer: TimerHandle | undefined
  private owned: boolean

  constructor(private readonly options: FlightOptions<T> = {}) {
    this.signal = this.controller.signal
    this.owned = options.owned ?? false
    this.shared = new Promise<T>((resolve, reject) => {
      this.settleShared = { resolve, reject }
    })
    // Nobody may be listening (every waiter left, or none joined yet).
    this.shared.catch(noop)
  }

  /** Current state. */
  get state(): FlightState {
    return this.current
  }

  /** True while the run has neither settled nor been abandoned. */
  get running(): boolean {
    return this.current === 'running'
  }

  /** The value, once fulfilled. */
  get value(): T | undefined {
    return this.result
  }

  /** The failure, once rejected. */
  get error(): unknown {
    return this.failure
  }

  /** Number of waiters that joined and have not left. */
  get waiting(): number {
    return this.waiters
  }

  /** Whether the run is owned (never abandoned when its waiters leave). */
  get isOwned(): boolean {
    return this.owned
  }

  /** Makes the run owned: it is no longer abandoned when its waiters leave. */
  own(): void {
    this.owned = true
  }

  /** Starts the task. Call once, after the owner has stored the flight (the task may re-enter the owner). */
  start(fn: (signal: AbortSignal) => T | PromiseLike<T>): this {
    const ms = this.options.timeoutMs
    if (ms !== undefined) this.timer = armTimer(ms, expireFlight, this as Flight<unknown>, ms)
    let out: T | PromiseLike<T>
    try {
      out = fn(this.signal)
    } catch (error) {
      this.finish('rejected', undefined, error)
      return this
    }
    if (isThenable(out)) {
      Promise.resolve(out).then(
        (value) => {
          this.finish('fulfilled', value, undefined)
        },
        (error: unknown) => {
          this.finish('rejected', undefined, error)
        },
      )
    } else {
      this.finish('fulfilled', out, undefined)
    }
    return this
  }

  /**
   * Joins the run. Resolves with its value or rejects with its error; with `signal`,
   * rejects with `signal.reason` when it aborts first (and leaves the run); with
   * `timeoutMs`, rejects with a `TimeoutError` labelled `label` after that long (and
   * leaves the run, as an abort would). A signal already aborted rejects at once and
   * does not join. The caller handles `timeoutMs === 0` itself.
   */
  join(signal?: AbortSignal, timeoutMs?: number, label = 'The wait'): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (this.current !== 'running') return this.shared
    this.waiters++
    if (signal === undefined && timeoutMs === undefined) return this.shared
    return new Promise<T>((resolve, reject) => {
      const waiter: SignalWaiter<T> = {
        resolve,
        reject,
        signal,
        listener:
          signal === undefined
            ? undefined
            : () => {
                this.leave(waiter, signal.reason)
              },
        timer: undefined,
      }
      this.signalWaiters.add(waiter)
      if (signal !== undefined) signal.addEventListener('abort', waiter.listener!, { once: true })
      if (timeoutMs !== undefined) waiter.timer = armTimer(timeoutMs, waiterTimeout, this as Flight<unknown>, { waiter: waiter as SignalWaiter<unknown>, timeoutMs, label })
    })
  }

  /** Ends the run now: its signal aborts with `reason` and every waiter rejects with it. */
  abort(reason: unknown): void {
    if (this.current !== 'running') return
    this.finish('rejected', undefined, reason)
    this.controller.abort(reason)
  }

  /** @internal A waiter leaves with `reason` (its signal aborted, or its timeout passed). */
  leave(waiter: SignalWaiter<T>, reason: unknown): void {
    if (!this.signalWaiters.delete(waiter)) return
    this.waiters--
    release(waiter)
    waiter.reject(reason)
    if (this.waiters === 0 && !this.owned && this.current === 'running') {
      this.current = 'abandoned'
      this.clearTimer()
      this.settleShared.reject(reason)
      this.controller.abort(reason)
      this.options.onDone?.(this)
    }
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      disarmTimer(this.timer)
      this.timer = undefined
    }
  }

  /** @internal The run's `timeoutMs` passed. */
  expire(ms: number): void {
    this.timer = undefined
    const label = this.options.label ?? 'The run'
    this.abort(new TimeoutError(`${label} timed out after ${ms} ms`, { timeoutMs: ms }))
  }

  private finish(state: 'fulfilled' | 'rejected', value: T | undefined, error: unknown): void {
    if (this.current !== 'running') return
    this.current = state
    this.clearTimer()
    if (state === 'fulfilled') {
      this.result = value
      this.settleShared.resolve(value as T)
    } else {
      this.failure = error
      this.settleShared.reject(error)
    }
    for (const waiter of this.signalWaiters) {
      release(waiter)
      if (state === 'fulfilled') waiter.resolve(value as T)
      else waiter.reject(error)
    }
    this.signalWaiters.clear()
    this.options.onDone?.(this)
  }
}

function expireFlight(flight: Flight<unknown>, ms: number): void {
  flight.expire(ms)
}

/** Removes a waiter's abort listener and timer. */
function release<T>(waiter: SignalWaiter<T>): void {
  if (waiter.listener !== undefined) waiter.signal?.removeEventListener('abort', waiter.listener)
  disarmTimer(waiter.timer)
  waiter.timer = undefined
}

function waiterTimeout(flight: Flight<unknown>, t: { waiter: SignalWaiter<unknown>; timeoutMs: number; label: string }): void {
  t.waiter.timer = undefined
  flight.leave(t.waiter, new TimeoutError(`${t.label} timed out after ${t.timeoutMs} ms`, { timeoutMs: t.timeoutMs }))
}
