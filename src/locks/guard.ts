/**
 * The guards handed out by the locks: release once, idempotently, from anywhere;
 * `using guard = await mutex.lock()` releases at the end of the scope.
 *
 * @module
 */
import { QueueNode } from '../internal/queue.js'
import type { LockCore, ReentryToken } from './core.js'

/** @internal A held guard's node in the long-hold list. */
export class HoldNode extends QueueNode {
  readonly guard: LockGuard
  constructor(guard: LockGuard) {
    super()
    this.guard = guard
  }
}

/** @internal Optional per-guard state (re-entry, long holds). */
export interface GuardExtra {
  token: ReentryToken | undefined
  node: HoldNode | undefined
  stack: string | undefined
}

/**
 * Proof of holding a lock (a `Mutex`, a read or write side of an `RwLock`).
 * `release()` is idempotent; `[Symbol.dispose]` releases, so `using` works.
 *
 * @example
 * ```ts
 * {
 *   using guard = await mutex.lock({ timeoutMs: 100 })
 *   await write(file)
 * } // released here, even on throw
 * ```
 */
export class LockGuard {
  // Fields are assigned in the constructor, with no initializers and no base class: a
  // guard is allocated per grant, and a plain constructor stays cheap for the optimizer
  // and the garbage collector (measured: field initializers plus a base class made
  // uncontended lock()+release() several times slower after each major GC).
  /** @internal */ declare readonly core: LockCore
  /** @internal */ declare readonly weight: number
  /** Clock reading at grant, in milliseconds (the lock's `clock`); `NaN` with `stats: false`. */
  declare readonly acquiredAt: number
  /** @internal True until released. */ declare held: boolean
  /** @internal Clock reading at release. */ declare releasedAt: number
  /** @internal Re-entry token, long-hold list node and stack; only when those features are on. */ declare extra: GuardExtra | undefined

  /** @internal Created by the locks only. */
  constructor(core: LockCore, weight: number, acquiredAt: number) {
    this.core = core
    this.weight = weight
    this.acquiredAt = acquiredAt
    this.held = true
    this.releasedAt = acquiredAt // same representation as the value stored at release
    this.extra = undefined
  }

  /** Whether `release()` was called. */
  get released(): boolean {
    return !this.held
  }

  /** Milliseconds held so far; frozen at release. `NaN` on a lock created with `stats: false` (no clock is read). */
  get heldMs(): number {
    if (!this.core.recording) return NaN
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
  /** @internal Created by `Semaphore` only. */
  // eslint-disable-next-line @typescript-eslint/no-useless-constructor -- declared to mark it @internal (not part of the public API)
  constructor(core: LockCore, weight: number, acquiredAt: number) {
    super(core, weight, acquiredAt)
  }

  /** How many permits this guard holds. */
  get permits(): number {
    return this.weight
  }
}
