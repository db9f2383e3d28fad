/**
 * The conventional wait options `{ signal, timeoutMs }` of the tasks module, in one place:
 * parsing them at the opening of a join, and bounding a wait by them. A waiter's timeout
 * behaves like its own abort (it leaves, rejecting with a `TimeoutError`), so the last
 * waiter of a `Flight` timing out abandons a run nobody owns.
 */

import type { AbortSignal } from './types.js'
import { DisposedError, TimeoutError } from '../errors.js'
import type { Flight } from './flight.js'
import { armTimer, disarmTimer } from './timers.js'
import { checkOptions, checkSignal, checkTimeout, knownOptions } from './validate.js'

const WAIT_OPTIONS = knownOptions(['signal', 'timeoutMs'])

/** The validated `{ signal, timeoutMs }` of one wait. */
export interface WaitRequest {
  readonly signal: AbortSignal | undefined
  readonly timeoutMs: number | undefined
}

/**
 * The common opening of a join (`Initializer.get`, `SingleFlightGroup.run`): validates
 * `options` and returns them, or the rejected promise to return at once instead: bad
 * options, a signal already aborted (its reason), or a disposed owner (`disposedMessage`
 * given: a `DisposedError` with it). The caller handles `timeoutMs === 0` itself (what
 * can be granted at once differs).
 */
export function openWait(options: unknown, disposedMessage: string | undefined): WaitRequest | Promise<never> {
  let request: WaitRequest
  try {
    const opts = checkOptions<WaitRequest>('options', options, WAIT_OPTIONS)
    request = { signal: checkSignal('signal', opts.signal), timeoutMs: checkTimeout('timeoutMs', opts.timeoutMs) }
  } catch (error) {
    return Promise.reject(error)
  }
  if (request.signal?.aborted) return Promise.reject(request.signal.reason)
  if (disposedMessage !== undefined) return Promise.reject(new DisposedError(disposedMessage))
  return request
}

/**
 * Runs `wait(deadline)`, where `deadline` aborts with `signal`'s reason when `signal`
 * aborts, or with `timeoutError(timeoutMs)` after `timeoutMs`; the timer and the link to `signal`
 * are removed as soon as the wait settles. `wait` must leave and reject with
 * `deadline.reason` when `deadline` aborts. Without `timeoutMs` this is `wait(signal)`
 * (no extra allocation). The caller handles `timeoutMs === 0` itself.
 */
export function waitWithDeadline<T>(signal: AbortSignal | undefined, timeoutMs: number | undefined, timeoutError: (timeoutMs: number) => unknown, wait: (deadline: AbortSignal | undefined) => Promise<T>): Promise<T> {
  if (timeoutMs === undefined) return wait(signal)
  const controller = new AbortController()
  const timer = armTimer(timeoutMs, () => {
    controller.abort(timeoutError(timeoutMs))
  })
  let onAbort: (() => void) | undefined
  if (signal !== undefined) {
    onAbort = () => {
      controller.abort(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  }
  const waiting = wait(controller.signal)
  const cleanup = (): void => {
    disarmTimer(timer)
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
  }
  // Both handlers given: this derived promise never rejects.
  waiting.then(cleanup, cleanup)
  return waiting
}

/**
 * Joins `flight` as one waiter, bounded by `signal` and `timeoutMs` (a `TimeoutError`
 * labelled `label` after that long; the flight arms the waiter's timer itself, no signal
 * is created for it). The caller handles `timeoutMs === 0` (nothing to wait for) itself.
 */
export function joinFlight<T>(flight: Flight<T>, signal: AbortSignal | undefined, timeoutMs: number | undefined, label: string): Promise<T> {
  return flight.join(signal, timeoutMs, label)
}

/** The `TimeoutError` of a `timeoutMs: 0` wait that cannot be granted at once. */
export function immediateTimeout(label: string): TimeoutError {
  return new TimeoutError(`${label} timed out after 0 ms`, { timeoutMs: 0 })
}
