/**
 * Small AbortSignal helpers shared by every wait.
 */

/**
 * Adds a one-shot abort listener and returns the function that removes it. Cheap
 * enough for hot paths: no closure is created when `signal` is undefined.
 */
export function addAbortListener(signal: AbortSignal, listener: () => void): () => void {
  signal.addEventListener('abort', listener, { once: true })
  return () => {
    signal.removeEventListener('abort', listener)
  }
}

/** The reason of an aborted signal (a DOMException 'AbortError' when it has none). */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason
}

const noop = (): void => {}
/** A function that does nothing (shared, so cleanups need no allocation). */
export { noop }
