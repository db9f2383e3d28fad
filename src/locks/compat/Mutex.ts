/**
 * async-mutex 0.5's `Mutex` (a `Semaphore(1)` underneath, as in async-mutex), plus `stats()`.
 *
 * @module
 */
import type { LockStats } from '../stats.js'
import { E_CANCELED } from './errors.js'
import type { MutexInterface } from './interfaces.js'
import { Semaphore, type CompatStatsOptions } from './Semaphore.js'

function releaserOf(ticket: [number, MutexInterface.Releaser]): MutexInterface.Releaser {
  return ticket[1]
}

/**
 * A drop-in for async-mutex 0.5's `Mutex` with statistics.
 *
 * Fairness: by priority (higher first), FIFO among equal priorities.
 * Cancellation: `cancel()` rejects pending requests with the constructor's error
 * (default `E_CANCELED`); time limits come from `withTimeout`/`tryAcquire`.
 *
 * @example
 * ```ts
 * import { Mutex } from 'asyncsafe/compat/async-mutex' // was: from 'async-mutex'
 * const mutex = new Mutex()
 * await mutex.runExclusive(async () => save())
 * console.log(mutex.stats().hold.max)
 * ```
 */
export class Mutex implements MutexInterface {
  private readonly _semaphore: Semaphore

  /**
   * @param cancelError rejection of `cancel()`ed requests (default the shared `E_CANCELED`)
   * @param options asyncsafe extension: `name` and `clock` for `stats()`
   */
  constructor(cancelError: Error = E_CANCELED, options?: CompatStatsOptions) {
    this._semaphore = new Semaphore(1, cancelError, options)
  }

  /**
   * Resolves with an idempotent releaser once the mutex is locked for the caller.
   *
   * @example
   * ```ts
   * const release = await mutex.acquire()
   * try { work() } finally { release() }
   * ```
   */
  acquire(priority = 0): Promise<MutexInterface.Releaser> {
    return this._semaphore.acquire(1, priority).then(releaserOf)
  }

  /**
   * Runs `callback` under the lock; releases when it settles.
   *
   * @example
   * ```ts
   * const n = await mutex.runExclusive(() => counter++)
   * ```
   */
  runExclusive<T>(callback: MutexInterface.Worker<T>, priority = 0): Promise<T> {
    return this._semaphore.runExclusive(() => callback(), 1, priority)
  }

  /** Whether the mutex is locked. */
  isLocked(): boolean {
    return this._semaphore.isLocked()
  }

  /** Resolves once the mutex could be locked, without locking it. */
  waitForUnlock(priority = 0): Promise<void> {
    return this._semaphore.waitForUnlock(1, priority)
  }

  /** Unscoped release: unlocks if locked. */
  release(): void {
    if (this._semaphore.isLocked()) this._semaphore.release()
  }

  /** Rejects every pending request with the cancel error. */
  cancel(): void {
    this._semaphore.cancel()
  }

  /**
   * asyncsafe extension: counters and wait/hold summaries.
   *
   * @example
   * ```ts
   * mutex.stats().contended
   * ```
   */
  stats(): LockStats {
    return this._semaphore.stats()
  }

  /** @internal Used by `withTimeout` to count timeouts. */
  _noteTimeout(): void {
    this._semaphore._timeouts++
  }
}
