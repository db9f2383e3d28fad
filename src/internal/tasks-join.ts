/**
 * Joining a `Flight` with the conventional wait options `{ signal, timeoutMs }`:
 * a waiter's timeout behaves like its own abort (it leaves the run, rejecting with a
 * `TimeoutError`), so the last waiter timing out abandons a run nobody owns.
 */

import { TimeoutError } from '../errors.js'
import type { Flight } from './flight.js'

/**
 * Joins `flight` as one waiter. Without `timeoutMs` this is `flight.join(signal)` (no
 * extra allocation). With it, the waiter leaves after `timeoutMs` with a `TimeoutError`;
 * its timer and its link to `signal` are removed as soon as the wait settles.
 * The caller handles `timeoutMs === 0` (nothing to wait for) itself.
 */
export function joinFlight<T>(flight: Flight<T>, signal: AbortSignal | undefined, timeoutMs: number | undefined, label: string): Promise<T> {
  if (timeoutMs === undefined || !flight.running) return flight.join(signal)
  const controller = new AbortController()
  const timer = setTimeout(() => {
    controller.abort(new TimeoutError(`${label} timed out after ${timeoutMs} ms`, { timeoutMs }))
  }, timeoutMs)
  let unlink: (() => void) | undefined
  if (signal !== undefined) {
    const onAbort = (): void => {
      controller.abort(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    unlink = () => {
      signal.removeEventListener('abort', onAbort)
    }
  }
  const waiting = flight.join(controller.signal)
  const cleanup = (): void => {
    clearTimeout(timer)
    unlink?.()
  }
  // Both handlers given: this derived promise never rejects.
  waiting.then(cleanup, cleanup)
  return waiting
}

/** The `TimeoutError` of a `timeoutMs: 0` wait that cannot be granted at once. */
export function immediateTimeout(label: string): TimeoutError {
  return new TimeoutError(`${label} timed out after 0 ms`, { timeoutMs: 0 })
}
