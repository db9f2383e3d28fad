/**
 * `RwLock`: readers share, writers are exclusive, one FIFO queue for both.
 *
 * @module
 */
import { checkFunction } from '../internal/validate.js'
import { EXCLUSIVE, LockCore, parseWaitOptions } from './core.js'
import type { LockGuard } from './guard.js'
import type { LockOptions, LockStats, WaitOptions } from './stats.js'

/** Options of `new RwLock(options)`. */
export type RwLockOptions = LockOptions

/**
 * An async readers-writer lock.
 *
 * Fairness: one strict FIFO queue for readers and writers. Readers share the lock with
 * each other; a writer waits for every earlier holder and excludes everyone; a read
 * requested after a queued write waits for that write, so a stream of readers can never
 * starve a writer. `tryRead()`/`tryWrite()` fail while anyone waits.
 *
 * Cancellation: like `Mutex`: `{ signal, timeoutMs }` per wait; an aborted or timed-out
 * waiter leaves the queue at once, and readers queued behind a writer that left are
 * granted if they now can.
 *
 * With `detectReentry`, any request (read or write) from a context that already holds
 * the lock is refused with `ReentrancyError`: this also catches a read requested by a
 * reader while a writer waits, which would deadlock.
 *
 * @example
 * ```ts
 * const rw = new RwLock({ name: 'routes' })
 * const route = await rw.runRead(() => routes.get(path))
 * {
 *   using w = await rw.write({ timeoutMs: 500 })
 *   routes = await rebuild()
 * }
 * ```
 */
export class RwLock {
  /** @internal */ private readonly core: LockCore

  /** @param options name, long-hold reporting, re-entry detection, clock. Throws on bad options. */
  constructor(options?: RwLockOptions) {
    this.core = new LockCore('RwLock', EXCLUSIVE, false, options)
  }

  /** The `name` option. */
  get name(): string | undefined {
    return this.core.name
  }

  /** Whether anyone (reader or writer) holds the lock. */
  get locked(): boolean {
    return this.core.available < EXCLUSIVE
  }

  /** Whether a writer holds the lock. */
  get writeLocked(): boolean {
    return this.core.available === 0
  }

  /** Number of readers holding the lock. */
  get readers(): number {
    const available = this.core.available
    return available === 0 ? 0 : EXCLUSIVE - available
  }

  /** Number of queued waiters (readers and writers). */
  get waiting(): number {
    return this.core.queue.size
  }

  /**
   * Waits for shared access (FIFO behind any queued writer); resolves with a guard.
   *
   * @example
   * ```ts
   * using r = await rw.read({ signal })
   * ```
   */
  read(options?: WaitOptions): Promise<LockGuard> {
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
   * Waits for exclusive access (FIFO); resolves with a guard.
   *
   * @example
   * ```ts
   * using w = await rw.write({ timeoutMs: 100 })
   * ```
   */
  write(options?: WaitOptions): Promise<LockGuard> {
    const core = this.core
    if (options === undefined && core.reentry === undefined && core.grantable(EXCLUSIVE)) {
      return Promise.resolve(core.grantNow(EXCLUSIVE, undefined))
    }
    try {
      return core.acquire(EXCLUSIVE, parseWaitOptions(options))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Shared access now if no writer holds it and nobody waits; otherwise `undefined`.
   *
   * @example
   * ```ts
   * const r = rw.tryRead()
   * ```
   */
  tryRead(): LockGuard | undefined {
    return this.core.tryAcquire(1)
  }

  /**
   * Exclusive access now if nobody holds it and nobody waits; otherwise `undefined`.
   *
   * @example
   * ```ts
   * const w = rw.tryWrite()
   * ```
   */
  tryWrite(): LockGuard | undefined {
    return this.core.tryAcquire(EXCLUSIVE)
  }

  /**
   * Runs `fn` with shared access; synchronously when it can be granted now.
   *
   * @example
   * ```ts
   * const v = await rw.runRead(() => table.get(key))
   * ```
   */
  runRead<T>(fn: () => T | PromiseLike<T>, options?: WaitOptions): Promise<T> {
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
   * Runs `fn` with exclusive access; synchronously when it can be granted now.
   *
   * @example
   * ```ts
   * await rw.runWrite(async () => { table = await reload() })
   * ```
   */
  runWrite<T>(fn: () => T | PromiseLike<T>, options?: WaitOptions): Promise<T> {
    const core = this.core
    if (options === undefined && typeof fn === 'function' && core.reentry === undefined && core.grantable(EXCLUSIVE)) {
      return core.runNow(fn, EXCLUSIVE)
    }
    try {
      checkFunction('fn', fn)
      return this.core.run(fn, EXCLUSIVE, parseWaitOptions(options))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Counters and wait/hold summaries (reads and writes together).
   *
   * @example
   * ```ts
   * rw.stats().hold.p99
   * ```
   */
  stats(): LockStats {
    return this.core.stats()
  }
}
