/**
 * `asyncsafe/cache`: `LruTtlCache`, a bounded LRU cache with TTLs whose state changes
 * never wait for observers, loaders or any other foreign code.
 *
 * @module asyncsafe/cache
 */
export { LruTtlCache, DEFAULT_NOTIFY_CONCURRENCY, DEFAULT_NOTIFY_TIMEOUT_MS } from './LruTtlCache.js'
export type {
  CacheStats,
  EvictionCause,
  EvictionCounts,
  EvictionEvent,
  EvictionObserver,
  GetOrLoadOptions,
  LoadResult,
  LoadStatus,
  Loader,
  LruTtlCacheOptions,
  ObserverContext,
  SetOptions,
} from './types.js'
export type { InvalidationChannel, InvalidationEvent, InvalidationHandlers, InvalidationLink } from './invalidation.js'
export type { FlightCoordinator } from '../tasks/coordinator.js'
