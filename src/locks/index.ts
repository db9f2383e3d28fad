/**
 * Locks: `Mutex`, `RwLock`, `Semaphore`: FIFO, per-waiter abort and timeout, hold-time
 * statistics, long-hold reports, opt-in re-entry detection.
 *
 * @module asyncsafe/locks
 */
export { Mutex, type MutexOptions } from './Mutex.js'
export { RwLock, type RwLockOptions } from './RwLock.js'
export { Semaphore, type QueueWaitOptions, type SemaphoreAcquireOptions, type SemaphoreOptions, type SemaphoreRunOptions } from './Semaphore.js'
export { LockGuard, Permit } from './guard.js'
export type { LockStats, LockOptions, LongHoldInfo, WaitOptions } from './stats.js'
export { ClosedError, ReentrancyError, TimeoutError } from '../errors.js'
