/**
 * `KeyedLockGuard`: proof of holding one or several keys of a `KeyedMutex` or a
 * `KeyedRwLock`; one `release()` frees every key.
 *
 * @module
 */
import type { LockGuard } from './guard.js'
import { DONE, type ReentryToken } from './reentry.js'

/**
 * Proof of holding the keys of one request (`lock`, `read`, `write`, `try*`) of a
 * `KeyedMutex` or `KeyedRwLock`. `release()` frees every key at once and is idempotent;
 * `[Symbol.dispose]` releases, so `using` works.
 *
 * @example
 * ```ts
 * {
 *   using guard = await accounts.lock([from, to], { timeoutMs: 1_000 })
 *   console.log(guard.keys) // both ids, deduplicated, in the lock's canonical order
 *   await transfer(from, to, amount)
 * } // both keys released here, even on throw
 * ```
 */
export class KeyedLockGuard<K = unknown> {
  /** The keys held: deduplicated, in the order they were taken (the lock's canonical order). */
  declare readonly keys: readonly K[]
  /** @internal One guard per key, in `keys` order. */ declare readonly guards: readonly LockGuard[]
  /** @internal Re-entry tokens (with `detectReentry`), in `keys` order. */ declare readonly tokens: readonly ReentryToken[] | undefined
  /** @internal */ declare held: boolean

  /** @internal Created by the keyed locks only. */
  constructor(keys: readonly K[], guards: readonly LockGuard[], tokens: readonly ReentryToken[] | undefined) {
    this.keys = keys
    this.guards = guards
    this.tokens = tokens
    this.held = true
  }

  /**
   * Whether `release()` was called.
   *
   * @example
   * ```ts
   * guard.release()
   * console.log(guard.released) // true
   * ```
   */
  get released(): boolean {
    return !this.held
  }

  /**
   * Clock reading (the lock's `clock`, in milliseconds) when the last key was granted:
   * from then on every key was held.
   *
   * @example
   * ```ts
   * const guard = await locks.lock(['a', 'b'])
   * console.log(guard.acquiredAt <= performance.now()) // true
   * ```
   */
  get acquiredAt(): number {
    return this.guards[this.guards.length - 1]!.acquiredAt
  }

  /**
   * Milliseconds every key has been held so far (since `acquiredAt`); frozen at release.
   *
   * @example
   * ```ts
   * metrics.observe('transfer.lock.held', guard.heldMs)
   * ```
   */
  get heldMs(): number {
    return this.guards[this.guards.length - 1]!.heldMs
  }

  /**
   * Releases every key (each handed to its head waiter, FIFO). Idempotent; never throws.
   *
   * @example
   * ```ts
   * const guard = await locks.lock('a')
   * try { await work() } finally { guard.release() }
   * ```
   */
  release(): void {
    if (!this.held) return
    this.held = false
    const tokens = this.tokens
    if (tokens !== undefined) for (const token of tokens) token.state = DONE
    const guards = this.guards
    for (let i = guards.length - 1; i >= 0; i--) guards[i]!.release()
  }

  /**
   * Same as `release()`, for `using`.
   *
   * @example
   * ```ts
   * using guard = await locks.lock(userId)
   * ```
   */
  [Symbol.dispose](): void {
    this.release()
  }
}
