/**
 * The client shapes `asyncsafe/redis` needs, written structurally so that the package
 * never imports a Redis client (not even its types): pass an `ioredis` `Redis` instance.
 *
 * @module
 */

/**
 * The commands asyncsafe sends on your connection: scripts and `PUBLISH`. An `ioredis`
 * `Redis` instance (v5 or v6) fits as is. asyncsafe never closes it.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * const client: RedisClient = new Redis(6379, '127.0.0.1')
 * ```
 */
export interface RedisClient {
  /** `EVALSHA sha numkeys ...keys ...args`; rejects with a `NOSCRIPT` error when the script is not loaded. */
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>
  /** `EVAL script numkeys ...keys ...args` (loads the script into the server's cache). */
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>
  /** `GET key` (single flight reads a finished run's outcome). */
  get(key: string): Promise<string | null>
  /** `PUBLISH channel message`. */
  publish(channel: string, message: string): Promise<unknown>
  /** A new connection with the same options: asyncsafe's own subscriber connection when you pass none. */
  duplicate(): RedisSubscriber
}

/**
 * A connection dedicated to pub/sub (a connection in subscriber mode can send nothing
 * else). An `ioredis` `Redis` instance fits; ioredis re-subscribes by itself after a
 * reconnect, and asyncsafe treats every `'ready'` after the first as "messages may have
 * been lost" (waiters re-check, caches reset).
 *
 * @example
 * ```ts
 * const subscriber: RedisSubscriber = client.duplicate()
 * ```
 */
export interface RedisSubscriber {
  /** `SUBSCRIBE channel`. */
  subscribe(channel: string): Promise<unknown>
  /** `UNSUBSCRIBE channel`. */
  unsubscribe(channel: string): Promise<unknown>
  /** Adds a listener: `'message'` gets `(channel, message)`, `'ready'` a connection (re)established. */
  on(event: 'message', listener: (channel: string, message: string) => void): unknown
  /** Adds a `'ready'` listener. */
  on(event: 'ready', listener: () => void): unknown
  /** Removes a listener added with `on`. */
  off(event: 'message', listener: (channel: string, message: string) => void): unknown
  /** Removes a `'ready'` listener. */
  off(event: 'ready', listener: () => void): unknown
  /** Closes the connection at once (used only on a connection asyncsafe created). */
  disconnect(): void
}
