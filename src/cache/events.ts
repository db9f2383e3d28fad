/**
 * The cache's diagnostics_channel events (see internal/channels.ts for the messages):
 * `asyncsafe:cache:hit`, `:miss`, `:evict` and `:load`. The cache checks `hasSubscribers`
 * on these channels before calling a publisher, so an event nobody subscribes to costs
 * one property read and builds nothing.
 *
 * @module
 */
import { diagnosticsChannel, type DiagnosticsChannel } from '../internal/diagnostics.js'
import { CACHE_EVICT, CACHE_HIT, CACHE_LOAD, CACHE_MISS, type CacheAccessMessage, type CacheEvictMessage, type CacheLoadMessage } from '../internal/channels.js'
import type { EvictionCause } from './types.js'

export const hitChannel = /* @__PURE__ */ diagnosticsChannel(CACHE_HIT)
export const missChannel = /* @__PURE__ */ diagnosticsChannel(CACHE_MISS)
export const evictChannel = /* @__PURE__ */ diagnosticsChannel(CACHE_EVICT)
export const loadChannel = /* @__PURE__ */ diagnosticsChannel(CACHE_LOAD)

function send(channel: DiagnosticsChannel, message: object): void {
  try {
    channel.publish(message)
  } catch {
    // Subscribers cannot break the cache.
  }
}

/** Publishes a hit or a miss (the caller checked `hasSubscribers`). */
export function publishAccess(channel: DiagnosticsChannel, name: string | undefined, key: unknown): void {
  const message: CacheAccessMessage = { name, key }
  send(channel, message)
}

/** Publishes a removal (the caller checked `evictChannel.hasSubscribers`). */
export function publishEvict(name: string | undefined, key: unknown, cause: EvictionCause): void {
  const message: CacheEvictMessage = { name, key, cause }
  send(evictChannel!, message)
}

/** Publishes the end of a loader run (the caller checked `loadChannel.hasSubscribers`). */
export function publishLoad(message: CacheLoadMessage): void {
  send(loadChannel!, message)
}
