/**
 * Error classes of asyncsafe.
 *
 * Every rejection creates a fresh instance (so stacks point at the failing call and
 * callers may attach data), and every class has a stable `name` so it can be matched
 * across realms and duplicated copies of the library: `error.name === 'TimeoutError'`.
 * `instanceof` works too when one copy of asyncsafe is loaded.
 *
 * One deliberate exception: aborts caused by disposing a guard or scope use one shared,
 * preallocated `DisposedError` as their reason (creating an error costs microseconds on
 * Node 20, more than the whole guard). Such aborts are cancellation, never reported.
 *
 * @module
 */

/** Options accepted by every asyncsafe error constructor. */
export interface AsyncsafeErrorOptions {
  /** The underlying failure, if any (standard `Error` cause). */
  cause?: unknown
}

/**
 * A wait or a piece of work passed its `timeoutMs`.
 *
 * @example
 * ```ts
 * try { await mutex.lock({ timeoutMs: 50 }) }
 * catch (error) { if (error instanceof TimeoutError) metrics.lockTimeouts++ }
 * ```
 */
export class TimeoutError extends Error {
  /** Always `'TimeoutError'`. */
  override readonly name = 'TimeoutError' as const
  /** The timeout that passed, in milliseconds, when known. */
  readonly timeoutMs: number | undefined
  constructor(message = 'The operation timed out', options?: AsyncsafeErrorOptions & { timeoutMs?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.timeoutMs = options?.timeoutMs
  }
}

/**
 * A non-reentrant lock was requested again from the async context that already holds
 * it. Without detection this is a silent deadlock; with `detectReentry: true` it is
 * this error, at once.
 *
 * @example
 * ```ts
 * const m = new Mutex({ name: 'persist', detectReentry: true })
 * await m.runExclusive(async () => {
 *   await m.lock() // rejects with ReentrancyError instead of waiting forever
 * })
 * ```
 */
export class ReentrancyError extends Error {
  /** Always `'ReentrancyError'`. */
  override readonly name = 'ReentrancyError' as const
  /** Name of the lock, when it has one. */
  readonly lockName: string | undefined
  constructor(message = 'Lock re-acquired from the async context that holds it (would deadlock)', options?: AsyncsafeErrorOptions & { lockName?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.lockName = options?.lockName
  }
}

/**
 * The resource was closed (a `Semaphore` after `close()`, a pool after `close()`,
 * a scope after dispose) and refuses new work.
 *
 * @example
 * ```ts
 * sem.close()
 * await sem.acquire() // rejects with ClosedError
 * ```
 */
export class ClosedError extends Error {
  /** Always `'ClosedError'`. */
  override readonly name = 'ClosedError' as const
  constructor(message = 'The resource is closed', options?: AsyncsafeErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
  }
}

/**
 * A detached task was dropped without running: its pool's queue was full (`maxQueue`), or a
 * drain with `abortRemaining` reached its deadline while the task still waited for a slot.
 * Reported to `onError` (event `'dropped'`), never thrown: `run()` returns `false` for a
 * task dropped at once.
 *
 * @example
 * ```ts
 * const pool = new DetachedPool({ onError: (error) => { if (error instanceof DroppedError) metrics.dropped++ } })
 * ```
 */
export class DroppedError extends Error {
  /** Always `'DroppedError'`. */
  override readonly name = 'DroppedError' as const
  constructor(message = 'The task was dropped without running', options?: AsyncsafeErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
  }
}

/**
 * A wait was refused at once because the queue it would join already holds its limit of
 * waiters (`maxPending` of `KeyedMutex`/`KeyedRwLock`, per key). Nothing was taken and
 * nothing waits: shed the load, or retry later.
 *
 * @example
 * ```ts
 * const locks = new KeyedMutex<string>({ maxPending: 100 })
 * try { await locks.runExclusive(userId, () => save(userId)) }
 * catch (error) { if (error instanceof QueueFullError) return reply(503) ; throw error }
 * ```
 */
export class QueueFullError extends Error {
  /** Always `'QueueFullError'`. */
  override readonly name = 'QueueFullError' as const
  /** The limit that was reached, when known. */
  readonly maxPending: number | undefined
  constructor(message = 'The wait queue is full', options?: AsyncsafeErrorOptions & { maxPending?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.maxPending = options?.maxPending
  }
}

/**
 * The abort reason asyncsafe uses when it aborts work because its owner was disposed
 * (a guard left its `using` scope, a scope or pool was disposed). Such aborts are
 * cancellation, not failure: they are never reported to `onError`.
 *
 * @example
 * ```ts
 * const task = spawnGuarded(async (signal) => { await work(signal) })
 * task[Symbol.dispose]()
 * await task.done.catch((e) => e.name) // 'DisposedError'
 * ```
 */
export class DisposedError extends Error {
  /** Always `'DisposedError'`. */
  override readonly name = 'DisposedError' as const
  constructor(message = 'Aborted because its owner was disposed', options?: AsyncsafeErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
  }
}

/**
 * `retry` ran out of attempts, or `shouldRetry` said no. An `AggregateError`:
 * `errors` holds every failure in order, `cause` the last one; the message ends with the
 * last failure's message (`Failed after 3 attempts: connect ECONNREFUSED`).
 *
 * @example
 * ```ts
 * try { await retry(call, { attempts: 3 }) }
 * catch (error) { if (error instanceof RetryError) log(error.errors.length, error.cause) }
 * ```
 */
export class RetryError extends AggregateError {
  /** Always `'RetryError'`. */
  override readonly name = 'RetryError' as const
  /** How many attempts ran. */
  readonly attempts: number
  /**
   * @param errors the failures kept, oldest first (the last one becomes `cause`)
   * @param message defaults to "Failed after N attempts: <the last failure's message>"
   * @param attempts how many attempts ran, when more ran than `errors` keeps (default `errors.length`)
   */
  constructor(errors: readonly unknown[], message?: string, attempts: number = errors.length) {
    const last = errors[errors.length - 1]
    super(errors, message ?? `Failed after ${attempts} attempt${attempts === 1 ? '' : 's'}${lastMessage(errors.length === 0 ? undefined : last)}`, { cause: last })
    this.attempts = attempts
  }
}

/** `': <message>'` of the last failure (or its string form), `''` when there is none or it cannot be printed. */
function lastMessage(error: unknown): string {
  if (error === undefined) return ''
  let text: string
  try {
    // Any value may be thrown; its own string form is what a log line would show.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string
    text = error instanceof Error ? error.message : String(error)
  } catch {
    return ''
  }
  if (text.length > 200) text = `${text.slice(0, 200)}…`
  return text === '' ? '' : `: ${text}`
}
