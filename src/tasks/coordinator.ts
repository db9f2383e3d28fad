/**
 * `FlightCoordinator`: the runtime-neutral hook that lets a `SingleFlightGroup` or an
 * `LruTtlCache`'s `getOrLoad` coordinate one key's run across processes (asyncsafe/redis
 * provides `RedisFlightCoordinator`).
 *
 * @module
 */

import type { AbortSignal } from '../internal/types.js'

/**
 * Coordinates single flight across processes. Locally, a `SingleFlightGroup` or a cache
 * already collapses concurrent callers into one run per key; with a coordinator, that
 * run is `coordinator.run(key, fn, signal)` instead of `fn(signal)`, and the coordinator
 * decides which process really calls `fn`: one process runs it, the others wait for its
 * outcome (value or failure) and resolve with it.
 *
 * The local rules stay: a caller's abort rejects that caller; `signal` aborts when every
 * local caller has left (the coordinator then stops waiting, or aborts `fn`'s signal if
 * this process is the one running it); failures reach every caller and are not cached.
 *
 * @example
 * ```ts
 * const users = new LruTtlCache<string, User>({ capacity: 10_000, coordinator: new RedisFlightCoordinator({ client: redis }) })
 * await users.getOrLoad(id, (key, { signal }) => db.users.find(key, { signal })) // one instance queries the database
 * ```
 */
export interface FlightCoordinator<K = unknown> {
  /**
   * Runs `fn` in at most one process at a time for `key` and settles with the outcome
   * of the run this call joined (its own or another process's).
   *
   * @param key the local flight's key
   * @param fn the local work, called at most once, with a signal that aborts when `signal` does
   * @param signal aborts when every local caller has left
   */
  run<T>(key: K, fn: (signal: AbortSignal) => T | PromiseLike<T>, signal: AbortSignal): Promise<T>
}
