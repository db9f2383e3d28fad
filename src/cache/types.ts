/**
 * Public types of `LruTtlCache`: options, eviction events, observers, loaders, stats.
 *
 * @module
 */

import type { OnError } from '../internal/report.js'
import type { FlightCoordinator } from '../tasks/coordinator.js'
import type { InvalidationChannel } from './invalidation.js'
import type { AbortSignal } from '../internal/types.js'

/**
 * Why an entry left the cache.
 *
 * - `'evicted'`: pushed out by capacity (least recently used first);
 * - `'expired'`: its TTL passed (found by any operation, or by `pruneExpired`);
 * - `'deleted'`: removed by `delete`;
 * - `'replaced'`: its key was set to another value (not notified for the very same value);
 * - `'cleared'`: removed by `clear()` or by disposing the cache;
 * - `'invalidated'`: removed because another instance changed it (the `invalidation`
 *   option: a remote `set`, `delete` or `clear`, or a reset of the channel).
 */
export type EvictionCause = 'evicted' | 'expired' | 'deleted' | 'replaced' | 'cleared' | 'invalidated'

/**
 * What an observer receives for every removal: the key, the value that left and why.
 *
 * @example
 * ```ts
 * cache.observe(({ key, value, cause }) => log.debug({ key, cause }, 'cache removal'))
 * ```
 */
export interface EvictionEvent<K, V> {
  /** The key of the entry that left. */
  readonly key: K
  /** The value that left (for `'replaced'`, the old value). */
  readonly value: V
  /** Why it left. */
  readonly cause: EvictionCause
}

/**
 * The second argument of an observer call.
 *
 * @example
 * ```ts
 * const onEvict: EvictionObserver<string, Conn> = async ({ value }, { signal }) => value.close({ signal })
 * ```
 */
export interface ObserverContext {
  /** Aborts when the call passes `notifyTimeoutMs` (its slot is then freed and a timeout counted). */
  readonly signal: AbortSignal
}

/**
 * An eviction observer. Runs after the removal is complete (never inside a state
 * change), at most `notifyConcurrency` calls at once, one call at a time per key and
 * observer. It may call back into the cache, and may await `set`, `delete` or `clear`.
 * A throw, a rejection or a timeout is counted and reported; delivery goes on.
 *
 * @example
 * ```ts
 * const closeOnEvict: EvictionObserver<string, Conn> = async ({ value }) => { await value.close() }
 * ```
 */
export type EvictionObserver<K, V> = (event: EvictionEvent<K, V>, context: ObserverContext) => unknown

/**
 * A loader for `getOrLoad`, called as `loader(key, { signal })`. The signal aborts
 * when every caller waiting for this load has left (or the cache is disposed).
 *
 * @example
 * ```ts
 * const loadUser: Loader<string, User> = (id, { signal }) => db.users.find(id, { signal })
 * ```
 */
export type Loader<K, V> = (key: K, context: { readonly signal: AbortSignal }) => V | PromiseLike<V>

/**
 * Options of `new LruTtlCache(options)`.
 *
 * @example
 * ```ts
 * const options: LruTtlCacheOptions<string, Conn> = { capacity: 1000, ttlMs: 60_000, onEvict: ({ value }) => value.close() }
 * ```
 */
export interface LruTtlCacheOptions<K, V> {
  /** Maximum number of entries; a positive integer (required). */
  readonly capacity: number
  /**
   * Default time to live of an entry, in ms from its last `set` (never less); absent
   * means no expiry. With the default clock, one synchronous job reuses a clock reading
   * (up to 1024 times): only a job running long past that reading can see an entry up to
   * (its length - 1 s) past expiry, or keep an entry set during it up to the rest of the
   * job longer; see `LruTtlCache`. An injected `clock` is read every time.
   */
  readonly ttlMs?: number | undefined
  /** An observer registered for the cache's whole life (more with `observe`). */
  readonly onEvict?: EvictionObserver<K, V> | undefined
  /** Maximum number of observer calls running at once (positive integer or Infinity). Default 64. */
  readonly notifyConcurrency?: number | undefined
  /** An observer call running longer than this (ms) has its signal aborted, is counted as a timeout and frees its slot. Default 5000; `Infinity` for none. */
  readonly notifyTimeoutMs?: number | undefined
  /** Receives observer failures and timeouts (isolated). Without it they become process warnings. */
  readonly onError?: OnError | undefined
  /** A name used in reports and diagnostics. */
  readonly name?: string | undefined
  /** Clock for TTL and statistics (ms, monotonic), read on every use. Default `performance.now` (a reading is reused within one synchronous job; see `ttlMs`). */
  readonly clock?: (() => number) | undefined
  /** When set, an unref'd timer prunes expired entries every so many ms (stopped on dispose). */
  readonly pruneIntervalMs?: number | undefined
  /**
   * Coordinates each `getOrLoad` load across processes (e.g. asyncsafe/redis's
   * `RedisFlightCoordinator`): one process runs the loader, the others store its value.
   * Local rules (caller aborts, failures not cached) are unchanged.
   */
  readonly coordinator?: FlightCoordinator<K> | undefined
  /**
   * Joins a channel shared with the cache's other instances (e.g. asyncsafe/redis's
   * `RedisInvalidationChannel`): local `set`, `delete` and `clear` are announced, and
   * the same changes made elsewhere remove the key here with cause `'invalidated'`.
   * When the channel may have lost events (a reconnect), every entry is removed
   * (`'invalidated'`). Left on dispose.
   */
  readonly invalidation?: InvalidationChannel<K> | undefined
}

/**
 * Options of `set`.
 *
 * @example
 * ```ts
 * await cache.set('session:1', session, { ttlMs: 30_000 })
 * ```
 */
export interface SetOptions {
  /** Time to live of this entry (ms), overriding the cache's `ttlMs`. */
  readonly ttlMs?: number | undefined
}

/**
 * Options of `getOrLoad`.
 *
 * @example
 * ```ts
 * await cache.getOrLoad(id, loadUser, { signal: request.signal, timeoutMs: 2_000, ttlMs: 10_000 })
 * ```
 */
export interface GetOrLoadOptions {
  /** This caller leaves (rejecting with `signal.reason`) when it aborts; the load goes on for other callers. */
  readonly signal?: AbortSignal | undefined
  /** This caller leaves with a `TimeoutError` after so many ms; the load goes on for other callers. */
  readonly timeoutMs?: number | undefined
  /** Time to live of the loaded entry (ms), overriding the cache's `ttlMs`. */
  readonly ttlMs?: number | undefined
}

/**
 * Removals counted by cause since the cache was created.
 *
 * @example
 * ```ts
 * const { evicted, expired } = cache.stats().evictions
 * ```
 */
export interface EvictionCounts {
  /** Entries pushed out by capacity (least recently used first). */
  readonly evicted: number
  /** Entries whose TTL had passed when found (by any operation or `pruneExpired`). */
  readonly expired: number
  /** Entries removed by `delete`. */
  readonly deleted: number
  /** Values replaced by `set` with another value (setting the very same value is not counted). */
  readonly replaced: number
  /** Entries removed by `clear()` or by disposing the cache. */
  readonly cleared: number
  /** Entries removed because another instance changed them (`invalidation` option). */
  readonly invalidated: number
}

/**
 * A snapshot of a cache's counters. Every counter is updated inside the state change
 * that causes it, so an observer always sees stats that include its own removal.
 *
 * @example
 * ```ts
 * const { hitRate, size, pendingNotifications } = cache.stats()
 * ```
 */
export interface CacheStats {
  /** `get` and `getOrLoad` lookups that found a live entry. */
  readonly hits: number
  /** `get` and `getOrLoad` lookups that found nothing live. */
  readonly misses: number
  /** `hits / (hits + misses)`, 0 when there were no lookups. */
  readonly hitRate: number
  /** Loader runs started by `getOrLoad`. */
  readonly loads: number
  /** Loader runs that failed (threw, rejected). */
  readonly loadErrors: number
  /** `getOrLoad` callers that joined a load already in flight. */
  readonly coalesced: number
  /** Removals by cause. */
  readonly evictions: EvictionCounts
  /** Observer calls that threw or rejected. */
  readonly observerErrors: number
  /** Observer calls that passed `notifyTimeoutMs`. */
  readonly observerTimeouts: number
  /** Observer calls queued or running. */
  readonly pendingNotifications: number
  /** Live entries stored (expired ones not found yet included). */
  readonly size: number
  /** The capacity. */
  readonly capacity: number
}
