/**
 * asyncsafe/tasks: single-flight initialization, per-key single flight, bounded
 * detached work and abortable retry.
 *
 * @module asyncsafe/tasks
 */
export { Initializer } from './Initializer.js'
export type { InitializerState, InitFunction, InitializerOptions, InitializerGetOptions } from './Initializer.js'
export { SingleFlightGroup } from './SingleFlightGroup.js'
export type { SingleFlightGroupOptions, SingleFlightRunOptions } from './SingleFlightGroup.js'
export type { FlightCoordinator } from './coordinator.js'
export { DetachedPool } from './DetachedPool.js'
export type { DetachedTask, DetachedPoolOptions, DetachedRunOptions, DetachedPoolStats, DrainOptions, PoolCallOptions, PoolTask, PoolWaitOptions } from './DetachedPool.js'
export { spawnDetached, defaultDetachedPool, DEFAULT_DETACHED_POOL_OPTIONS } from './spawnDetached.js'
export { retry, backoffDelay, DEFAULT_RETRY_OPTIONS } from './retry.js'
// The errors a handler of these primitives branches on (the same classes as `asyncsafe`'s).
export { ClosedError, DisposedError, DroppedError, RetryError, TimeoutError } from '../errors.js'
export type { RetryOptions, RetryEvent } from './retry.js'
