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
 * Nothing here produces an unhandled rejection: the shared promise has a handler of
 * its own, and per-waiter promises are created only for callers that await them.
 */

import type { AbortSignal } from './types.js'
import { TimeoutError } from '../errors.js'
import { isThenable } from './thenable.js'

type Settle<T> = { resolve: (value: T) => void; reject: (error: unknown) => void }

interface SignalWaiter<T> extends Settle<T> {
  readonly signal: AbortSignal
  readonly listener: () => void
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
  private readonly controller = new AbortController()
  private readonly shared: Promise<T>
  private settleShared!: Settle<T>
  private current: FlightState = 'running'
  private result: T | undefined
  private failure: unknown
  private waiters = 0
  private readonly signalWaiters = new Set<SignalWaiter<T>>()
  private timer: ReturnType<typeof setTimeout> | undefined
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
    if (ms !== undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined
        const label = this.options.label ?? 'The run'
        this.abort(new TimeoutError(`${label} timed out after ${ms} ms`, { timeoutMs: ms }))
      }, ms)
    }
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
   * rejects with `signal.reason` when it aborts first (and leaves the run).
   * A signal already aborted rejects at once and does not join.
   */
  join(signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (this.current !== 'running') return this.shared
    this.waiters++
    if (signal === undefined) return this.shared
    return new Promise<T>((resolve, reject) => {
      const waiter: SignalWaiter<T> = {
        resolve,
        reject,
        signal,
        listener: () => {
          this.leave(waiter)
        },
      }
      this.signalWaiters.add(waiter)
      signal.addEventListener('abort', waiter.listener, { once: true })
    })
  }

  /** Ends the run now: its signal aborts with `reason` and every waiter rejects with it. */
  abort(reason: unknown): void {
    if (this.current !== 'running') return
    this.finish('rejected', undefined, reason)
    this.controller.abort(reason)
  }

  private leave(waiter: SignalWaiter<T>): void {
    if (!this.signalWaiters.delete(waiter)) return
    this.waiters--
    const reason: unknown = waiter.signal.reason
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
      clearTimeout(this.timer)
      this.timer = undefined
    }
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
      waiter.signal.removeEventListener('abort', waiter.listener)
      if (state === 'fulfilled') waiter.resolve(value as T)
      else waiter.reject(error)
    }
    this.signalWaiters.clear()
    this.options.onDone?.(this)
  }
}
