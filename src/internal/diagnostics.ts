/**
 * diagnostics_channel publishing that costs nothing when no one subscribes.
 *
 * The module is loaded through `process.getBuiltinModule` (Node >= 20.16), never by a
 * static import, so the runtime-neutral modules still load in browsers, Deno and Bun;
 * where it is missing, channels are `undefined` and publishing is skipped.
 * Channel names are `asyncsafe:<area>:<event>`, e.g. `asyncsafe:lock:long-hold`.
 */

/** The subset of a Node `Channel` asyncsafe uses. */
export interface DiagnosticsChannel {
  readonly hasSubscribers: boolean
  publish(message: unknown): void
}

interface DiagnosticsModule {
  channel(name: string): DiagnosticsChannel
}

let dc: DiagnosticsModule | null | undefined

function loadModule(): DiagnosticsModule | null {
  if (dc !== undefined) return dc
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
    dc = (proc?.getBuiltinModule?.('node:diagnostics_channel') as DiagnosticsModule | undefined) ?? null
  } catch {
    dc = null
  }
  return dc
}

/**
 * The channel named `name`, or `undefined` where the runtime has no diagnostics_channel.
 * Hold on to the result (module level) and check `hasSubscribers` before building a
 * message: `ch?.hasSubscribers && ch.publish({...})`.
 */
export function diagnosticsChannel(name: string): DiagnosticsChannel | undefined {
  return loadModule()?.channel(name)
}
