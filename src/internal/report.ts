/**
 * Reporting of failures nobody awaits: observer errors, detached task failures,
 * guarded tasks that failed or did not settle. One path for all of them:
 *
 * 1. the owner's `onError(error, context)` (itself isolated: if it throws, that is a warning);
 * 2. diagnostics_channel `asyncsafe:<area>:<event>` with `{ error, ...context }`, when subscribed;
 * 3. with no `onError`, `process.emitWarning` (where the runtime has it), so a failure is
 *    never invisible by default.
 *
 * Nothing here throws, and nothing here creates a promise.
 */

import { diagnosticsChannel, type DiagnosticsChannel } from './diagnostics.js'

/** What `onError` receives besides the error: where it came from. */
export interface ErrorContext {
  /** Area of the library: `'lock'`, `'cache'`, `'guard'`, `'detached'`, `'init'`, `'retry'`, `'node'`. */
  readonly area: string
  /** What happened, e.g. `'observer-error'`, `'timeout'`, `'dropped'`. */
  readonly event: string
  /** The `name` option of the object that reports, when it has one. */
  readonly name?: string | undefined
  /** Extra details of the event (a cache key, a cause, a task count...). */
  readonly [detail: string]: unknown
}

/** Callback for failures of work nobody awaits. Called synchronously; must not throw. */
export type OnError = (error: unknown, context: ErrorContext) => void

const channels = new Map<string, DiagnosticsChannel | undefined>()

function channelFor(area: string, event: string): DiagnosticsChannel | undefined {
  const name = `asyncsafe:${area}:${event}`
  let ch = channels.get(name)
  if (ch === undefined && !channels.has(name)) {
    ch = diagnosticsChannel(name)
    channels.set(name, ch)
  }
  return ch
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`
  try {
    return String(error)
  } catch {
    return 'a value that cannot be printed'
  }
}

function warn(message: string, code: string): void {
  const proc = (globalThis as { process?: { emitWarning?: (msg: string, opts: { type: string; code: string }) => void } }).process
  try {
    if (typeof proc?.emitWarning === 'function') proc.emitWarning(message, { type: 'AsyncsafeWarning', code })
    else if (typeof console !== 'undefined') console.warn(`AsyncsafeWarning [${code}]: ${message}`)
  } catch {
    // A warning must never become a failure of its own.
  }
}

/**
 * Reports a failure of work nobody awaits. See the module comment for where it goes.
 *
 * @param onError the owner's `onError` option, if any
 * @param error the failure
 * @param context where it came from; `area` and `event` name the diagnostics channel
 */
export function reportError(onError: OnError | undefined, error: unknown, context: ErrorContext): void {
  const ch = channelFor(context.area, context.event)
  if (ch?.hasSubscribers) {
    try {
      ch.publish({ ...context, error })
    } catch {
      // A throwing subscriber must not break delivery.
    }
  }
  const code = `ASYNCSAFE_${context.area}_${context.event}`.toUpperCase().replace(/-/g, '_')
  const where = `asyncsafe ${context.area}${context.name === undefined ? '' : ` "${context.name}"`} ${context.event}`
  if (onError === undefined) {
    warn(`${where}: ${errorText(error)}`, code)
    return
  }
  try {
    onError(error, context)
  } catch (secondary) {
    warn(`${where}: onError threw ${errorText(secondary)} while reporting ${errorText(error)}`, code)
  }
}

/**
 * Publishes a non-failure event (a long hold, a stall) to `asyncsafe:<area>:<event>`
 * when someone subscribes. `build` runs only then.
 */
export function publishEvent(area: string, event: string, build: () => object): void {
  const ch = channelFor(area, event)
  if (ch?.hasSubscribers) {
    try {
      ch.publish(build())
    } catch {
      // Subscribers cannot break the library.
    }
  }
}
