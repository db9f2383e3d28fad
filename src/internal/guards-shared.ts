/**
 * Internals shared by the guards: the abort reason used for dispose-caused aborts,
 * and a shared resolved promise.
 */
import { DisposedError } from '../errors.js'

/**
 * The abort reason of every abort asyncsafe's guards perform because their owner was
 * disposed. One shared instance: constructing an Error (and its stack) per abort costs
 * several microseconds on Node 20, more than the rest of a guard's lifetime. Its
 * stack therefore points here, not at the dispose call. Match it with
 * `reason instanceof DisposedError` or `reason.name === 'DisposedError'`.
 */
export const DISPOSED: DisposedError = new DisposedError('Aborted because its owner was disposed (shared reason)')

/** A settled promise returned by async disposers that have nothing to wait for. */
export const RESOLVED: Promise<void> = Promise.resolve()

/** Whether `error` is the abort reason of `signal` (the task gave up because of the abort). */
export function isOwnAbort(signal: AbortSignal, error: unknown): boolean {
  return signal.aborted && error === signal.reason
}
