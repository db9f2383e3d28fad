/**
 * Public types shared by every lock: options, statistics, long-hold reports.
 *
 * @module
 */
import type { AbortSignal } from '../internal/types.js'
import type { Summary } from '../internal/histogram.js'
import type { Clock } from '../internal/clock.js'

/**
 * Statistics of a lock, returned by `stats()`. Recording is on by default and costs
 * O(1) per grant and release (a fixed-size histogram, no allocation per operation).
 *
 * @example
 * ```ts
 * const { acquisitions, contended, wait, hold } = mutex.stats()
 * log.info({ acquisitions, contended, waitP99: wait.p99, holdMax: hold.max })
 * ```
 */
export interface LockStats {
  /** The lock's `name` option, if any. */
  readonly name: string | undefined
  /** Grants (every successful lock/read/write/acquire/try*), including uncontended ones. */
  readonly acquisitions: number
  /** Grants that had to wait in the queue. */
  readonly contended: number
  /** Requests that failed because their `timeoutMs` passed (including `timeoutMs: 0` refusals). */
  readonly timeouts: number
  /** Requests that failed because their signal was aborted (also when aborted before the call). */
  readonly aborts: number
  /** Holds reported as long (passed `longHoldMs` while still held). */
  readonly longHolds: number
  /** Time from request to grant, in milliseconds, for every grant (uncontended grants record 0). */
  readonly wait: Summary
  /** Time from grant to release, in milliseconds, for every released guard. */
  readonly hold: Summary
}

/** What `onLongHold` receives (and what `asyncsafe:lock:long-hold` publishes). */
export interface LongHoldInfo {
  /** The lock's `name` option, if any. */
  readonly name: string | undefined
  /** How long the guard has been held when the report is made, in milliseconds. */
  readonly heldMs: number
  /** The clock reading at grant (`clock` option; `performance.now()` by default). */
  readonly acquiredAt: number
  /** Stack of the acquiring call, when `captureStack` is on. */
  readonly stack?: string | undefined
}

/** Options common to `Mutex`, `RwLock` and `Semaphore`. */
export interface LockOptions {
  /** A name for statistics, long-hold reports and errors. */
  readonly name?: string
  /**
   * Report a hold once, while it is still held, when it passes this many milliseconds
   * (`onLongHold` and diagnostics_channel `asyncsafe:lock:long-hold`). Off by default.
   */
  readonly longHoldMs?: number
  /** Called once per long hold, synchronously from a timer. Errors it throws become process warnings. */
  readonly onLongHold?: (info: LongHoldInfo) => void
  /** Capture the acquiring stack of every grant for long-hold reports. Costly (an `Error` per grant); off by default. */
  readonly captureStack?: boolean
  /**
   * Refuse, with `ReentrancyError`, a request made from the async context that already
   * holds the lock (instead of deadlocking). Off by default: it uses AsyncLocalStorage,
   * which turns on promise hooks for the whole process on Node 20.
   */
  readonly detectReentry?: boolean
  /** Clock for statistics and long holds, in milliseconds. Default `performance.now()`. */
  readonly clock?: Clock
  /**
   * Record wait and hold times (default `true`). `false` gives the bare lock: no clock
   * read and no histogram record per operation (about two clock reads, each roughly the
   * cost of an `await`, saved per hold on Node 20). Counters (`acquisitions`, `contended`,
   * `timeouts`, `aborts`) still count; `stats().wait` and `stats().hold` stay empty, and a
   * guard's `acquiredAt`/`heldMs` are `NaN`. Cannot be combined with `longHoldMs`, which
   * needs the hold's start time (TypeError).
   *
   * @example
   * ```ts
   * const hot = new Mutex({ name: 'hot-path', stats: false })
   * ```
   */
  readonly stats?: boolean
}

/** Options of every wait: `lock`, `read`, `write`, `acquire`, `runExclusive`... */
export interface WaitOptions {
  /** Aborting it makes the wait reject with `signal.reason` and leave the queue at once. */
  readonly signal?: AbortSignal | undefined
  /** Reject with `TimeoutError` after this many milliseconds of waiting. `0`: only if grantable now; `Infinity`/absent: no timeout. */
  readonly timeoutMs?: number | undefined
}
