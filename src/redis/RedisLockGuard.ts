/**
 * `RedisLockGuard`: proof of holding a `RedisMutex` lease, with its fencing token and a
 * signal that aborts when the lease is lost.
 *
 * @module
 */
import type { HeldLease } from './lease.js'

/** @internal What a guard reports back to its mutex. */
export interface GuardOwner {
  readonly clock: () => number
  released(guard: RedisLockGuard): void
}

/**
 * Proof of holding a distributed lock.
 *
 * - `fencingToken` is strictly greater than the token of every earlier grant of the same
 *   key, in any process: pass it with every write the lock protects, and let storage
 *   refuse a write whose token is lower than one it already accepted (a holder paused
 *   past its lease can then do no harm).
 * - `signal` aborts with a `LeaseLostError` when the lease is no longer known to be held
 *   (renewal found it gone, or could not renew it in time), and with the mutex's dispose
 *   reason when the mutex is disposed. Pass it to the guarded work.
 * - `release()` deletes the lease if it is still ours and resolves with whether it did;
 *   it never rejects (a failed command is reported to `onError`; the lease then expires
 *   by itself). `await using` waits for it; `using` starts it without waiting.
 *
 * @example
 * ```ts
 * await using guard = await mutex.lock({ timeoutMs: 5_000 })
 * await storage.write(record, { fencingToken: guard.fencingToken, signal: guard.signal })
 * ```
 */
export class RedisLockGuard implements Disposable, AsyncDisposable {
  /** The lock key. */
  readonly key: string
  /** Fencing token of this grant (strictly increasing per key across every process). */
  readonly fencingToken: number
  /** Clock reading at grant (the mutex's `clock`). */
  readonly acquiredAt: number
  /** @internal */ private readonly lease: HeldLease
  /** @internal */ private readonly owner: GuardOwner
  /** @internal */ private releasedAt: number | undefined = undefined
  /** @internal */ private releasing: Promise<boolean> | undefined = undefined

  /** @internal Created by `RedisMutex` only. */
  constructor(key: string, lease: HeldLease, owner: GuardOwner) {
    this.key = key
    this.lease = lease
    this.owner = owner
    this.fencingToken = lease.fencingToken
    this.acquiredAt = owner.clock()
  }

  /** Aborts when the lease is lost (`LeaseLostError`) or the mutex is disposed. */
  get signal(): AbortSignal {
    return this.lease.signal
  }

  /** Whether `release()` was called. */
  get released(): boolean {
    return this.releasing !== undefined
  }

  /** Milliseconds since the grant; frozen at release. */
  get heldMs(): number {
    return (this.releasedAt ?? this.owner.clock()) - this.acquiredAt
  }

  /**
   * Releases the lease (compare-and-delete; waiters everywhere are woken by pub/sub).
   * Resolves `true` when this call deleted it, `false` when it was already gone or the
   * command failed. Idempotent; never rejects.
   *
   * @example
   * ```ts
   * const guard = await mutex.lock()
   * try { await work(guard.signal) } finally { await guard.release() }
   * ```
   */
  release(): Promise<boolean> {
    return this.releaseWith(undefined)
  }

  /** @internal Release; `abortReason` also aborts the signal (dispose of the mutex). */
  releaseWith(abortReason: unknown): Promise<boolean> {
    if (this.releasing !== undefined) return this.releasing
    this.releasedAt = this.owner.clock()
    this.releasing = this.lease.release(undefined, abortReason)
    this.owner.released(this)
    return this.releasing
  }

  /** Starts `release()` without waiting (for `using`). */
  [Symbol.dispose](): void {
    void this.release()
  }

  /** `release()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.release()
  }
}
