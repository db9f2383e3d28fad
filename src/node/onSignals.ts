/**
 * `onSignals`: a disposable process-signal subscription.
 *
 * @module
 */

import { constants } from 'node:os'
import { checkFunction, describe } from '../internal/validate.js'

/** A live subscription: dispose removes exactly the listeners it added. */
export interface SignalSubscription extends Disposable {
  /** The signals subscribed to (deduplicated). */
  readonly signals: readonly NodeJS.Signals[]
  /** Whether the listeners are still installed. */
  readonly active: boolean
}

/**
 * Calls `handler(signal)` whenever the process receives one of `signals`, until the
 * returned subscription is disposed; dispose removes exactly the listeners this call
 * added (other listeners of the same signals stay). Note that listening to SIGINT or
 * SIGTERM replaces Node's default "exit" behaviour while the subscription lives.
 *
 * Hazard it prevents: signal listeners installed for a session and never removed (they
 * outlive it, pile up, and keep handling signals for a session that is gone).
 *
 * @param signals a signal name or a non-empty list of names (`'SIGINT'`, `'SIGTERM'`, ...)
 * @param handler called with the signal's name; errors it throws are the process's to handle, as with `process.on`
 * @returns a disposable subscription
 * @throws TypeError / RangeError for unknown signal names, an empty list or a non-function handler
 * @example
 * ```ts
 * using sigs = onSignals(['SIGINT', 'SIGTERM'], (signal) => shutdown(signal))
 * ```
 */
export function onSignals(signals: NodeJS.Signals | readonly NodeJS.Signals[], handler: (signal: NodeJS.Signals) => void): SignalSubscription {
  const list: unknown[] = typeof signals === 'string' ? [signals] : Array.isArray(signals) ? [...(signals as unknown[])] : []
  if (typeof signals !== 'string' && !Array.isArray(signals)) {
    throw new TypeError(`asyncsafe: signals must be a signal name or an array of names, received ${describe(signals)}`)
  }
  if (list.length === 0) throw new RangeError('asyncsafe: signals must name at least one signal, received an empty array')
  for (const s of list) {
    if (typeof s !== 'string') throw new TypeError(`asyncsafe: signals must be signal names, received ${describe(s)}`)
    if (!Object.hasOwn(constants.signals, s)) throw new RangeError(`asyncsafe: signals must be signal names such as 'SIGTERM', received ${describe(s)}`)
  }
  checkFunction('handler', handler)
  const unique = [...new Set(list as NodeJS.Signals[])]
  const installed = unique.map((signal) => {
    const listener = (): void => {
      handler(signal)
    }
    process.on(signal, listener)
    return [signal, listener] as const
  })
  let active = true
  return {
    signals: unique,
    get active() {
      return active
    },
    [Symbol.dispose]() {
      if (!active) return
      active = false
      for (const [signal, listener] of installed) process.off(signal, listener)
    },
  }
}
