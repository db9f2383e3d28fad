/**
 * `retry`: exponential backoff with full jitter, abortable waits and every failure kept.
 *
 * @module
 */

import type { AbortSignal } from '../internal/types.js'
import { RetryError } from '../errors.js'
import { createTaskAbort } from '../internal/lazy-signal.js'
import { armTimer, disarmTimer, type TimerHandle } from '../internal/timers.js'
import {
  checkFunction,
  checkNonNegativeFinite,
  checkOptionalBoolean,
  checkOptionalFunction,
  checkOptions,
  checkSignal,
  describe,
  knownOptions,
} from '../internal/validate.js'

const RETRY_OPTIONS = knownOptions(['attempts', 'baseMs', 'maxMs', 'factor', 'jitter', 'random', 'shouldRetry', 'onRetry', 'signal'], {
  retries: 'attempts',
  maxAttempts: 'attempts',
  tries: 'attempts',
  minMs: 'baseMs',
  delayMs: 'baseMs',
  initialMs: 'baseMs',
  maxDelayMs: 'maxMs',
  multiplier: 'factor',
  timeoutMs: 'bound each attempt inside fn, or pass signal: AbortSignal.timeout(ms) to bound the whole retry',
})

/** What `onRetry` receives before each wait. */
export interface RetryEvent {
  /** The attempt that just failed (from 1). */
  readonly attempt: number
  /** Its failure. */
  readonly error: unknown
  /** The wait before the next attempt, in ms (after jitter). */
  readonly delayMs: number
}

/** Options of {@link retry}. */
export interface RetryOptions {
  /** Total number of tries (the first included): a positive integer or `Infinity`. Default 3. */
  readonly attempts?: number | undefined
  /** Wait after the first failure before jitter (ms). Default 100. */
  readonly baseMs?: number | undefined
  /** Cap of any wait (ms). Default 10 000. */
  readonly maxMs?: number | undefined
  /** Growth of the wait per failure (finite, >= 1). Default 2. */
  readonly factor?: number | undefined
  /** Full jitter: each wait is uniform in `[0, delay)`. Default true. */
  readonly jitter?: boolean | undefined
  /** Source of randomness for jitter, returning `[0, 1)`. Default `Math.random`. */
  readonly random?: (() => number) | undefined
  /** Whether a failure is worth another try. Default: every failure is. */
  readonly shouldRetry?: ((error: unknown, attempt: number) => boolean) | undefined
  /** Called before each wait (not after the last failure). */
  readonly onRetry?: ((event: RetryEvent) => void) | undefined
  /** Aborts the retry at once: it rejects with `signal.reason`, a pending wait is cleared. */
  readonly signal?: AbortSignal | undefined
}

/** Defaults of {@link retry}. */
export const DEFAULT_RETRY_OPTIONS = Object.freeze({
  /** Three tries in all. */
  attempts: 3,
  /** 100 ms after the first failure. */
  baseMs: 100,
  /** No wait longer than 10 s (or `baseMs`, if larger). */
  maxMs: 10_000,
  /** Each wait doubles. */
  factor: 2,
  /** Full jitter. */
  jitter: true,
})

/** {@link backoffDelay} on validated input (retry validated its options once). */
function delayAfter(failed: number, baseMs: number, maxMs: number, factor: number): number {
  if (baseMs === 0 || maxMs === 0) return 0
  if (factor === 1 || failed <= 1) return Math.min(baseMs, maxMs)
  // The exponent from which the cap applies; compare exponents instead of computing a power that may overflow.
  const capExponent = Math.log(maxMs / baseMs) / Math.log(factor)
  const exponent = failed - 1
  if (exponent >= capExponent) return maxMs
  return Math.min(baseMs * factor ** exponent, maxMs)
}

/**
 * The wait before attempt `failed + 1` (before jitter): `min(baseMs * factor^(failed-1), maxMs)`,
 * computed without ever producing `Infinity` or `NaN`, however large `failed` is.
 *
 * @param failed failures so far, a positive integer
 * @param baseMs the first wait, a non-negative finite number of ms
 * @param maxMs the longest wait, a non-negative finite number of ms
 * @param factor growth per failure, a finite number >= 1
 * @throws TypeError / RangeError on bad input (the same rules as `retry`'s options)
 * @example
 * ```ts
 * backoffDelay(3, 100, 5_000, 2)      // 400
 * backoffDelay(1e9, 100, 5_000, 2)    // 5000, not Infinity
 * ```
 */
export function backoffDelay(failed: number, baseMs: number, maxMs: number, factor: number): number {
  if (typeof failed !== 'number') throw new TypeError(`asyncsafe: failed must be a positive integer, received ${describe(failed)}`)
  if (!Number.isSafeInteger(failed) || failed < 1) throw rangeError('failed', 'a positive integer', failed)
  checkNonNegativeFinite('baseMs', baseMs)
  checkNonNegativeFinite('maxMs', maxMs)
  checkNonNegativeFinite('factor', factor)
  if (factor < 1) throw rangeError('factor', 'a finite number >= 1', factor)
  return delayAfter(failed, baseMs, maxMs, factor)
}

function rangeError(option: string, expected: string, value: unknown): RangeError {
  return new RangeError(`asyncsafe: ${option} must be ${expected}, received ${describe(value)}`)
}

/**
 * Calls `fn(attempt, signal)` until it succeeds, waiting with exponential backoff between
 * failures: the wait after failure `n` is `min(baseMs * factor^(n-1), maxMs)`, and with
 * `jitter` (the default) a uniform random fraction of it ("full jitter", so many clients
 * retrying together spread out). Waits use timers, never a blocking sleep.
 *
 * Hazard it prevents: retries that slept the thread, returned a synthetic error that hid
 * the real one, retried what could not succeed, and computed `2^n` until it overflowed.
 *
 * - `attempts` is the total number of tries; `attempt` counts from 1.
 * - Errors: when the tries run out, or `shouldRetry(error, attempt)` returns false, it
 *   rejects with a `RetryError` (an `AggregateError` named `'RetryError'`): `errors`
 *   holds the failures in order, `cause` the last one and `attempts` how many tries ran.
 *   Memory stays bounded however many tries run (`attempts: Infinity`): when more than
 *   101 failures happened, `errors` holds the first one and the 100 most recent. If
 *   `shouldRetry` or `onRetry` throws, it rejects with that error.
 * - Cancellation: `signal` aborted before the call rejects without calling `fn`; an abort
 *   during a wait or during an attempt rejects at once with `signal.reason` and clears
 *   the pending timer (an attempt in progress sees the abort on the same signal).
 *   Without a `signal`, `fn` receives a signal that never aborts.
 * - Bad options reject with `TypeError`/`RangeError`.
 *
 * @param fn the operation, called as `fn(attempt, signal)`
 * @param options see {@link RetryOptions}; defaults in {@link DEFAULT_RETRY_OPTIONS}
 * @returns the first successful result
 * @example
 * ```ts
 * const body = await retry((attempt, signal) => fetchJson(url, { signal }), {
 *   attempts: 5, baseMs: 100, maxMs: 5_000,
 *   shouldRetry: (error) => !(error instanceof HttpError && error.status < 500),
 *   signal: request.signal,
 * })
 * ```
 */
export function retry<T>(fn: (attempt: number, signal: AbortSignal) => T | PromiseLike<T>, options?: RetryOptions): Promise<T> {
  let config: Config
  try {
    checkFunction('fn', fn)
    config = readOptions(options)
  } catch (error) {
    return Promise.reject(error)
  }
  const { signal } = config
  if (signal?.aborted) return Promise.reject(signal.reason)
  return run(fn, config)
}

interface Config {
  attempts: number
  baseMs: number
  maxMs: number
  factor: number
  jitter: boolean
  random: () => number
  shouldRetry: ((error: unknown, attempt: number) => boolean) | undefined
  onRetry: ((event: RetryEvent) => void) | undefined
  signal: AbortSignal | undefined
}

function readOptions(options: RetryOptions | undefined): Config {
  const opts = checkOptions<RetryOptions>('options', options, RETRY_OPTIONS)
  let attempts: number = DEFAULT_RETRY_OPTIONS.attempts
  if (opts.attempts !== undefined) {
    attempts = opts.attempts
    if (typeof attempts !== 'number') throw new TypeError(`asyncsafe: attempts must be a positive integer or Infinity, received ${describe(attempts)}`)
    if (attempts !== Infinity && (!Number.isSafeInteger(attempts) || attempts < 1)) throw rangeError('attempts', 'a positive integer or Infinity', attempts)
  }
  const baseMs = opts.baseMs === undefined ? DEFAULT_RETRY_OPTIONS.baseMs : checkNonNegativeFinite('baseMs', opts.baseMs)
  const maxMs = opts.maxMs === undefined ? Math.max(DEFAULT_RETRY_OPTIONS.maxMs, baseMs) : checkNonNegativeFinite('maxMs', opts.maxMs)
  let factor: number = DEFAULT_RETRY_OPTIONS.factor
  if (opts.factor !== undefined) {
    factor = checkNonNegativeFinite('factor', opts.factor)
    if (factor < 1) throw rangeError('factor', 'a finite number >= 1', factor)
  }
  return {
    attempts,
    baseMs,
    maxMs,
    factor,
    jitter: checkOptionalBoolean('jitter', opts.jitter) ?? DEFAULT_RETRY_OPTIONS.jitter,
    random: checkOptionalFunction<() => number>('random', opts.random) ?? Math.random,
    shouldRetry: checkOptionalFunction<(error: unknown, attempt: number) => boolean>('shouldRetry', opts.shouldRetry),
    onRetry: checkOptionalFunction<(event: RetryEvent) => void>('onRetry', opts.onRetry),
    signal: checkSignal('signal', opts.signal),
  }
}

function jittered(delay: number, random: () => number): number {
  let r = random()
  // A misbehaving random source must not produce a negative, NaN or oversized wait.
  if (!(r >= 0)) r = 0
  else if (r > 1) r = 1
  return delay * r
}

/** Most recent failures a RetryError keeps, besides the first one. */
const KEPT_RECENT_ERRORS = 100

/** The first failure and the most recent ones, in order; bounded memory (amortised O(1) per failure). */
class FailureLog {
  #first: unknown
  #count = 0
  readonly #recent: unknown[] = []

  add(error: unknown): void {
    if (this.#count++ === 0) {
      this.#first = error
      return
    }
    const recent = this.#recent
    recent.push(error)
    if (recent.length >= 2 * KEPT_RECENT_ERRORS) recent.splice(0, recent.length - KEPT_RECENT_ERRORS)
  }

  toError(): RetryError {
    const recent = this.#recent
    const kept = [this.#first, ...(recent.length > KEPT_RECENT_ERRORS ? recent.slice(-KEPT_RECENT_ERRORS) : recent)]
    const count = this.#count
    return new RetryError(kept, undefined, count)
  }
}

function run<T>(fn: (attempt: number, signal: AbortSignal) => T | PromiseLike<T>, config: Config): Promise<T> {
  // Without a caller's signal, fn gets one that never aborts: a task signal, which on
  // Node 20 costs nothing unless fn uses it (no listener of ours is added to it either).
  const own = config.signal === undefined
  const signal = config.signal ?? createTaskAbort().signal
  return new Promise<T>((resolve, reject) => {
    const errors = new FailureLog()
    let attempt = 0
    let timer: TimerHandle | undefined
    let finished = false
    const finish = (): boolean => {
      if (finished) return false
      finished = true
      disarmTimer(timer)
      timer = undefined
      if (!own) signal.removeEventListener('abort', onAbort)
      return true
    }
    const onAbort = (): void => {
      if (finish()) reject(signal.reason)
    }
    const fail = (error: unknown): void => {
      if (finished) return
      if (signal.aborted) {
        onAbort()
        return
      }
      errors.add(error)
      let delayMs: number
      try {
        if (attempt >= config.attempts || (config.shouldRetry !== undefined && !config.shouldRetry(error, attempt))) {
          if (finish()) reject(errors.toError())
          return
        }
        delayMs = delayAfter(attempt, config.baseMs, config.maxMs, config.factor)
        if (config.jitter) delayMs = jittered(delayMs, config.random)
        config.onRetry?.({ attempt, error, delayMs })
      } catch (callbackError) {
        if (finish()) reject(callbackError)
        return
      }
      if (finished) return // onRetry may have aborted the signal
      timer = armTimer(delayMs, () => {
        timer = undefined
        next()
      })
    }
    const next = (): void => {
      if (finished) return
      attempt++
      let out: T | PromiseLike<T>
      try {
        out = fn(attempt, signal)
      } catch (error) {
        fail(error)
        return
      }
      Promise.resolve(out).then(
        (value) => {
          if (finish()) resolve(value)
        },
        fail,
      )
    }
    if (!own) signal.addEventListener('abort', onAbort, { once: true })
    next()
  })
}
