/**
 * `Mutex`: an async mutual-exclusion lock with strict FIFO hand-off, per-waiter abort
 * and timeout, hold/wait statistics, long-hold reports and opt-in re-entry detection.
 *
 * @module
 */
import { checkFunction } from '../internal/validate.js'
import { LockCore, parseWaitOptions } from './core.js'
import type { LockGuard } from './guard.js'
import type { LockOptions, LockStats, WaitOptions } from './stats.js'

/** Options of `new Mutex(options)`. */
export type MutexOptions = LockOptions

/**
 * An async mutex.
 *
 * Fairness: strict FIFO. A release hands the lock straight to the oldest waiter, so a
 * newcomer can never overtake a waiter, and `tryLock()` fails while anyone waits.
 *
 * Cancellation: every wait takes `{ signal, timeoutMs }`. An aborted wait rejects with
 * `signal.reason` (also when the signal was aborted before the call: nothing is taken
 * then, even if the lock is free); a timed-out wait rejects with a fresh `TimeoutError`;
 * either way the waiter leaves the queue at once, its listener and timer are removed.
 * `timeoutMs: 0` fails at once unless the lock is free.
 *
 * Statistics are on (`stats()`); `longHoldMs` reports holds that last too long while
 * they are still held; `detectReentry` turns a self-deadlock into a `ReentrancyError`.
 *
 * @example
 * ```ts
 * const mutex = new Mutex({ name: 'config', longHoldMs: 100 })
 * {
 *   using guard = await mutex.lock({ timeoutMs: 50 })
 *   config = await reload(config)
 * }
 * await mutex.runExclusive(() => config.version++)
 * ```
 */
export class Mutex {
  /** @internal */ private readonly core: LockCore

  /** @param options name, long-hold reporting, re-entry detection, clock. Throws on bad options. */
  constructor(options?: MutexOptions) {
    this.core = new LockCore('Mutex', 1, false, options)
  }

  /** The `name` option. */
  get name(): string | undefined {
    return this.core.name
  }

  /** Whether the mutex is held. */
  get locked(): boolean {
    return this.core.available === 0
  }

  /** Number of queued waiters. */
  get waiting(): number {
    return this.core.queue.size
  }

  /**
   * Waits for the mutex (FIFO) and resolves with a `LockGuard`; use it with `using`.
   * Rejects with `signal.reason` on abort, `TimeoutError` after `timeoutMs`,
   * `ReentrancyError` (with `detectReentry`) when this context already holds it.
   *
   * @example
   * ```ts
   * using guard = await mutex.lock({ signal: request.signal, timeoutMs: 1_000 })
   * ```
   */
  lock(options?: WaitOptions): Promise<LockGuard> {
    const core = this.core
    if (options === undefined && core.reentry === undefined && core.grantable(1)) {
      return Promise.resolve(core.grantNow(1, undefined))
    }
    try {
      return core.acquire(1, parseWaitOptions(options))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Takes the mutex now if it is free and nobody waits (never jumps the queue).
   *
   * @example
   * ```ts
   * const guard = mutex.tryLock()
   * if (guard) try { flush() } finally { guard.release() }
   * ```
   */
  tryLock(): LockGuard | undefined {
    return this.core.tryAcquire(1)
  }

  /**
   * Runs `fn` while holding the mutex and releases it when `fn` settles (also on throw).
   * When the mutex is free, `fn` runs synchronously, inside this call.
   *
   * @example
   * ```ts
   * const next = await mutex.runExclusive(async () => counter.increment(), { timeoutMs: 100 })
   * ```
   */
  runExclusive<T>(fn: () => T | PromiseLike<T>, options?: WaitOptions): Promise<T> {
    const core = this.core
    if (options === undefined && typeof fn === 'function' && core.reentry === undefined && core.grantable(1)) {
      return core.runNow(fn, 1)
    }
    try {
      checkFunction('fn', fn)
      return this.core.run(fn, 1, parseWaitOptions(options))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Counters and wait/hold summaries since creation.
   *
   * @example
   * ```ts
   * const { contended, hold } = mutex.stats()
   * ```
   */
  stats(): LockStats {
    return this.core.stats()
  }
}
