/**
 * `asyncsafe/compat/async-mutex`: async-mutex 0.5's API and behaviour on asyncsafe's
 * core pieces, plus `stats()`. Switch by changing one import:
 *
 * ```ts
 * import { Mutex, Semaphore, withTimeout, E_TIMEOUT } from 'asyncsafe/compat/async-mutex'
 * ```
 *
 * Here async-mutex's semantics win over asyncsafe's conventions: priorities, values that
 * may be 0 or negative, `setValue`, unscoped `release()`, the shared `E_*` error objects
 * (compare with `===`), timed-out waiters that stay queued and are released when granted.
 *
 * @module asyncsafe/compat/async-mutex
 */
export { Mutex } from './Mutex.js'
export { Semaphore, type CompatStatsOptions } from './Semaphore.js'
export { withTimeout, tryAcquire } from './decorators.js'
export { E_TIMEOUT, E_ALREADY_LOCKED, E_CANCELED } from './errors.js'
export type { MutexInterface, SemaphoreInterface } from './interfaces.js'
export type { LockStats } from '../stats.js'
