/**
 * The guards handed out by the locks: release once, idempotently, from anywhere;
 * `using guard = await mutex.lock()` releases at the end of the scope.
 *
 * @module
 */
import { QueueNode } from '../internal/queue.js'
import type { LockCore, ReentryToken } from './core.js'

/**
 * Proof of holding a lock (a `Mutex`, a read or write side of an `RwLock`).
 * `release()` is idempotent; `[Symbol.dispose]` releases, so `using` works.
 *
 * The guard is a node of the lock's long-hold list while held (hence `QueueNode`).
 *
 * @example
 * ```ts
 * {
 *   using guard = await mutex.lock({ timeoutMs: 100 })
 *   await write(file)
 * } // released here, even on throw
 * ```
 */
export class LockGuard extends QueueNode {
  /** @internal */ readonly core: LockCore
  /** @internal */ readonly weight: number
  /** Clock reading at grant, in milliseconds (the lock's `clock`). */
  readonly acquiredAt: number
  /** @internal True until released. */ held = true
  /** @internal Clock reading at release. */ releasedAt = 0
  /** @internal */ token: ReentryToken | undefined = undefined
  /** @internal */ stack: string | undefined = undefined

  /** @internal Created by the locks only. */
  constructor(core: LockCore, weight: number, acquiredAt: number) {
    super()
    this.core = core
    this.weight = weight
    this.acquiredAt = acquiredAt
  }

  /** Whether `release()` was called. */
  get released(): boolean {
    return !this.held
  }

  /** Milliseconds held so far; frozen at release. */
  get heldMs(): number {
    return (this.held ? this.core.clock() : this.releasedAt) - this.acquiredAt
  }

  /** Releases the lock (hands it to the head waiter, FIFO). Idempotent; never throws. */
  release(): void {
    if (this.held) this.core.release(this)
  }

  /** Same as `release()`, for `using`. */
  [Symbol.dispose](): void {
    if (this.held) this.core.release(this)
  }
}

/**
 * Proof of holding `permits` permits of a `Semaphore`. `release()` returns all of
 * them at once and is idempotent; `using permit = await sem.acquire(2)` works.
 *
 * @example
 * ```ts
 * using permit = await sem.acquire(2, { signal })
 * console.log(permit.permits) // 2
 * ```
 */
export class Permit extends LockGuard {
  /** How many permits this guard holds. */
  get permits(): number {
    return this.weight
  }
}
