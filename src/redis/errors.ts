/**
 * Errors of `asyncsafe/redis`.
 *
 * @module
 */

/**
 * Why a holder's `signal` aborted: the lease is no longer known to be held.
 *
 * - `'lost'`: a renewal found the lock gone or held by another owner (it expired while
 *   this process could not renew it, or the server lost it: a restart without
 *   persistence, a flush, a failover);
 * - `'expired'`: renewals failed (errors, timeouts, a stalled connection) until the
 *   lease's expiry passed, so another process may hold it now;
 * - `'not-renewed'`: renewal is off (`renewEveryMs: Infinity`) and the lease ran out.
 *
 * Work guarded by the lock should stop when it sees this; writes to storage should carry
 * the grant's `fencingToken` so that storage can refuse them anyway.
 *
 * @example
 * ```ts
 * guard.signal.addEventListener('abort', () => {
 *   if (guard.signal.reason instanceof LeaseLostError) log.warn({ key: guard.key, why: guard.signal.reason.why })
 * })
 * ```
 */
export class LeaseLostError extends Error {
  /** Always `'LeaseLostError'`. */
  override readonly name = 'LeaseLostError' as const
  /** `'lost'`, `'expired'` or `'not-renewed'` (see the class). */
  readonly why: 'lost' | 'expired' | 'not-renewed'
  /** The lock key. */
  readonly key: string
  /** The fencing token of the grant that was lost. */
  readonly fencingToken: number

  /** @internal Created by asyncsafe/redis. */
  constructor(why: 'lost' | 'expired' | 'not-renewed', key: string, fencingToken: number, options?: { cause?: unknown }) {
    const text = why === 'lost' ? 'the lease was found gone or held by another owner' : why === 'expired' ? 'renewal failed until the lease expired' : 'the lease ran out (renewal is off)'
    super(`asyncsafe redis lock "${key}" (fencing token ${fencingToken}): ${text}`, options?.cause === undefined ? undefined : { cause: options.cause })
    this.why = why
    this.key = key
    this.fencingToken = fencingToken
  }
}

/**
 * A single-flight load that ran in another process failed; its error crossed the wire as
 * a name and a message (the original object stays in that process).
 *
 * @example
 * ```ts
 * try { await cache.getOrLoad(id, load) }
 * catch (error) { if (error instanceof RemoteLoadError) log.warn({ remote: error.remoteName }, error.message) }
 * ```
 */
export class RemoteLoadError extends Error {
  /** Always `'RemoteLoadError'`. */
  override readonly name = 'RemoteLoadError' as const
  /** `name` of the error in the process that ran the load. */
  readonly remoteName: string

  /** @internal Created by asyncsafe/redis. */
  constructor(message: string, remoteName: string) {
    super(message)
    this.remoteName = remoteName
  }
}
