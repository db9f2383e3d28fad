/**
 * Locks: `Mutex`, `RwLock`, `Semaphore`, and their per-key forms `KeyedMutex`,
 * `KeyedRwLock`: FIFO, per-waiter abort and timeout, hold-time statistics, long-hold
 * reports, opt-in re-entry detection.
 *
 * @module asyncsafe/locks
 */
export { Mutex, type MutexOptions } from './Mutex.js'
export { RwLock, type RwLockOptions } from './RwLock.js'
export { Semaphore, type QueueWaitOptions, type SemaphoreAcquireOptions, type SemaphoreOptions, type SemaphoreRunOptions } from './Semaphore.js'
export { KeyedMutex, type KeyedMutexOptions } from './KeyedMutex.js'
export { KeyedRwLock, type KeyedRwLockOptions } from './KeyedRwLock.js'
export { LockGuard, Permit } from './guard.js'
export { KeyedLockGuard } from './keyed-guard.js'
export type { KeyedLockOptions, KeyedLockStats, KeyedLongHoldInfo } from './keyed-core.js'
export type { LockStats, LockOptions, LongHoldInfo, WaitOptions } from './stats.js'
export { ClosedError, QueueFullError, ReentrancyError, TimeoutError } from '../errors.js'
