/**
 * The diagnostics_channel events of the library's state changes (grants, releases,
 * cache hits, task starts...), as opposed to the failures `report.ts` publishes.
 * Every publisher checks `channel.hasSubscribers` first, so an event costs one property
 * read when nobody subscribes and builds its message only when someone does.
 *
 * This module only names the channels and their messages: `asyncsafe/otel` imports it
 * without loading the modules that publish.
 */
import type { EvictionCause } from '../cache/types.js'

/** `asyncsafe:lock:acquire`: a lock granted (every grant, uncontended ones with `waitMs` 0). */
export const LOCK_ACQUIRE = 'asyncsafe:lock:acquire'
/** `asyncsafe:lock:release`: a hold ended. */
export const LOCK_RELEASE = 'asyncsafe:lock:release'
/** `asyncsafe:cache:hit`: `get` or `getOrLoad` found a live entry. */
export const CACHE_HIT = 'asyncsafe:cache:hit'
/** `asyncsafe:cache:miss`: `get` or `getOrLoad` found no live entry. */
export const CACHE_MISS = 'asyncsafe:cache:miss'
/** `asyncsafe:cache:evict`: an entry left the cache (or its value was replaced), with the cause observers receive. */
export const CACHE_EVICT = 'asyncsafe:cache:evict'
/** `asyncsafe:cache:load`: a `getOrLoad` loader run ended. */
export const CACHE_LOAD = 'asyncsafe:cache:load'
/** `asyncsafe:detached:enqueue`: a task waits in a pool's queue. */
export const DETACHED_ENQUEUE = 'asyncsafe:detached:enqueue'
/** `asyncsafe:detached:start`: a task got a slot of its pool. */
export const DETACHED_START = 'asyncsafe:detached:start'
/** `asyncsafe:detached:end`: a task gave its slot back, or left the queue without running. */
export const DETACHED_END = 'asyncsafe:detached:end'

/** Message of `asyncsafe:lock:acquire`. */
export interface LockAcquireMessage {
  /** The lock's `name` option. */
  readonly name: string | undefined
  /** `'Mutex'`, `'RwLock'` or `'Semaphore'`. */
  readonly kind: string
  /** Time from request to grant, ms on the lock's clock (the value its `stats().wait` records). */
  readonly waitMs: number
}

/** Message of `asyncsafe:lock:release`. */
export interface LockReleaseMessage {
  /** The lock's `name` option. */
  readonly name: string | undefined
  /** `'Mutex'`, `'RwLock'` or `'Semaphore'`. */
  readonly kind: string
  /** Time from grant to release, ms on the lock's clock (the value its `stats().hold` records). */
  readonly heldMs: number
}

/** Message of `asyncsafe:cache:hit` and `asyncsafe:cache:miss`. */
export interface CacheAccessMessage {
  /** The cache's `name` option. */
  readonly name: string | undefined
  /** The key looked up. */
  readonly key: unknown
}

/** Message of `asyncsafe:cache:evict`: one per removal, as counted in `stats().evictions`. */
export interface CacheEvictMessage {
  /** The cache's `name` option. */
  readonly name: string | undefined
  /** The key removed. */
  readonly key: unknown
  /** Why: the cause its observers receive. */
  readonly cause: EvictionCause
}

/** Message of `asyncsafe:cache:load`. */
export interface CacheLoadMessage {
  /** The cache's `name` option. */
  readonly name: string | undefined
  /** The key loaded. */
  readonly key: unknown
  /** `'fulfilled'`, `'rejected'`, or `'abandoned'` (every caller left before it settled). */
  readonly outcome: 'fulfilled' | 'rejected' | 'abandoned'
  /** Run time, ms on the cache's clock; `undefined` when nobody subscribed at its start. */
  readonly durationMs: number | undefined
  /** The failure, for `'rejected'`. */
  readonly error?: unknown
}

/** Fields of every `asyncsafe:detached:enqueue|start|end` message: the pool's state after the change. */
export interface DetachedPoolMessage {
  /** The pool's `name` option (the `pool` field of the failure reports). */
  readonly pool: string | undefined
  /** The task's name (its `name` run option, else the pool's name). */
  readonly name: string | undefined
  /** Tasks waiting in the pool's queue after the change. */
  readonly queued: number
  /** Tasks holding a slot after the change. */
  readonly running: number
  /** The pool itself: tells pools of the same name apart. */
  readonly source: object
}

/** Message of `asyncsafe:detached:start`. */
export interface DetachedStartMessage extends DetachedPoolMessage {
  /** Whether the task had waited in the queue. */
  readonly fromQueue: boolean
}

/** Message of `asyncsafe:detached:end`. */
export interface DetachedEndMessage extends DetachedPoolMessage {
  /**
   * `'succeeded'`, `'failed'`, `'timeout'` (its slot was freed at its deadline; the task may
   * still run), `'aborted'` (a drain deadline with `abortRemaining`), or `'dropped'` (taken out
   * of the queue by such a deadline: it never ran).
   */
  readonly outcome: 'succeeded' | 'failed' | 'timeout' | 'aborted' | 'dropped'
  /** Time from its start, ms on `performance.now()`; `undefined` when dropped or when nobody subscribed at its start. */
  readonly durationMs: number | undefined
  /** The failure, for `'failed'`. */
  readonly error?: unknown
}
