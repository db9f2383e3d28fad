/**
 * DetachedPool's diagnostics_channel events (see internal/channels.ts for the messages):
 * `asyncsafe:detached:enqueue`, `:start` and `:end`, each with the pool's queue depth and
 * running count after the change. The pool checks `hasSubscribers` before calling a
 * publisher: nothing is built, and no clock is read, when nobody subscribes.
 *
 * @module
 */
import { diagnosticsChannel, type DiagnosticsChannel } from '../internal/diagnostics.js'
import { DETACHED_END, DETACHED_ENQUEUE, DETACHED_START, type DetachedEndMessage, type DetachedPoolMessage, type DetachedStartMessage } from '../internal/channels.js'

export const enqueueChannel = /* @__PURE__ */ diagnosticsChannel(DETACHED_ENQUEUE)
export const startChannel = /* @__PURE__ */ diagnosticsChannel(DETACHED_START)
export const endChannel = /* @__PURE__ */ diagnosticsChannel(DETACHED_END)

/** Publishes `message` on `channel` (the caller checked `hasSubscribers`); subscribers cannot break the pool. */
export function publishDetached(channel: DiagnosticsChannel, message: DetachedPoolMessage | DetachedStartMessage | DetachedEndMessage): void {
  try {
    channel.publish(message)
  } catch {
    // Subscribers cannot break the pool.
  }
}
