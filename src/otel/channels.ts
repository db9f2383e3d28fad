/**
 * Which diagnostics_channel channels each instrumented module publishes: its state-change
 * events (internal/channels.ts) and the failures it reports (`asyncsafe:<area>:<event>`,
 * internal/report.ts).
 *
 * @module
 */
import type { InstrumentedModule } from './instruments.js'

/** A failure channel's area and event, as `onError`'s context names them. */
export interface FailureChannel {
  readonly area: string
  readonly event: string
}

const failures = (area: string, ...events: string[]): FailureChannel[] => events.map((event) => ({ area, event }))

/** The failure channels of each module (every `reportError` call site of the library). */
export const FAILURE_CHANNELS: Readonly<Record<InstrumentedModule, readonly FailureChannel[]>> = {
  locks: failures('lock', 'long-hold-callback-error'),
  cache: failures('cache', 'observer-error', 'observer-timeout', 'refresh-error'),
  tasks: [...failures('detached', 'error', 'timeout', 'dropped', 'refused', 'aborted'), ...failures('init', 'error')],
  guards: failures('guard', 'task-error', 'settle-timeout', 'flush-error', 'tick-error'),
  node: failures('node', 'stall-handler-error'),
  redis: failures('redis', 'long-hold-callback-error', 'release-error', 'serialize-error', 'subscriber-error', 'subscribe-error', 'invalidation-message-error', 'invalidation-publish-error'),
}

/** The channel name of a failure: `asyncsafe:<area>:<event>`. */
export function failureChannelName(f: FailureChannel): string {
  return `asyncsafe:${f.area}:${f.event}`
}
