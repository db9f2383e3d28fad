/**
 * Distributed counterparts of the local primitives, on one Redis (or Valkey) primary:
 * `RedisMutex` (leases with fencing tokens, renewal, pub/sub wake-ups), a
 * `RedisFlightCoordinator` for cross-instance single flight (`SingleFlightGroup`,
 * `LruTtlCache.getOrLoad`), and `RedisInvalidationChannel` to evict cache entries on
 * every instance. The client (ioredis) is yours: pass an instance; this module never
 * imports it.
 *
 * @module asyncsafe/redis
 */
export { RedisMutex, type RedisMutexOptions } from './RedisMutex.js'
export { RedisLockGuard } from './RedisLockGuard.js'
export { LeaseLostError, RemoteLoadError } from './errors.js'
export type { RedisConnectionOptions } from './options.js'
export type { RedisClient, RedisSubscriber } from './types.js'
export { RedisFlightCoordinator, type RedisFlightCoordinatorOptions, type RedisFlightStats } from './RedisFlightCoordinator.js'
export { RedisInvalidationChannel, type RedisInvalidationChannelOptions, type InvalidationChannelStats } from './RedisInvalidationChannel.js'
