/**
 * `RedisInvalidationChannel`: carries `LruTtlCache` changes to the cache's other
 * instances over Redis pub/sub.
 *
 * @module
 */
import type { InvalidationChannel, InvalidationEvent, InvalidationHandlers, InvalidationLink } from '../cache/invalidation.js'
import { reportError } from '../internal/report.js'
import { checkOptionalFunction, checkOptions, describe, knownOptions } from '../internal/validate.js'
import { ownerToken } from './lease.js'
import { checkKey, parseConnection, type ParsedConnection, type RedisConnectionOptions } from './options.js'
import { SubscriberHub } from './subscriber.js'

/** Options of `new RedisInvalidationChannel(options)`. */
export interface RedisInvalidationChannelOptions<K = string> extends RedisConnectionOptions {
  /** The pub/sub channel name, shared by every instance of the cache. Required. */
  readonly channel: string
  /** Key to string for the wire. Default: strings as they are, finite numbers as `String(n)`; anything else throws. */
  readonly encodeKey?: ((key: K) => string) | undefined
  /** String from the wire to key. Default: the string itself (so give both for non-string keys). */
  readonly decodeKey?: ((text: string) => K) | undefined
}

const KNOWN = knownOptions(['client', 'subscriber', 'onError', 'channel', 'encodeKey', 'decodeKey'], { name: 'channel', key: 'channel' })

/** What `RedisInvalidationChannel.stats()` returns. */
export interface InvalidationChannelStats {
  /** Messages published (local `set`, `delete`, `clear`). */
  readonly published: number
  /** Messages received from other members. */
  readonly received: number
  /** Resets after a subscriber reconnect (each cleared the member's cache). */
  readonly resets: number
  /** Publishes that failed (reported to `onError`). */
  readonly publishErrors: number
}

interface Wire {
  /** Origin: the publishing link, so a cache never invalidates itself. */
  readonly o: string
  /** Key (absent: clear). */
  readonly k?: string
}

function defaultEncode(key: unknown): string {
  if (typeof key === 'string') return key
  if (typeof key === 'number' && Number.isFinite(key)) return String(key)
  throw new TypeError(`asyncsafe: RedisInvalidationChannel needs encodeKey/decodeKey options for a key like ${describe(key)}`)
}

/**
 * A Redis pub/sub channel for the `invalidation` option of `LruTtlCache`. Each cache
 * that joins publishes its local `set`/`delete` (the key) and `clear()` on `channel`;
 * every other member removes the key (or everything) with cause `'invalidated'`.
 *
 * - Delivery is pub/sub's: at most once, to members connected at that moment. When the
 *   subscriber connection comes back after a drop (events may have been lost), every
 *   member clears its local cache (cause `'invalidated'`): stale entries are never kept.
 *   A member that cannot publish (its connection is down) reports the failure to
 *   `onError`; ioredis queues the publish until it reconnects by default.
 * - Each publish is one `PUBLISH` on `client`, sent after the local state change, never
 *   awaited by the cache.
 * - Order: messages of one publisher arrive in order; there is no order across publishers.
 * - Not a consistency protocol: between a write and its message, other instances can
 *   serve the old value. Keep TTLs as the bound on staleness.
 *
 * @example
 * ```ts
 * const invalidation = new RedisInvalidationChannel({ client: redis, channel: 'cache:users' })
 * const users = new LruTtlCache<string, User>({ capacity: 1_000, ttlMs: 60_000, invalidation })
 * await users.delete('user:1') // gone here and, a round trip later, on every other instance
 * ```
 */
export class RedisInvalidationChannel<K = string> implements InvalidationChannel<K> {
  /** The channel name. */
  readonly channel: string
  /** @internal */ private readonly connection: ParsedConnection
  /** @internal */ private readonly encodeKey: (key: K) => string
  /** @internal */ private readonly decodeKey: (text: string) => K
  /** @internal */ private published = 0
  /** @internal */ private received = 0
  /** @internal */ private resets = 0
  /** @internal */ private publishErrors = 0

  /** @param options `client` and `channel` (required), `subscriber`, `encodeKey`, `decodeKey`, `onError`. Throws on bad options. */
  constructor(options: RedisInvalidationChannelOptions<K>) {
    if (options === null || typeof options !== 'object') throw new TypeError('asyncsafe: RedisInvalidationChannel options must be an object with a client and a channel')
    const o = checkOptions<RedisInvalidationChannelOptions<K>>('options', options, KNOWN)
    this.connection = parseConnection(o)
    this.channel = checkKey('options.channel', o.channel)
    this.encodeKey = checkOptionalFunction<(key: K) => string>('options.encodeKey', o.encodeKey) ?? defaultEncode
    this.decodeKey = checkOptionalFunction<(text: string) => K>('options.decodeKey', o.decodeKey) ?? ((text: string) => text as K)
  }

  /**
   * Counters of this channel (all members joined through it).
   *
   * @example
   * ```ts
   * const { received, resets } = channel.stats()
   * ```
   */
  stats(): InvalidationChannelStats {
    return { published: this.published, received: this.received, resets: this.resets, publishErrors: this.publishErrors }
  }

  /**
   * Joins: `handlers.onRemote` gets the other members' events, `handlers.onReset` is
   * called after a reconnect. The cache calls this; dispose of the link leaves (and
   * closes the subscriber asyncsafe created once nothing else uses it).
   *
   * @example
   * ```ts
   * using link = channel.join({ onRemote: (e) => console.log(e), onReset: () => console.log('reset') })
   * ```
   */
  join(handlers: InvalidationHandlers<K>): InvalidationLink<K> {
    const origin = ownerToken()
    const hub = SubscriberHub.acquire(this.connection.client, this.connection.subscriber, this.connection.onError)
    const subscription = hub.listen(this.channel, (message) => {
      let wire: Wire
      let event: InvalidationEvent<K>
      try {
        wire = JSON.parse(message) as Wire
        if (wire.o === origin) return
        event = wire.k === undefined ? { type: 'clear' } : { type: 'key', key: this.decodeKey(wire.k) }
      } catch (error) {
        reportError(this.connection.onError, error, { area: 'redis', event: 'invalidation-message-error', channel: this.channel })
        return
      }
      this.received++
      handlers.onRemote(event)
    })
    const reconnect = hub.onReconnect(() => {
      this.resets++
      handlers.onReset()
    })
    let left = false
    return {
      publish: (event) => {
        if (left) return
        let message: string
        try {
          message = JSON.stringify(event.type === 'clear' ? { o: origin } : { o: origin, k: this.encodeKey(event.key) })
        } catch (error) {
          this.publishErrors++
          reportError(this.connection.onError, error, { area: 'redis', event: 'invalidation-publish-error', channel: this.channel })
          return
        }
        this.published++
        this.connection.client.publish(this.channel, message).catch((error: unknown) => {
          this.publishErrors++
          reportError(this.connection.onError, error, { area: 'redis', event: 'invalidation-publish-error', channel: this.channel })
        })
      },
      [Symbol.dispose]: () => {
        if (left) return
        left = true
        subscription[Symbol.dispose]()
        reconnect[Symbol.dispose]()
        hub.unref()
      },
    }
  }
}
