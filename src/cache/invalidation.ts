/**
 * Cache invalidation across instances: the runtime-neutral contract between an
 * `LruTtlCache` and a channel that carries its changes to the other instances
 * (asyncsafe/redis provides `RedisInvalidationChannel`).
 *
 * @module
 */

/**
 * A change one cache announces: a key written or deleted (`'key'`), or everything
 * cleared (`'clear'`).
 *
 * @example
 * ```ts
 * const event: InvalidationEvent<string> = { type: 'key', key: 'user:1' }
 * ```
 */
export type InvalidationEvent<K> =
  | {
      /** A key was written or deleted. */
      readonly type: 'key'
      /** That key. */
      readonly key: K
    }
  | {
      /** Everything was cleared. */
      readonly type: 'clear'
    }

/**
 * What a joining cache gives the channel.
 *
 * @example
 * ```ts
 * const handlers: InvalidationHandlers<string> = { onRemote: (event) => {}, onReset: () => {} }
 * ```
 */
export interface InvalidationHandlers<K> {
  /** An event published by another member. */
  readonly onRemote: (event: InvalidationEvent<K>) => void
  /** Events may have been lost (e.g. the channel's connection came back): the cache clears itself. */
  readonly onReset: () => void
}

/**
 * One cache's membership of a channel: `publish` announces its local changes; dispose leaves.
 *
 * @example
 * ```ts
 * using link = channel.join({ onRemote, onReset })
 * link.publish({ type: 'clear' })
 * ```
 */
export interface InvalidationLink<K> extends Disposable {
  /** Announces a local change to the other members (never back to this one). Must not throw. */
  publish(event: InvalidationEvent<K>): void
}

/**
 * A channel caches can join (the `invalidation` option of `LruTtlCache`). A cache that
 * joined publishes `{ type: 'key', key }` after each local `set` and `delete` and
 * `{ type: 'clear' }` after `clear()`; every other member then removes that key (or
 * everything), notified with cause `'invalidated'`, and detaches a load of it in flight.
 * Values a cache loads itself (`getOrLoad`) are not announced.
 *
 * @example
 * ```ts
 * const cache = new LruTtlCache<string, User>({ capacity: 1_000, invalidation: new RedisInvalidationChannel({ client: redis, channel: 'users' }) })
 * ```
 */
export interface InvalidationChannel<K> {
  /** Joins the channel. */
  join(handlers: InvalidationHandlers<K>): InvalidationLink<K>
}
