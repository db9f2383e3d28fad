/**
 * diagnostics_channel publishing that costs nothing when no one subscribes.
 *
 * The module is loaded through `process.getBuiltinModule` (Node >= 20.16), never by a
 * static import, so the runtime-neutral modules still load in browsers, Deno and Bun;
 * where it is missing, channels are `undefined` and publishing is skipped.
 * Channel names are `asyncsafe:<area>:<event>`, e.g. `asyncsafe:lock:long-hold`.
 */

import { loadBuiltin } from './builtin.js'

/** The subset of a Node `Channel` asyncsafe uses. */
export interface DiagnosticsChannel {
  readonly hasSubscribers: boolean
  publish(message: unknown): void
}

interface DiagnosticsModule {
  channel(name: string): DiagnosticsChannel
}


/**
 * The channel named `name`, or `undefined` where the runtime has no diagnostics_channel.
 * Hold on to the result (module level) and check `hasSubscribers` before building a
 * message: `ch?.hasSubscribers && ch.publish({...})`.
 */
export function diagnosticsChannel(name: string): DiagnosticsChannel | undefined {
  return loadBuiltin<DiagnosticsModule>('node:diagnostics_channel')?.channel(name)
}
