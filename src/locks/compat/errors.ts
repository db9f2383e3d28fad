/**
 * The shared error objects of async-mutex 0.5: compared with `===`, same messages.
 *
 * @module
 */

/** Rejection of a `withTimeout` acquire that waited too long (one shared object, compare with `===`). */
export const E_TIMEOUT: Error = new Error('timeout while waiting for mutex to become available')
/** Rejection of a `tryAcquire` acquire that could not lock at once (shared object). */
export const E_ALREADY_LOCKED: Error = new Error('mutex already locked')
/** Rejection of pending acquires when `cancel()` is called (shared object, unless the constructor got another). */
export const E_CANCELED: Error = new Error('request for lock canceled')

/** @internal async-mutex's error for a weight that is not positive (a fresh one each time, as there). */
export function invalidWeight(weight: number): Error {
  return new Error(`invalid weight ${weight}: must be positive`)
}
