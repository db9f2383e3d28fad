/**
 * `LruTtlCache`: a bounded LRU cache with TTLs whose state changes never wait for
 * foreign code.
 *
 * Layout (O(1) get, set and eviction, like lru-cache): a `Map` from key to slot index;
 * keys and values in two arrays indexed by slot; a doubly linked recency list over two
 * `Int32Array`s (head = most recently used); expiry times in a `Float64Array`
 * (`Infinity` = none); freed slots on a stack. Eviction takes the list's tail, it never
 * walks a Map iterator. Arrays grow by doubling up to `capacity`.
 *
 * Every public method performs its whole state change synchronously, stats included,
 * and only then hands removals to the NotificationDispatcher, which calls observers
 * from a later microtask. No observer, loader or callback runs inside a state change.
 *
 * Clock reads (about 45 ns each on Node 20, as much as a whole `Map.get`) are kept off
 * the hot path:
 * - entries without a TTL never read the clock;
 * - with the default clock, a real reading is remembered for the rest of the current
 *   synchronous job (a microtask forgets it) and for at most 1024 uses; `get` serves
 *   an entry from the remembered reading only if the entry expires more than 1 s after
 *   it (`STALE_SLACK_MS`). Anything closer to expiry reads the real clock;
 * - `set` (and a load's store) may compute an expiry from the remembered reading too,
 *   but such an expiry is provisional: the reading is older than the call (by however
 *   long the job ran since it), so `reading + ttl` alone could already have passed, and
 *   the next lookup would notify the value just stored `'expired'` (an observer closing
 *   values would close it). The slot is listed, and the next real reading `T` — a lookup
 *   that needs one, the 1024th use, or at the latest the microtask that forgets the
 *   reading — moves every listed expiry to `T + ttl`. Since `T` is not earlier than the
 *   call, a stored entry always lives at least its full TTL from the call: never early.
 *   (Reading the clock in every `set` instead measured 1.23-1.33x the time of a set with
 *   eviction; the provisional expiry 0.99-1.09x, paired runs against the previous code.)
 *
 * The documented exceptions (bounded by uses and by the job, not by age: measuring age
 * would cost the clock read this saves): a synchronous job that runs for more than 1 s
 * after a clock reading, with fewer than 1024 TTL'd lookups since it, may serve as live
 * an entry that expired up to (that time - 1 s) ago; and an entry stored from a
 * remembered reading lives up to the time between its `set` and the next real reading
 * (at most the rest of that job) longer than its TTL. Jobs are microseconds long in
 * practice; inject `clock` (read on every use) to rule both out entirely.
 * - an injected clock, or a `performance` replaced by fake timers, is read every time.
 */

import { DisposedError, TimeoutError } from '../errors.js'
import { Flight } from '../internal/flight.js'
import { checkFunction, checkNonNegativeFinite, checkOptionalBoolean, checkOptionalFunction, checkOptionalString, checkOptions, checkPositiveFinite, checkPositiveInteger, checkSignal, checkTimeout, describe, knownOptions } from '../internal/validate.js'
import { reportError, type OnError } from '../internal/report.js'
import { armTimer, disarmTimer, type TimerHandle } from '../internal/timers.js'
import { NotificationDispatcher, RESOLVED } from './NotificationDispatcher.js'
import type { FlightCoordinator } from '../tasks/coordinator.js'
import type { InvalidationEvent, InvalidationLink } from './invalidation.js'
import type { CacheStats, EvictionCause, EvictionObserver, GetOrLoadOptions, Loader, LoadResult, LoadStatus, LruTtlCacheOptions, SetOptions } from './types.js'
import type { AbortSignal } from '../internal/types.js'
import { evictChannel, hitChannel, loadChannel, missChannel, publishAccess, publishEvict, publishLoad } from './events.js'

/** Default bound on observer calls running at once (see the README, Cache: Defaults, and why). */
export const DEFAULT_NOTIFY_CONCURRENCY = 64
/** Default time an observer call may take before its signal aborts and its slot is freed (ms). */
export const DEFAULT_NOTIFY_TIMEOUT_MS = 5_000
/** Default bound on a background refresh (ms): work nobody awaits is always bounded. */
const DEFAULT_REFRESH_TIMEOUT_MS = 30_000

const NIL = -1
const INITIAL_SLOTS = 16
/** An entry is served from a remembered clock reading only if it expires more than this after it. */
const STALE_SLACK_MS = 1_000
/** A remembered reading serves at most this many checks, so long synchronous loops still see time pass. */
const READING_USES = 1_024

// The native clock, captured at load: a `performance` that is not this one (fake timers)
// is read on every use. Reassigned only by setNativeClockForTesting.
let nativePerformance = (globalThis as { performance?: { now(): number } }).performance
// eslint-disable-next-line @typescript-eslint/unbound-method -- compared by identity only, never called
let nativeNow = nativePerformance?.now

/**
 * Makes `source` count as the native clock (its readings are remembered like
 * `performance.now`'s), so a test can drive the reuse of clock readings with a fake
 * time: install it as `globalThis.performance` too. Without an argument, restores the
 * real one.
 *
 * @internal
 */
export function setNativeClockForTesting(source?: { now(): number }): void {
  nativePerformance = source ?? (globalThis as { performance?: { now(): number } }).performance
  // eslint-disable-next-line @typescript-eslint/unbound-method -- compared by identity only, never called
  nativeNow = nativePerformance?.now
}

// Unknown option keys are refused, naming the likely intended one (lru-cache's names included).
const NO_SIZE = 'capacity (a count of entries; there is no size-based bound)'
const CACHE_OPTIONS = knownOptions(['capacity', 'ttlMs', 'onEvict', 'notifyConcurrency', 'notifyTimeoutMs', 'onError', 'name', 'clock', 'pruneIntervalMs', 'coordinator', 'invalidation', 'graceMs', 'softTimeoutMs', 'refreshAheadRatio', 'refreshTimeoutMs'], {
  max: 'capacity',
  maxEntries: 'capacity',
  size: 'capacity',
  maxSize: NO_SIZE,
  maxEntrySize: NO_SIZE,
  sizeCalculation: NO_SIZE,
  dispose: 'onEvict',
  disposeAfter: 'onEvict',
  onEviction: 'onEvict',
  ttlAutopurge: 'pruneIntervalMs',
  // lru-cache's and bentocache's names for the stale-while-revalidate options ('grace' finds 'graceMs' by itself).
  allowStale: 'graceMs',
  gracePeriod: 'graceMs',
  staleWhileRevalidate: 'graceMs',
  staleIfError: 'graceMs',
  timeout: 'softTimeoutMs',
  hardTimeout: 'refreshTimeoutMs, or timeoutMs per getOrLoad call',
  earlyExpiration: 'refreshAheadRatio',
  refreshAhead: 'refreshAheadRatio',
})
const SET_OPTIONS = knownOptions(['ttlMs'], { ttl: 'ttlMs' })
const GET_OR_LOAD_OPTIONS = knownOptions(['signal', 'timeoutMs', 'ttlMs', 'softTimeoutMs', 'allowStale'], { ttl: 'ttlMs', timeout: 'timeoutMs', hardTimeout: 'timeoutMs', graceMs: 'graceMs is a cache option: new LruTtlCache({ graceMs })' })

function prune(cache: { pruneTick(): void }): void {
  cache.pruneTick()
}

function disposedError(method: string): DisposedError {
  return new DisposedError(`asyncsafe cache ${method}: the cache was disposed`)
}

function checkConcurrency(value: unknown): number {
  if (value === undefined) return DEFAULT_NOTIFY_CONCURRENCY
  if (value === Infinity) return Infinity
  return checkPositiveInteger('notifyConcurrency', value)
}

function checkTtl(option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined
  return checkNonNegativeFinite(option, value)
}

/** A fraction of a TTL, strictly between 0 and 1. */
function checkRatio(option: string, value: unknown): number {
  if (typeof value !== 'number') throw new TypeError(`asyncsafe: ${option} must be a number between 0 and 1 (exclusive), received ${describe(value)}`)
  if (!(value > 0 && value < 1)) throw new RangeError(`asyncsafe: ${option} must be a number between 0 and 1 (exclusive), received ${describe(value)}`)
  return value
}

/** What a `getOrLoadWithStatus` call resolves with (plain `getOrLoad` resolves with the value alone). */
function result<V>(value: V, status: LoadStatus, refreshing: boolean, error?: unknown): LoadResult<V> {
  const stale = status !== 'hit' && status !== 'loaded'
  return status === 'stale-on-error' ? { value, stale, status, refreshing, error } : { value, stale, status, refreshing }
}

/**
 * A bounded LRU cache with per-entry TTLs whose state changes are synchronous and
 * complete before any observer runs. Removals (`'evicted' | 'expired' | 'deleted' |
 * 'replaced' | 'cleared'`) are delivered to observers afterwards: isolated (a failing
 * or hanging observer is counted and reported, delivery goes on), bounded
 * (`notifyConcurrency` calls at once, `notifyTimeoutMs` each) and ordered (a key's
 * notifications to one observer run one after another, in removal order).
 *
 * Fairness: observer calls start in removal order, FIFO, as slots free up; a call
 * caused by an observer's own cache call runs in its parent's slot, after the calls
 * of its key removed before it (which then run in that slot too), never waiting for
 * its parent. Only a wait cycle between nested cascades (each observer awaiting a
 * call queued behind the other) lets two calls of one key overlap, rather than hang.
 * Cancellation: `getOrLoad` callers leave with their `signal` or `timeoutMs`; the
 * loader's signal aborts once every caller left, and that load's result is not stored.
 *
 * Stale-while-revalidate (opt-in): with `graceMs`, an expired entry is kept that much
 * longer; it is no longer live (`get`, `has`, `peek`, `keys()` miss it) but `getOrLoad`
 * serves it, stale, while one background refresh of the key runs, when that refresh
 * fails, or when it passes `softTimeoutMs`. With `refreshAheadRatio`, a `getOrLoad` hit
 * late in an entry's TTL refreshes it in the background. Stale answers are counted in
 * `stats()` and reported per call by `getOrLoadWithStatus`; refresh failures go to
 * `onError`. With both options off (the default) nothing of this costs anything.
 *
 * TTL precision: an entry lives at least its full TTL from its `set`, never less. With
 * the default clock, a reading is reused within one synchronous job (at most 1024
 * times; lookups only for entries expiring over 1 s after it), so only a synchronous job
 * running long past a reading can serve an entry up to (that time - 1 s) past its
 * expiry, or keep an entry stored during it up to the rest of that job longer. An
 * injected `clock` is read on every use.
 *
 * @example
 * ```ts
 * await using cache = new LruTtlCache<string, Conn>({
 *   capacity: 1000,
 *   ttlMs: 60_000,
 *   onEvict: async ({ value }) => value.close(), // runs after the state change, never under it
 * })
 * await cache.set('db', conn)                // resolves once the notifications it caused settled
 * cache.get('db')                            // synchronous
 * const user = await cache.getOrLoad('user:1', (key, { signal }) => fetchUser(key, signal))
 * ```
 */
export class LruTtlCache<K, V> implements Disposable, AsyncDisposable {
  /** The maximum number of entries. */
  readonly capacity: number

  private readonly defaultTtl: number | undefined
  private readonly clock: (() => number) | undefined
  private readonly name: string | undefined
  private readonly onError: OnError | undefined
  private readonly index = new Map<K, number>()
  private keyAt: (K | undefined)[] = []
  private valueAt: (V | undefined)[] = []
  private next: Int32Array
  private prev: Int32Array
  private expires: Float64Array
  private head = NIL
  private tail = NIL
  private used = 0
  private readonly free: number[] = []
  private readonly dispatcher: NotificationDispatcher<K, V>
  private readonly flights = new Map<K, Flight<V>>()
  private readonly coordinator: FlightCoordinator<K> | undefined
  private readonly invalidation: InvalidationLink<K> | undefined
  // Stale-while-revalidate (all off by default: graceMs 0, refreshAhead 0).
  private readonly graceMs: number
  private readonly softTimeoutMs: number
  private readonly refreshAhead: number
  private readonly refreshTimeoutMs: number | undefined
  /** Each slot's TTL (Infinity: none), kept only with `refreshAheadRatio`. */
  private ttlAt: Float64Array | undefined
  /** Refreshes still running, detached or not: dispose aborts them (no timer outlives the cache). */
  private readonly refreshing = new Set<Flight<V>>()

  // Statistics, updated inside the state changes.
  private hits = 0
  private misses = 0
  private loads = 0
  private loadErrors = 0
  private coalesced = 0
  private evicted = 0
  private expired = 0
  private deleted = 0
  private replaced = 0
  private cleared = 0
  private invalidated = 0
  private staleHits = 0
  private staleOnError = 0
  private staleOnTimeout = 0
  private refreshes = 0
  private refreshErrors = 0

  // The remembered clock reading (see the module comment).
  private reading = 0
  private readingUses = 0
  private readingQueued = false
  // Slots whose expiry was computed from `reading` since it was taken, with that expiry:
  // provisional expiries, moved forward by the next real reading (see the module
  // comment). Each one uses up a use of the reading, so READING_USES bounds them.
  private provisionalCount = 0
  private provisionalSlots: Int32Array | undefined
  private provisionalExps: Float64Array | undefined
  private readonly forgetReading = (): void => {
    if (this.provisionalCount !== 0) this.settleProvisional(this.readClock())
    this.readingUses = 0
    this.readingQueued = false
  }

  private pruneTimer: TimerHandle | undefined
  private readonly pruneIntervalMs: number | undefined
  private disposed = false
  private disposeReason: DisposedError | undefined

  /**
   * @param options `capacity` (required, positive integer), `ttlMs`, `onEvict`,
   * `notifyConcurrency` (default 64), `notifyTimeoutMs` (default 5000), `onError`,
   * `name`, `clock`, `pruneIntervalMs`, `coordinator`, `invalidation`, and for
   * stale-while-revalidate `graceMs` (default 0), `softTimeoutMs` (default 0),
   * `refreshAheadRatio` (default off) and `refreshTimeoutMs` (default 30000). Bad values
   * throw a `TypeError`/`RangeError` naming the option and the value.
   */
  constructor(options: LruTtlCacheOptions<K, V>) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`asyncsafe: LruTtlCache options must be an object with a capacity, received ${describe(options)}`)
    }
    checkOptions('LruTtlCache: options', options, CACHE_OPTIONS)
    this.capacity = checkPositiveInteger('capacity', options.capacity)
    this.defaultTtl = checkTtl('ttlMs', options.ttlMs)
    const onEvict = checkOptionalFunction<EvictionObserver<K, V>>('onEvict', options.onEvict)
    const concurrency = checkConcurrency(options.notifyConcurrency)
    const timeoutMs = options.notifyTimeoutMs === undefined ? DEFAULT_NOTIFY_TIMEOUT_MS : checkTimeout('notifyTimeoutMs', options.notifyTimeoutMs)
    this.onError = checkOptionalFunction<OnError>('onError', options.onError)
    this.name = checkOptionalString('name', options.name)
    this.clock = checkOptionalFunction<() => number>('clock', options.clock)
    const pruneIntervalMs = options.pruneIntervalMs === undefined ? undefined : checkPositiveFinite('pruneIntervalMs', options.pruneIntervalMs)
    this.graceMs = checkTimeout('graceMs', options.graceMs) ?? (options.graceMs === undefined ? 0 : Infinity)
    this.softTimeoutMs = checkTimeout('softTimeoutMs', options.softTimeoutMs) ?? (options.softTimeoutMs === undefined ? 0 : Infinity)
    this.refreshAhead = options.refreshAheadRatio === undefined ? 0 : checkRatio('refreshAheadRatio', options.refreshAheadRatio)
    this.refreshTimeoutMs = options.refreshTimeoutMs === undefined ? DEFAULT_REFRESH_TIMEOUT_MS : checkTimeout('refreshTimeoutMs', options.refreshTimeoutMs)
    if (options.coordinator !== undefined) checkFunction('coordinator.run', (options.coordinator as { run?: unknown }).run)
    this.coordinator = options.coordinator
    if (options.invalidation !== undefined) {
      checkFunction('invalidation.join', (options.invalidation as { join?: unknown }).join)
      this.invalidation = options.invalidation.join({
        onRemote: (event) => {
          this.applyInvalidation(event)
        },
        onReset: () => {
          this.applyInvalidation({ type: 'clear' })
        },
      })
    }

    const slots = Math.min(this.capacity, INITIAL_SLOTS)
    this.next = new Int32Array(slots)
    this.prev = new Int32Array(slots)
    this.expires = new Float64Array(slots)
    if (this.refreshAhead !== 0) this.ttlAt = new Float64Array(slots)
    this.dispatcher = new NotificationDispatcher<K, V>({ concurrency, timeoutMs, onError: this.onError, name: this.name })
    if (onEvict !== undefined) this.dispatcher.subscribe(onEvict)
    this.pruneIntervalMs = pruneIntervalMs
    if (pruneIntervalMs !== undefined) this.pruneTimer = armTimer(pruneIntervalMs, prune, this, undefined, true)
  }

  /** @internal The prune timer fired: prune, then re-arm (a timeout re-armed rather than an interval, so any interval is honoured). */
  pruneTick(): void {
    if (this.disposed) return
    this.pruneTimer = armTimer(this.pruneIntervalMs!, prune, this, undefined, true)
    void this.pruneExpired()
  }

  /** Number of entries stored: live ones, ones in their grace window, and expired ones not found yet. */
  get size(): number {
    return this.index.size
  }

  /**
   * The value of a live entry, marking it most recently used; `undefined` on a miss.
   * An expired entry is a miss: it is removed and notified `'expired'`, unless it is in
   * its grace window (`graceMs`), where it is kept for `getOrLoad` to serve. Synchronous.
   *
   * @example
   * ```ts
   * const conn = cache.get('db') ?? (await connect())
   * ```
   */
  get(key: K): V | undefined {
    const i = this.index.get(key)
    if (i === undefined) {
      this.misses++
      if (missChannel?.hasSubscribers) publishAccess(missChannel, this.name, key)
      return undefined
    }
    const exp = this.expires[i]!
    if (exp !== Infinity && !this.isLive(i, exp)) {
      this.misses++
      if (missChannel?.hasSubscribers) publishAccess(missChannel, this.name, key)
      // An entry in its grace window stays for getOrLoad; only a dead one is removed.
      if (this.graceMs === 0 || !this.isHeld(i, exp)) this.removeFound(i)
      return undefined
    }
    this.hits++
    if (hitChannel?.hasSubscribers) publishAccess(hitChannel, this.name, key)
    if (i !== this.head) this.moveToHead(i)
    return this.valueAt[i]
  }

  /**
   * The value of a live entry without touching its recency or the hit/miss stats.
   * An expired entry found here is removed and notified `'expired'`; one in its grace
   * window gives `undefined` and is kept.
   *
   * @example
   * ```ts
   * if (cache.peek('db') === undefined) warmUp()
   * ```
   */
  peek(key: K): V | undefined {
    const i = this.liveIndex(key)
    return i === NIL ? undefined : this.valueAt[i]
  }

  /**
   * Whether a live entry exists, without touching its recency or the stats. An
   * expired entry found here is removed and notified `'expired'`; one in its grace window
   * gives `false` and is kept.
   *
   * @example
   * ```ts
   * if (!cache.has(id)) prefetch(id)
   * ```
   */
  has(key: K): boolean {
    return this.liveIndex(key) !== NIL
  }

  /**
   * Stores `value` under `key` as the most recently used entry, with `ttlMs` (or the
   * cache's default) counted from now. The state change, evictions included, is done
   * when this returns; the promise resolves once the notifications this call caused
   * (`'replaced'`, `'evicted'`, `'expired'`) have settled, and never rejects because an
   * observer failed. Setting the very same value (`Object.is`) notifies nothing but
   * still refreshes recency and TTL, also over an expired entry (counted in
   * `evictions.expired`, not notified, since that value is live again). Rejects with a RangeError for a bad `ttlMs`, and
   * with a `DisposedError` (storing nothing) once the cache was disposed.
   *
   * @example
   * ```ts
   * cache.set('a', 1)                       // no need to await: the entry is there now
   * await cache.set('b', 2, { ttlMs: 500 }) // and its eviction notifications have run
   * ```
   */
  set(key: K, value: V, options?: SetOptions): Promise<void> {
    if (this.disposed) return Promise.reject(disposedError('set'))
    let ttl = this.defaultTtl
    if (options !== undefined) {
      try {
        const o = checkOptions<SetOptions>('LruTtlCache.set: options', options, SET_OPTIONS)
        if (o.ttlMs !== undefined) ttl = checkTtl('ttlMs', o.ttlMs)
      } catch (error) {
        return Promise.reject(error)
      }
    }
    this.store(key, value, ttl)
    this.invalidation?.publish({ type: 'key', key })
    return this.dispatcher.take()
  }

  /**
   * Removes `key`. Resolves with `true` only when a live entry, or one in its grace
   * window (a value `getOrLoad` could still serve), was removed (notified `'deleted'`),
   * once its notifications settled; an expired entry past its grace window is removed and
   * notified `'expired'` and gives `false`; an absent key notifies nothing. A load or
   * refresh of `key` in flight is detached: its callers still get its result, it is not
   * stored.
   *
   * @example
   * ```ts
   * if (await cache.delete('session:1')) log('logged out')
   * ```
   */
  delete(key: K): Promise<boolean> {
    if (this.flights.size !== 0) this.flights.delete(key)
    this.invalidation?.publish({ type: 'key', key })
    const i = this.index.get(key)
    if (i === undefined) return Promise.resolve(false)
    const exp = this.expires[i]!
    const live = exp === Infinity || this.isHeld(i, exp)
    this.remove(i, live ? 'deleted' : 'expired')
    const done = this.dispatcher.take()
    return done === RESOLVED ? Promise.resolve(live) : done.then(() => live)
  }

  /**
   * Removes every expired entry (notified `'expired'`) and resolves with how many,
   * once their notifications settled. Entries in their grace window stay. O(size).
   *
   * @example
   * ```ts
   * const removed = await cache.pruneExpired()
   * ```
   */
  pruneExpired(): Promise<number> {
    let removed = 0
    if (this.index.size !== 0) {
      const now = this.now()
      const grace = this.graceMs
      let i = this.tail
      while (i !== NIL) {
        const before = this.prev[i]!
        if (this.expires[i]! + grace < now) {
          this.remove(i, 'expired')
          removed++
        }
        i = before
      }
    }
    const done = this.dispatcher.take()
    return done === RESOLVED ? Promise.resolve(removed) : done.then(() => removed)
  }

  /**
   * Removes every entry, each notified `'cleared'` (or `'expired'` if it had expired
   * past its grace window),
   * least recently used first, and detaches every load in flight (their results are
   * not stored). Resolves once those notifications settled.
   *
   * @example
   * ```ts
   * await cache.clear()
   * ```
   */
  clear(): Promise<void> {
    this.clearEntries()
    this.invalidation?.publish({ type: 'clear' })
    return this.dispatcher.take()
  }

  /**
   * The value of a live entry (a hit), or the result of `loader(key, { signal })`,
   * stored with `ttlMs`. One loader run per key at a time: concurrent callers join it
   * (counted as `coalesced`) and all get its value or its error; errors are not cached.
   * A caller leaves on its own `signal` (rejecting with `signal.reason`) or `timeoutMs`
   * (rejecting with a `TimeoutError`) without affecting the others; when every caller
   * left, the loader's signal aborts and its result is not stored, and the next caller
   * starts a fresh load. `set`, `delete` or `clear` of the key during a load detach the
   * load (its callers still get its result; it is not stored). Once the cache was
   * disposed it rejects with a `DisposedError` without calling the loader.
   *
   * Stale-while-revalidate (off unless the cache has `graceMs` or `refreshAheadRatio`):
   * an entry in its grace window starts (or joins) one background refresh of the key,
   * and the caller is served the stale value at once (`softTimeoutMs` 0, the default),
   * when the refresh passes its `softTimeoutMs` or `timeoutMs`, or when the refresh
   * fails; a refresh that settles first serves its fresh value. The refresh goes on in the
   * background up to `refreshTimeoutMs` and stores its value when it succeeds (the stale
   * value is then notified `'replaced'`). With `refreshAheadRatio`, a hit on an entry past
   * that fraction of its TTL also starts a background refresh. Every stale answer is
   * counted (`staleHits`, `staleOnError`, `staleOnTimeout`); to see it per call, use
   * {@link getOrLoadWithStatus}. `allowStale: false` makes a stale entry a plain miss for
   * that caller.
   *
   * @example
   * ```ts
   * const user = await cache.getOrLoad(id, (key, { signal }) => db.users.find(key, { signal }), { signal: req.signal })
   * ```
   */
  getOrLoad(key: K, loader: Loader<K, V>, options?: GetOrLoadOptions): Promise<V> {
    return this.lookup(key, loader, options, false) as Promise<V>
  }

  /**
   * `getOrLoad` that also says where the value came from: resolves with `{ value, stale,
   * status, refreshing, error? }` (see {@link LoadResult}), so a caller can tell a stale
   * answer (`stale: true`; `status` `'stale'`, `'stale-on-timeout'` or `'stale-on-error'`
   * with the refresh's `error`) from a fresh one (`'hit'`, `'loaded'`). Same loads, same
   * single flight, same rejections and same stats as `getOrLoad`.
   *
   * @example
   * ```ts
   * const cache = new LruTtlCache<string, Rates>({ capacity: 10, ttlMs: 60_000, graceMs: 3_600_000, softTimeoutMs: 100 })
   * const { value, stale, status, error } = await cache.getOrLoadWithStatus('EUR', fetchRates)
   * if (stale) log.warn({ status, error }, 'serving stale exchange rates')
   * ```
   */
  getOrLoadWithStatus(key: K, loader: Loader<K, V>, options?: GetOrLoadOptions): Promise<LoadResult<V>> {
    return this.lookup(key, loader, options, true) as Promise<LoadResult<V>>
  }

  /**
   * Adds an observer, called as `observer({ key, value, cause }, { signal })` for every
   * later removal. Disposing the returned handle unsubscribes it (calls already
   * queued are still delivered).
   *
   * @example
   * ```ts
   * using sub = cache.observe(({ key, cause }) => metrics.count(`cache.${cause}`))
   * ```
   */
  observe(observer: EvictionObserver<K, V>): Disposable {
    const fn = checkFunction<EvictionObserver<K, V>>('observer', observer)
    const unsubscribe = this.dispatcher.subscribe(fn)
    return { [Symbol.dispose]: unsubscribe }
  }

  /**
   * Keys of the live entries, most recently used first (a snapshot array). Expired
   * entries found here are removed and notified `'expired'`; entries in their grace
   * window are left out and kept; recency is unchanged.
   *
   * @example
   * ```ts
   * for (const key of cache.keys()) console.log(key)
   * ```
   */
  keys(): K[] {
    const out: K[] = []
    this.sweep((i) => out.push(this.keyAt[i] as K))
    return out
  }

  /**
   * Values of the live entries, most recently used first (a snapshot array), like
   * `keys()`.
   *
   * @example
   * ```ts
   * const conns = cache.values()
   * ```
   */
  values(): V[] {
    const out: V[] = []
    this.sweep((i) => out.push(this.valueAt[i] as V))
    return out
  }

  /**
   * `[key, value]` pairs of the live entries, most recently used first (a snapshot),
   * like `keys()`.
   *
   * @example
   * ```ts
   * const snapshot = new Map(cache.entries())
   * ```
   */
  entries(): [K, V][] {
    const out: [K, V][] = []
    this.sweep((i) => out.push([this.keyAt[i] as K, this.valueAt[i] as V]))
    return out
  }

  /** Iterates `entries()`. */
  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries()[Symbol.iterator]()
  }

  /**
   * A snapshot of the counters; every one is up to date inside observers.
   *
   * @example
   * ```ts
   * const { hits, misses, hitRate } = cache.stats()
   * ```
   */
  stats(): CacheStats {
    const lookups = this.hits + this.misses
    const d = this.dispatcher
    return {
      hits: this.hits,
      misses: this.misses,
      hitRate: lookups === 0 ? 0 : this.hits / lookups,
      loads: this.loads,
      loadErrors: this.loadErrors,
      coalesced: this.coalesced,
      staleHits: this.staleHits,
      staleOnError: this.staleOnError,
      staleOnTimeout: this.staleOnTimeout,
      refreshes: this.refreshes,
      refreshErrors: this.refreshErrors,
      evictions: { evicted: this.evicted, expired: this.expired, deleted: this.deleted, replaced: this.replaced, cleared: this.cleared, invalidated: this.invalidated },
      observerErrors: d.errors,
      observerTimeouts: d.timeouts,
      pendingNotifications: d.pending,
      size: this.index.size,
      capacity: this.capacity,
    }
  }

  /**
   * Resolves once every queued or running observer call has settled (or timed out).
   * Called from inside an observer, it does not wait for that observer's own call.
   *
   * @example
   * ```ts
   * await cache.settled()
   * ```
   */
  settled(): Promise<void> {
    return this.dispatcher.settled()
  }

  /**
   * Disposes the cache at once: stops the prune timer, aborts loads and refreshes in
   * flight, detached ones included (their callers reject with a `DisposedError`) and clears every entry (notified
   * `'cleared'`), without waiting for the observers. Idempotent; never throws. A
   * disposed cache stays empty: `set` and `getOrLoad` reject with a `DisposedError`;
   * `get`, `has`, `peek`, `delete`, `clear` and the rest keep working (on nothing).
   *
   * @example
   * ```ts
   * using cache = new LruTtlCache<string, number>({ capacity: 10 })
   * ```
   */
  [Symbol.dispose](): void {
    this.teardown()
  }

  /**
   * Disposes the cache like `[Symbol.dispose]`, then waits like `settled()` until every
   * notification has settled (each bounded by `notifyTimeoutMs`); awaited inside an
   * observer, it does not wait for calls that need that observer's own slot or chain.
   * Idempotent; never rejects.
   *
   * @example
   * ```ts
   * await using cache = new LruTtlCache<string, Conn>({ capacity: 100, onEvict: ({ value }) => value.close() })
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.teardown()
    // Asked per caller: what an observer may wait for differs from what the owner may.
    return this.dispatcher.settled()
  }

  // ---------------------------------------------------------------- internals

  private teardown(): void {
    if (this.disposed) return
    this.disposed = true
    this.invalidation?.[Symbol.dispose]()
    disarmTimer(this.pruneTimer)
    this.pruneTimer = undefined
    const flights = [...this.flights.values(), ...this.refreshing]
    if (flights.length !== 0) {
      const reason = (this.disposeReason = new DisposedError('The cache was disposed while this load was in flight'))
      for (const f of flights) f.abort(reason)
    }
    this.clearEntries()
    void this.dispatcher.take()
  }

  /** A real clock reading; with the native clock, remembered for the current job. */
  private now(): number {
    const clock = this.clock
    if (clock !== undefined) return clock()
    const perf = (globalThis as { performance: { now(): number } }).performance
    const t = perf.now()
    if (perf === nativePerformance && perf.now === nativeNow) {
      if (this.provisionalCount !== 0) this.settleProvisional(t)
      this.reading = t
      this.readingUses = READING_USES
      if (!this.readingQueued) {
        this.readingQueued = true
        queueMicrotask(this.forgetReading)
      }
    }
    return t
  }

  /** The default clock, read without remembering it (for the microtask that forgets the reading). */
  private readClock(): number {
    return (globalThis as { performance: { now(): number } }).performance.now()
  }

  /**
   * Moves each provisional expiry (computed from `reading`) forward to real time `t`.
   * A listed slot whose expiry changed since (removed and reused, or set again and
   * listed again) is skipped: its entry is not the one listed, or is listed later.
   */
  private settleProvisional(t: number): void {
    const slots = this.provisionalSlots!
    const exps = this.provisionalExps!
    const shift = t - this.reading
    const expires = this.expires
    for (let j = 0; j < this.provisionalCount; j++) {
      const slot = slots[j]!
      const exp = exps[j]!
      if (expires[slot] === exp) expires[slot] = exp + shift
    }
    this.provisionalCount = 0
  }

  /**
   * The expiry of an entry stored now in `slot` with `ttl`: from the remembered reading
   * when there is one (provisional: listed until the next real reading), else from a
   * real reading. Computed after every other clock use of the same call.
   */
  private expiryFor(slot: number, ttl: number | undefined): number {
    if (ttl === undefined) return Infinity
    if (this.readingUses > 0) {
      this.readingUses--
      const exp = this.reading + ttl
      const n = this.provisionalCount++
      if (n === 0 && this.provisionalSlots === undefined) {
        this.provisionalSlots = new Int32Array(READING_USES)
        this.provisionalExps = new Float64Array(READING_USES)
      }
      this.provisionalSlots![n] = slot
      this.provisionalExps![n] = exp
      return exp
    }
    return this.now() + ttl
  }

  /**
   * Whether the entry in slot `i`, expiring at `exp` (finite, read from the slot), is
   * live now. After a real reading the slot is read again: that reading may have settled
   * a provisional expiry.
   */
  private isLive(i: number, exp: number): boolean {
    if (this.readingUses > 0 && exp - this.reading > STALE_SLACK_MS) {
      this.readingUses--
      return true
    }
    return this.now() <= this.expires[i]!
  }

  /**
   * Index of a live entry; NIL otherwise, removing the entry (notified 'expired') if it
   * expired and is past its grace window too.
   */
  private liveIndex(key: K): number {
    const i = this.index.get(key)
    if (i === undefined) return NIL
    const exp = this.expires[i]!
    if (exp !== Infinity && !this.isLive(i, exp)) {
      if (this.graceMs === 0 || !this.isHeld(i, exp)) this.removeFound(i)
      return NIL
    }
    return i
  }

  /**
   * Whether the entry in slot `i`, expiring at `exp` (finite), is still held: live, or
   * expired but within its grace window (servable stale). Without grace, `isLive`.
   */
  private isHeld(i: number, exp: number): boolean {
    const grace = this.graceMs
    if (grace === 0) return this.isLive(i, exp)
    if (this.readingUses > 0 && exp + grace - this.reading > STALE_SLACK_MS) {
      this.readingUses--
      return true
    }
    return this.now() <= this.expires[i]! + grace
  }

  /** Removes an expired entry found by a synchronous read; its notification's promise is nobody's. */
  private removeFound(i: number): void {
    this.remove(i, 'expired')
    void this.dispatcher.take()
  }

  private store(key: K, value: V, ttl: number | undefined): void {
    if (this.flights.size !== 0) this.flights.delete(key)
    const i = this.index.get(key)
    if (i !== undefined) {
      const oldExp = this.expires[i]!
      const old = this.valueAt[i] as V
      // An entry in its grace window is still held: its value is 'replaced', not 'expired'.
      const wasLive = oldExp === Infinity || this.isHeld(i, oldExp)
      this.valueAt[i] = value
      this.expires[i] = this.expiryFor(i, ttl)
      if (this.ttlAt !== undefined) this.ttlAt[i] = ttl ?? Infinity
      if (i !== this.head) this.moveToHead(i)
      if (!wasLive) {
        // Counted, but the very same value stored again is not notified: an observer
        // releasing it (value.close()) would release the value now live.
        this.expired++
        if (evictChannel?.hasSubscribers) publishEvict(this.name, key, 'expired')
        if (!Object.is(old, value)) this.dispatcher.notify(key, old, 'expired')
      } else if (!Object.is(old, value)) {
        this.replaced++
        if (evictChannel?.hasSubscribers) publishEvict(this.name, key, 'replaced')
        this.dispatcher.notify(key, old, 'replaced')
      }
      return
    }
    if (this.index.size === this.capacity) {
      const victim = this.tail
      const vexp = this.expires[victim]!
      this.remove(victim, vexp === Infinity || this.isHeld(victim, vexp) ? 'evicted' : 'expired')
    }
    const slot = this.allocate()
    this.keyAt[slot] = key
    this.valueAt[slot] = value
    this.expires[slot] = this.expiryFor(slot, ttl)
    if (this.ttlAt !== undefined) this.ttlAt[slot] = ttl ?? Infinity
    this.index.set(key, slot)
    this.prev[slot] = NIL
    this.next[slot] = this.head
    if (this.head !== NIL) this.prev[this.head] = slot
    else this.tail = slot
    this.head = slot
  }

  private allocate(): number {
    if (this.free.length !== 0) return this.free.pop()!
    if (this.used === this.next.length) this.grow()
    return this.used++
  }

  private grow(): void {
    const size = Math.min(this.capacity, this.next.length * 2)
    const next = new Int32Array(size)
    next.set(this.next)
    this.next = next
    const prev = new Int32Array(size)
    prev.set(this.prev)
    this.prev = prev
    const expires = new Float64Array(size)
    expires.set(this.expires)
    this.expires = expires
    if (this.ttlAt !== undefined) {
      const ttls = new Float64Array(size)
      ttls.set(this.ttlAt)
      this.ttlAt = ttls
    }
  }

  private moveToHead(i: number): void {
    const p = this.prev[i]!
    const n = this.next[i]!
    this.next[p] = n
    if (n !== NIL) this.prev[n] = p
    else this.tail = p
    this.prev[i] = NIL
    this.next[i] = this.head
    this.prev[this.head] = i
    this.head = i
  }

  /** Unlinks slot `i`, counts the removal and queues its notification. */
  private remove(i: number, cause: EvictionCause): void {
    const key = this.keyAt[i] as K
    const value = this.valueAt[i] as V
    const p = this.prev[i]!
    const n = this.next[i]!
    if (p !== NIL) this.next[p] = n
    else this.head = n
    if (n !== NIL) this.prev[n] = p
    else this.tail = p
    this.index.delete(key)
    this.keyAt[i] = undefined
    this.valueAt[i] = undefined
    this.free.push(i)
    this[cause]++
    if (evictChannel?.hasSubscribers) publishEvict(this.name, key, cause)
    this.dispatcher.notify(key, value, cause)
  }

  /** Another instance changed `event.key` (or cleared): remove it here, `'invalidated'` (`'expired'` if it had expired). */
  private applyInvalidation(event: InvalidationEvent<K>): void {
    if (this.disposed) return
    if (event.type === 'clear') {
      this.flights.clear()
      const now = this.index.size === 0 ? 0 : this.now()
      let i = this.tail
      while (i !== NIL) {
        const before = this.prev[i]!
        this.remove(i, this.expires[i]! + this.graceMs < now ? 'expired' : 'invalidated')
        i = before
      }
    } else {
      // A load in flight may have read what the other instance just replaced: detach it.
      if (this.flights.size !== 0) this.flights.delete(event.key)
      const i = this.index.get(event.key)
      if (i === undefined) return
      const exp = this.expires[i]!
      this.remove(i, exp === Infinity || this.isHeld(i, exp) ? 'invalidated' : 'expired')
    }
    void this.dispatcher.take()
  }

  private clearEntries(): void {
    this.flights.clear()
    if (this.index.size === 0) return
    const now = this.now()
    let i = this.tail
    while (i !== NIL) {
      const before = this.prev[i]!
      this.remove(i, this.expires[i]! + this.graceMs < now ? 'expired' : 'cleared')
      i = before
    }
  }

  /**
   * Calls `visit` for each live entry, most recently used first, removing expired ones
   * past their grace window (entries in it are skipped, not removed).
   */
  private sweep(visit: (i: number) => void): void {
    if (this.index.size === 0) return
    const now = this.now()
    const grace = this.graceMs
    let i = this.head
    let removedAny = false
    while (i !== NIL) {
      const after = this.next[i]!
      const exp = this.expires[i]!
      if (exp + grace < now) {
        this.remove(i, 'expired')
        removedAny = true
      } else if (exp >= now) {
        visit(i)
      }
      i = after
    }
    if (removedAny) void this.dispatcher.take()
  }

  /**
   * Starts a load of `key` and lists it as the key's flight. A `refresh` (the key still
   * holds a value: stale in its grace window, or live for an early refresh) is owned:
   * callers leaving do not abandon it, since its result is wanted whoever waits, and
   * `refreshTimeoutMs` bounds it instead; its failure is counted and reported.
   */
  private startLoad(key: K, loader: Loader<K, V>, ttl: number | undefined, refresh = false): Flight<V> {
    // Read only for a subscriber of asyncsafe:cache:load (its message's durationMs).
    const startedAt = loadChannel?.hasSubscribers ? this.loadClock() : undefined
    const flight = new Flight<V>({
      owned: refresh,
      timeoutMs: refresh ? this.refreshTimeoutMs : undefined,
      label: 'asyncsafe cache refresh',
      onDone: (f) => {
        if (loadChannel?.hasSubscribers) this.publishLoadEnd(key, f, startedAt)
        const current = this.flights.get(key) === f
        if (current) this.flights.delete(key)
        if (refresh) this.refreshing.delete(f)
        if (f.state === 'fulfilled') {
          // A detached (set/delete/clear during the load) or abandoned load is not stored.
          if (current) {
            this.store(key, f.value as V, ttl)
            void this.dispatcher.take()
          }
        } else if (f.state === 'rejected' && (this.disposeReason === undefined || f.error !== this.disposeReason)) {
          this.loadErrors++
          if (refresh) {
            this.refreshErrors++
            // Nobody awaits a refresh's failure: report it, never from inside a cache call.
            const error = f.error
            queueMicrotask(() => {
              reportError(this.onError, error, { area: 'cache', event: 'refresh-error', name: this.name, key })
            })
          }
        }
      },
    })
    this.flights.set(key, flight)
    if (refresh) this.refreshing.add(flight)
    const coordinator = this.coordinator
    flight.start(coordinator === undefined ? (signal) => loader(key, { signal }) : (signal) => coordinator.run(key, (s) => loader(key, { signal: s }), signal))
    return flight
  }

  /** `getOrLoad` (`status` false: resolves with the value) and `getOrLoadWithStatus` (resolves with a LoadResult). */
  private lookup(key: K, loader: Loader<K, V>, options: GetOrLoadOptions | undefined, status: boolean): Promise<V | LoadResult<V>> {
    let signal: AbortSignal | undefined
    let timeoutMs: number | undefined
    let ttl = this.defaultTtl
    let soft = this.softTimeoutMs
    let allowStale = true
    try {
      checkFunction('loader', loader)
      if (options !== undefined) {
        const o = checkOptions<GetOrLoadOptions>(status ? 'LruTtlCache.getOrLoadWithStatus: options' : 'LruTtlCache.getOrLoad: options', options, GET_OR_LOAD_OPTIONS)
        signal = checkSignal('signal', o.signal)
        timeoutMs = checkTimeout('timeoutMs', o.timeoutMs)
        if (o.ttlMs !== undefined) ttl = checkTtl('ttlMs', o.ttlMs)
        if (o.softTimeoutMs !== undefined) soft = checkTimeout('softTimeoutMs', o.softTimeoutMs) ?? Infinity
        if (o.allowStale !== undefined) allowStale = checkOptionalBoolean('allowStale', o.allowStale)!
      }
    } catch (error) {
      return Promise.reject(error)
    }
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (this.disposed) return Promise.reject(disposedError(status ? 'getOrLoadWithStatus' : 'getOrLoad'))
    let staleAt = NIL
    const i = this.index.get(key)
    if (i !== undefined) {
      const exp = this.expires[i]!
      if (exp === Infinity || this.isLive(i, exp)) {
        this.hits++
        if (hitChannel?.hasSubscribers) publishAccess(hitChannel, this.name, key)
        if (i !== this.head) this.moveToHead(i)
        const value = this.valueAt[i] as V
        const refreshing = this.refreshAhead !== 0 && exp !== Infinity && this.refreshAheadOf(key, i, loader, ttl)
        return Promise.resolve(status ? result(value, 'hit', refreshing) : value)
      }
      if (this.graceMs !== 0 && this.isHeld(i, exp)) staleAt = i
      else this.removeFound(i)
    }
    this.misses++
    if (missChannel?.hasSubscribers) publishAccess(missChannel, this.name, key)
    // The map holds only loads still running: a settled one leaves it in its onDone.
    let flight = this.flights.get(key)
    if (staleAt !== NIL && allowStale) {
      const stale = this.valueAt[staleAt] as V
      if (staleAt !== this.head) this.moveToHead(staleAt)
      if (flight !== undefined) {
        this.coalesced++
      } else {
        this.loads++
        this.refreshes++
        flight = this.startLoad(key, loader, ttl, true)
        // A loader that settled synchronously: its value (stored now), or the stale one.
        if (flight.state === 'fulfilled') return Promise.resolve(status ? result(flight.value as V, 'loaded', false) : (flight.value as V))
      }
      return this.waitOrStale(flight, stale, Math.min(soft, timeoutMs ?? Infinity), signal, status)
    }
    if (timeoutMs === 0) return Promise.reject(new TimeoutError('asyncsafe cache getOrLoad: timeoutMs 0 and no live entry', { timeoutMs: 0 }))
    if (flight !== undefined) {
      this.coalesced++
    } else {
      this.loads++
      // A stale entry this caller may not be served (allowStale: false) is refreshed all the same.
      if (staleAt !== NIL) this.refreshes++
      flight = this.startLoad(key, loader, ttl, staleAt !== NIL)
    }
    const joined = timeoutMs === undefined ? flight.join(signal) : this.joinWithTimeout(flight, signal, timeoutMs)
    return status ? joined.then((value) => result(value, 'loaded', false)) : joined
  }

  /**
   * Early refresh: a hit on the live entry in slot `i` past `refreshAheadRatio` of its TTL
   * starts one background refresh (unless one runs). Whether a refresh is running after.
   */
  private refreshAheadOf(key: K, i: number, loader: Loader<K, V>, ttl: number | undefined): boolean {
    const running = this.flights.size === 0 ? undefined : this.flights.get(key)
    if (running !== undefined) return running.running
    const entryTtl = this.ttlAt![i]!
    if (entryTtl === Infinity || this.now() < this.expires[i]! - entryTtl * (1 - this.refreshAhead)) return false
    this.loads++
    this.refreshes++
    return this.startLoad(key, loader, ttl, true).running
  }

  /**
   * A caller holding `stale` waits for `flight` at most `waitMs` (its soft timeout, or its
   * own `timeoutMs` if sooner): the fresh value if the refresh succeeds first, else the
   * stale one (counted). Its `signal` still rejects it with `signal.reason`, and a load
   * aborted by dispose with the `DisposedError`. The refresh is owned: leaving never
   * aborts it.
   */
  private waitOrStale(flight: Flight<V>, stale: V, waitMs: number, signal: AbortSignal | undefined, status: boolean): Promise<V | LoadResult<V>> {
    const settled = flight.state
    if (settled === 'rejected' || settled === 'abandoned') {
      // A loader that failed synchronously.
      if (this.disposeReason !== undefined && flight.error === this.disposeReason) return Promise.reject(flight.error)
      this.staleHits++
      this.staleOnError++
      return Promise.resolve(status ? result(stale, 'stale-on-error', false, flight.error) : stale)
    }
    if (waitMs === 0) {
      this.staleHits++
      return Promise.resolve(status ? result(stale, 'stale', true) : stale)
    }
    return new Promise<V | LoadResult<V>>((resolve, reject) => {
      let done = false
      let timer: TimerHandle | undefined
      const finish = (): boolean => {
        if (done) return false
        done = true
        disarmTimer(timer)
        signal?.removeEventListener('abort', onAbort)
        return true
      }
      const onAbort = (): void => {
        if (finish()) reject(signal!.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      timer = armTimer(waitMs, () => {
        timer = undefined
        if (!finish()) return
        this.staleHits++
        this.staleOnTimeout++
        resolve(status ? result(stale, 'stale-on-timeout', flight.running) : stale)
      })
      flight.join().then(
        (value) => {
          if (finish()) resolve(status ? result(value, 'loaded', false) : value)
        },
        (error: unknown) => {
          if (!finish()) return
          if (this.disposeReason !== undefined && error === this.disposeReason) {
            reject(error)
            return
          }
          this.staleHits++
          this.staleOnError++
          resolve(status ? result(stale, 'stale-on-error', false, error) : stale)
        },
      )
    })
  }

  private loadClock(): number {
    return this.clock === undefined ? performance.now() : this.clock()
  }

  private publishLoadEnd(key: K, f: Flight<V>, startedAt: number | undefined): void {
    const outcome = f.state === 'running' ? 'abandoned' : f.state
    const durationMs = startedAt === undefined ? undefined : this.loadClock() - startedAt
    publishLoad(outcome === 'rejected' ? { name: this.name, key, outcome, durationMs, error: f.error } : { name: this.name, key, outcome, durationMs })
  }

  private joinWithTimeout(flight: Flight<V>, signal: AbortSignal | undefined, timeoutMs: number): Promise<V> {
    // The flight arms this waiter's timer itself (armTimer: no early fire past 24.8 days) and leaves on it: no controller, no signal.
    return flight.join(signal, timeoutMs, 'asyncsafe cache getOrLoad')
  }

}
