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
  /**
   * Grace period (ms, a non-negative number or `Infinity`; default 0 = off): how long
   * past its expiry an entry is kept so that `getOrLoad` may still serve it, *stale*,
   * while one refresh of the key runs (stale-while-revalidate), when that refresh fails
   * (stale-if-error) or when it takes longer than `softTimeoutMs`.
   *
   * An entry in its grace window is not live: `get` misses it, and `has`, `peek`,
   * `keys()`, `values()` and `entries()` do not show it, but none of them removes it.
   * It still takes a place (`size`, capacity) and leaves exactly once, notified with the
   * cause of its real departure: `'replaced'` by its refresh (or a `set`), `'evicted'`,
   * `'deleted'`, `'cleared'`, `'invalidated'`, or `'expired'` once the grace period is
   * over too. Entries without a TTL never expire, so grace does not concern them.
   *
   * @example
   * ```ts
   * // Fresh for 1 minute, then served stale for up to 10 more while one refresh runs.
   * const cache = new LruTtlCache<string, User>({ capacity: 1000, ttlMs: 60_000, graceMs: 600_000 })
   * ```
   */
  readonly graceMs?: number | undefined
  /**
   * How long (ms) a `getOrLoad` caller that holds a stale value (an entry in its grace
   * window) waits for the refresh before it is served the stale value instead; the
   * refresh goes on in the background and stores its value when it succeeds. `0` (the
   * default) serves the stale value at once: plain stale-while-revalidate. `Infinity`
   * waits for the refresh and serves the stale value only if the refresh fails
   * (stale-if-error). A failing refresh serves the stale value whatever this is.
   * Overridable per call (`getOrLoad`'s `softTimeoutMs`). Without `graceMs` no entry is
   * ever stale, and this has no effect.
   *
   * @example
   * ```ts
   * // Wait up to 50 ms for a fresh value, else answer with the stale one.
   * const cache = new LruTtlCache<string, Rate>({ capacity: 100, ttlMs: 5_000, graceMs: 60_000, softTimeoutMs: 50 })
   * ```
   */
  readonly softTimeoutMs?: number | undefined
  /**
   * Early refresh, as a fraction of an entry's TTL (a number with `0 < ratio < 1`;
   * default off). A `getOrLoad` hit on an entry older than `ratio × ttl` returns the
   * (still fresh) value at once and starts one background refresh of the key, so a
   * busy key is reloaded before it expires and callers never wait for it. Counted in
   * `refreshes`; a failure is counted in `refreshErrors` and reported to `onError`.
   *
   * @example
   * ```ts
   * // Entries live 60 s; a hit after 48 s refreshes the entry in the background.
   * const cache = new LruTtlCache<string, Config>({ capacity: 100, ttlMs: 60_000, refreshAheadRatio: 0.8 })
   * ```
   */
  readonly refreshAheadRatio?: number | undefined
  /**
   * Bound (ms) on each background refresh (grace or early refresh; default 30000,
   * `Infinity` for none). When it passes, the refresh's signal aborts with a
   * `TimeoutError`, the refresh counts as failed (`refreshErrors`, reported) and the next
   * caller may start a new one. Background work nobody awaits is always bounded: a hung
   * loader must not block a key's refreshes for ever.
   *
   * @example
   * ```ts
   * const cache = new LruTtlCache<string, User>({ capacity: 100, ttlMs: 60_000, graceMs: 60_000, refreshTimeoutMs: 5_000 })
   * ```
   */
  readonly refreshTimeoutMs?: number | undefined
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
  /**
   * With a stale value at hand (an entry in its grace window): how long this caller waits
   * for the refresh before it is served the stale value (ms, overrides the cache's
   * `softTimeoutMs`). This caller's `timeoutMs` also serves the stale value rather than
   * rejecting, when it comes first.
   */
  readonly softTimeoutMs?: number | undefined
  /**
   * `false`: this caller never receives a stale value. An entry in its grace window is
   * then a plain miss for it: it waits for the refresh (starting it if none runs) and
   * gets its value or its error. Default `true`.
   */
  readonly allowStale?: boolean | undefined
}

/**
 * Where the value of a `getOrLoadWithStatus` call came from.
 *
 * - `'hit'`: a live entry (an early refresh may have started: see `refreshing`);
 * - `'loaded'`: a loader run (this caller's or one it joined);
 * - `'stale'`: an entry in its grace window, served at once or before the refresh
 *   settled (`softTimeoutMs` 0) while the refresh runs;
 * - `'stale-on-timeout'`: a stale value served because the refresh passed this caller's
 *   `softTimeoutMs` (or its `timeoutMs`); the refresh goes on in the background;
 * - `'stale-on-error'`: a stale value served because the refresh failed (`error`).
 */
export type LoadStatus = 'hit' | 'loaded' | 'stale' | 'stale-on-timeout' | 'stale-on-error'

/**
 * What `getOrLoadWithStatus` resolves with: the value, and whether (and why) it is stale.
 *
 * @example
 * ```ts
 * const { value, stale, status } = await cache.getOrLoadWithStatus(id, loadUser)
 * if (stale) response.setHeader('Warning', `110 - "stale: ${status}"`)
 * ```
 */
export interface LoadResult<V> {
  /** The value served. */
  readonly value: V
  /** True when `value` is past its TTL (`status` is one of the `'stale…'` ones). */
  readonly stale: boolean
  /** Where the value came from; see {@link LoadStatus}. */
  readonly status: LoadStatus
  /** Whether a refresh of the key was still in flight when this call resolved. */
  readonly refreshing: boolean
  /** The refresh's failure, for `'stale-on-error'` (it is also counted and reported to `onError`). */
  readonly error?: unknown
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
  /**
   * `getOrLoad`/`getOrLoadWithStatus` calls served a stale value (an entry in its grace
   * window), whatever the reason; `staleOnError` and `staleOnTimeout` count two of the
   * reasons, the rest were served at once while a refresh ran. Such a lookup also counts
   * as a miss: `hits` and `hitRate` count fresh values only.
   */
  readonly staleHits: number
  /** Of `staleHits`: served stale because the refresh failed (threw, rejected, passed `refreshTimeoutMs`). */
  readonly staleOnError: number
  /** Of `staleHits`: served stale because the refresh passed the caller's `softTimeoutMs` (or its `timeoutMs`). */
  readonly staleOnTimeout: number
  /** Background refreshes started (a load of a key in its grace window, or an early refresh); also counted in `loads`. */
  readonly refreshes: number
  /** Refreshes that failed or passed `refreshTimeoutMs`; also counted in `loadErrors`, and each one reported to `onError`. */
  readonly refreshErrors: number
  /** Observer calls that threw or rejected. */
  readonly observerErrors: number
  /** Observer calls that passed `notifyTimeoutMs`. */
  readonly observerTimeouts: number
  /** Observer calls queued or running. */
  readonly pendingNotifications: number
  /** Entries stored: live ones, ones in their grace window, and expired ones not found yet. */
  readonly size: number
  /** The capacity. */
  readonly capacity: number
}
