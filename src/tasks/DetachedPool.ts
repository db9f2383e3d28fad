/**
 * `DetachedPool`: bounded fire-and-forget work whose failures are never invisible.
 *
 * @module
 */

import type { AbortSignal } from '../internal/types.js'
import { ClosedError, TimeoutError } from '../errors.js'
import { reportError, type OnError } from '../internal/report.js'
import {
  checkFunction,
  checkNonNegativeInteger,
  checkOptionalFunction,
  checkOptionalString,
  checkOptions,
  checkPositiveInteger,
  checkSignal,
  checkTimeout,
} from '../internal/validate.js'
import { waitWithDeadline } from '../internal/tasks-join.js'
import { isThenable } from '../internal/thenable.js'

/** A detached task: called as `task(signal)`; the signal aborts when the task times out. */
export type DetachedTask = (signal: AbortSignal) => unknown

/** Options of a {@link DetachedPool}. */
export interface DetachedPoolOptions {
  /** Most tasks running at once. Default 8. */
  readonly concurrency?: number | undefined
  /**
   * Bounds each task (ms): when it passes, the task's signal aborts with a `TimeoutError`,
   * the task counts as `timedOut`, is reported, and its slot goes to the next task.
   * Default 30 000; `Infinity` for none (not recommended: detached work should be bounded).
   */
  readonly timeoutMs?: number | undefined
  /** Most tasks waiting for a slot; a task arriving at a full queue is dropped and reported. Default 1000; 0 allowed. */
  readonly maxQueue?: number | undefined
  /** Name used in reports (`context.name`, `context.pool`). */
  readonly name?: string | undefined
  /** Receives every failure, timeout, drop and refusal. Default: a process warning. */
  readonly onError?: OnError | undefined
}

/** Per-task options of {@link DetachedPool.run}. */
export interface DetachedRunOptions {
  /** The task's name in reports (defaults to the pool's name). */
  readonly name?: string | undefined
  /** Overrides the pool's `timeoutMs` for this task. */
  readonly timeoutMs?: number | undefined
  /** Overrides the pool's `onError` for this task. */
  readonly onError?: OnError | undefined
}

/** Options of {@link DetachedPool.drain}. */
export interface DrainOptions {
  /** Rejects with a `TimeoutError` when the pool is not idle by then (the tasks go on). */
  readonly timeoutMs?: number | undefined
  /** Rejects with `signal.reason` when it aborts first (the tasks go on). */
  readonly signal?: AbortSignal | undefined
}

/** Counters of a {@link DetachedPool}. */
export interface DetachedPoolStats {
  /** Tasks that got a slot. */
  readonly started: number
  /** Tasks that returned or resolved before their timeout. */
  readonly succeeded: number
  /** Tasks that threw or rejected before their timeout. */
  readonly failed: number
  /** Tasks whose timeout passed (not counted as failed). */
  readonly timedOut: number
  /** Tasks dropped because the queue was full. */
  readonly dropped: number
  /** Tasks refused because the pool was closed. */
  readonly refused: number
  /** Tasks holding a slot now. */
  readonly running: number
  /** Tasks waiting for a slot now. */
  readonly queued: number
  /** Timed-out tasks that have not settled yet (they ignore their signal); they hold no slot. */
  readonly overdue: number
}

interface Job {
  readonly task: DetachedTask
  readonly name: string | undefined
  readonly timeoutMs: number | undefined
  readonly onError: OnError | undefined
  controller: AbortController | undefined
  timer: ReturnType<typeof setTimeout> | undefined
  timedOut: boolean
}

interface DrainWaiter {
  resolve: () => void
  /** Unlinks the waiter from its deadline signal, if it has one. */
  cleanup: (() => void) | undefined
}

const DEFAULT_CONCURRENCY = 8
const DEFAULT_TIMEOUT_MS = 30_000
const DEFAULT_MAX_QUEUE = 1000

/**
 * Runs fire-and-forget tasks with a concurrency bound, a per-task timeout that aborts
 * the task, a capped queue, and a report for every failure.
 *
 * Hazard it prevents: detached side-effect writes that were unbounded (any number at
 * once, each free to hang) and whose failures were only logged at debug level. Here a
 * failure, a timeout, a dropped task and a refused task each reach `onError` (default: a
 * process warning) and diagnostics_channel `asyncsafe:detached:<error|timeout|dropped|refused>`.
 *
 * - `run(task)` returns `true` when the task was accepted (started or queued) and `false`
 *   when it was dropped or refused. It never throws for the task's failures and never
 *   creates a promise that could reject unhandled; only a non-function task throws a
 *   `TypeError`. The task starts on a microtask, never inside the caller's stack.
 * - Fairness: queued tasks start in FIFO order as slots free up; at most `concurrency` run.
 * - Cancellation and timeouts: when a task's `timeoutMs` passes, its signal aborts with a
 *   `TimeoutError`, it counts as `timedOut` (not `failed`), it is reported, and its slot
 *   goes to the next task at once. A timeout can only stop a task that honours its signal
 *   or awaits: synchronous work inside a task cannot be interrupted by any timer (keep
 *   CPU-bound work out of detached tasks, or split it with awaits and signal checks).
 *   A timed-out task that keeps running is counted in `overdue` until it settles.
 * - Overflow: with `maxQueue` tasks already waiting, the newest task (the one being
 *   added) is dropped and reported; queued tasks keep their place.
 * - `close()` refuses new tasks (each refusal reported) while queued ones still run.
 *   `[Symbol.asyncDispose]` closes and drains; `[Symbol.dispose]` only closes.
 *
 * Why not p-limit: p-limit 7 has no queue cap (it grows without bound), no per-task
 * timeout that aborts the task and frees its slot, and no per-task cancellation or
 * statistics; wrapping it would need all of that around it, so this pool is its own.
 *
 * @example
 * ```ts
 * await using writes = new DetachedPool({ concurrency: 4, timeoutMs: 500, maxQueue: 1000, name: 'approvals', onError: log.warn })
 * writes.run((signal) => recordApproval(decision, { signal })) // returns at once
 * ```
 */
export class DetachedPool implements Disposable, AsyncDisposable {
  private readonly concurrency: number
  private readonly timeoutMs: number | undefined
  private readonly maxQueue: number
  private readonly name: string | undefined
  private readonly onError: OnError | undefined
  private queue: (Job | undefined)[] = []
  private head = 0
  private closed = false
  private drainWaiters: DrainWaiter[] = []
  private nStarted = 0
  private nSucceeded = 0
  private nFailed = 0
  private nTimedOut = 0
  private nDropped = 0
  private nRefused = 0
  private nRunning = 0
  private nOverdue = 0

  /**
   * @param options `concurrency` (8), `timeoutMs` (30 000), `maxQueue` (1000), `name`, `onError`
   * @throws TypeError / RangeError on bad input
   */
  constructor(options?: DetachedPoolOptions) {
    const opts = checkOptions<DetachedPoolOptions>('options', options)
    this.concurrency = opts.concurrency === undefined ? DEFAULT_CONCURRENCY : checkPositiveInteger('concurrency', opts.concurrency)
    this.timeoutMs = opts.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : checkTimeout('timeoutMs', opts.timeoutMs)
    this.maxQueue = opts.maxQueue === undefined ? DEFAULT_MAX_QUEUE : checkNonNegativeInteger('maxQueue', opts.maxQueue)
    this.name = checkOptionalString('name', opts.name)
    this.onError = checkOptionalFunction<OnError>('onError', opts.onError)
  }

  /** Whether `close()` (or dispose) was called. */
  get isClosed(): boolean {
    return this.closed
  }

  /**
   * Accepts a task: it starts now if a slot is free, otherwise it waits in the queue.
   *
   * @param task called as `task(signal)`; should honour `signal`
   * @param options per-task `name`, `timeoutMs`, `onError`
   * @returns `true` if accepted, `false` if dropped (queue full) or refused (closed); both are reported
   * @throws TypeError when `task` is not a function or an option is invalid (never for the task's own failures)
   * @example
   * ```ts
   * pool.run(async (signal) => { await audit.write(entry, { signal }) }, { name: 'audit' })
   * ```
   */
  run(task: DetachedTask, options?: DetachedRunOptions): boolean {
    checkFunction('task', task)
    let name = this.name
    let timeoutMs = this.timeoutMs
    let onError = this.onError
    if (options !== undefined) {
      const opts = checkOptions<DetachedRunOptions>('options', options)
      if (opts.name !== undefined) name = checkOptionalString('name', opts.name)
      if (opts.timeoutMs !== undefined) timeoutMs = checkTimeout('timeoutMs', opts.timeoutMs)
      if (opts.onError !== undefined) onError = checkOptionalFunction<OnError>('onError', opts.onError)
    }
    const job: Job = { task, name, timeoutMs, onError, controller: undefined, timer: undefined, timedOut: false }
    if (this.closed) {
      this.nRefused++
      this.report(job, 'refused', new ClosedError(`${this.label(job)} refused: the pool is closed`))
      return false
    }
    if (this.nRunning < this.concurrency) {
      this.nRunning++
      this.begin(job)
      return true
    }
    if (this.queue.length - this.head < this.maxQueue) {
      this.queue.push(job)
      return true
    }
    this.nDropped++
    this.report(job, 'dropped', new Error(`${this.label(job)} dropped: the queue is full (maxQueue ${this.maxQueue})`))
    return false
  }

  /**
   * Refuses new tasks from now on (each refusal is reported); queued and running tasks
   * go on. Idempotent.
   *
   * @example
   * ```ts
   * pool.close(); await pool.drain(2_000)
   * ```
   */
  close(): void {
    this.closed = true
  }

  /**
   * Resolves once no task is running or queued (timed-out tasks that ignore their signal
   * hold no slot and are not waited for). Tasks accepted meanwhile are waited for too.
   *
   * @param options a timeout in ms, or `{ timeoutMs, signal }`: rejects with a `TimeoutError`
   *   or `signal.reason` when the pool is not idle in time; the tasks go on either way
   * @example
   * ```ts
   * process.once('SIGTERM', async () => { pool.close(); await pool.drain(5_000).catch(() => {}) })
   * ```
   */
  drain(options?: number | DrainOptions): Promise<void> {
    let timeoutMs: number | undefined
    let signal: AbortSignal | undefined
    try {
      if (typeof options === 'number') timeoutMs = checkTimeout('timeoutMs', options)
      else {
        const opts = checkOptions<DrainOptions>('options', options)
        timeoutMs = checkTimeout('timeoutMs', opts.timeoutMs)
        signal = checkSignal('signal', opts.signal)
      }
    } catch (error) {
      return Promise.reject(error)
    }
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (this.idle()) return Promise.resolve()
    if (timeoutMs === 0) return Promise.reject(this.drainTimeout(0))
    return waitWithDeadline(
      signal,
      timeoutMs,
      (ms) => this.drainTimeout(ms),
      (deadline) => this.waitIdle(deadline),
    )
  }

  /** Resolves once the pool is idle; leaves and rejects with `deadline.reason` when `deadline` aborts first. */
  private waitIdle(deadline: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: DrainWaiter = { resolve, cleanup: undefined }
      this.drainWaiters.push(waiter)
      if (deadline === undefined) return
      const onAbort = (): void => {
        const i = this.drainWaiters.indexOf(waiter)
        if (i !== -1) this.drainWaiters.splice(i, 1)
        reject(deadline.reason)
      }
      deadline.addEventListener('abort', onAbort, { once: true })
      waiter.cleanup = () => {
        deadline.removeEventListener('abort', onAbort)
      }
    })
  }

  /**
   * A snapshot of the counters.
   *
   * @example
   * ```ts
   * metrics.gauge('detached.queued', pool.stats().queued)
   * ```
   */
  stats(): DetachedPoolStats {
    return {
      started: this.nStarted,
      succeeded: this.nSucceeded,
      failed: this.nFailed,
      timedOut: this.nTimedOut,
      dropped: this.nDropped,
      refused: this.nRefused,
      running: this.nRunning,
      queued: this.queue.length - this.head,
      overdue: this.nOverdue,
    }
  }

  /** Closes the pool (same as `close()`); running and queued tasks go on. */
  [Symbol.dispose](): void {
    this.close()
  }

  /** Closes the pool and waits until every accepted task has settled or timed out. Never rejects. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close()
    await this.drain()
  }

  private label(job: Job): string {
    return job.name === undefined ? 'Detached task' : `Detached task "${job.name}"`
  }

  private drainTimeout(ms: number): TimeoutError {
    return new TimeoutError(`DetachedPool${this.name === undefined ? '' : ` "${this.name}"`} did not drain within ${ms} ms`, { timeoutMs: ms })
  }

  private report(job: Job, event: 'error' | 'timeout' | 'dropped' | 'refused', error: unknown): void {
    reportError(job.onError, error, { area: 'detached', event, name: job.name, pool: this.name })
  }

  private idle(): boolean {
    return this.nRunning === 0 && this.queue.length === this.head
  }

  /** The slot is already counted in `nRunning`. */
  private begin(job: Job): void {
    this.nStarted++
    const controller = new AbortController()
    job.controller = controller
    const ms = job.timeoutMs
    if (ms !== undefined) {
      job.timer = setTimeout(() => {
        this.expire(job, ms)
      }, ms)
    }
    // Never run foreign code inside the caller's stack (or inside another task's settle).
    queueMicrotask(() => {
      this.invoke(job, controller.signal)
    })
  }

  private invoke(job: Job, signal: AbortSignal): void {
    if (job.timedOut) {
      // Timed out before it could start (a timer can beat the start microtask under
      // fake timers): it never runs, so it is not overdue either.
      this.nOverdue--
      return
    }
    let out: unknown
    try {
      out = job.task(signal)
    } catch (error) {
      this.complete(job, false, error)
      return
    }
    if (isThenable(out)) {
      Promise.resolve(out).then(
        () => {
          this.complete(job, true, undefined)
        },
        (error: unknown) => {
          this.complete(job, false, error)
        },
      )
    } else {
      this.complete(job, true, undefined)
    }
  }

  private complete(job: Job, ok: boolean, error: unknown): void {
    if (job.timedOut) {
      // Already counted and reported as a timeout; its slot went to the next task.
      this.nOverdue--
      return
    }
    if (job.timer !== undefined) clearTimeout(job.timer)
    job.timer = undefined
    this.nRunning--
    if (ok) this.nSucceeded++
    else {
      this.nFailed++
      this.report(job, 'error', error)
    }
    this.next()
  }

  private expire(job: Job, ms: number): void {
    job.timer = undefined
    job.timedOut = true
    this.nTimedOut++
    this.nOverdue++
    this.nRunning--
    const error = new TimeoutError(`${this.label(job)} timed out after ${ms} ms`, { timeoutMs: ms })
    job.controller?.abort(error)
    this.report(job, 'timeout', error)
    this.next()
  }

  /** Hands free slots to queued tasks, then wakes drain waiters when idle. */
  private next(): void {
    while (this.nRunning < this.concurrency && this.head < this.queue.length) {
      const job = this.queue[this.head]!
      this.queue[this.head++] = undefined
      this.nRunning++
      this.begin(job)
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
    if (this.drainWaiters.length > 0 && this.idle()) {
      const waiters = this.drainWaiters
      this.drainWaiters = []
      for (const w of waiters) {
        w.cleanup?.()
        w.resolve()
      }
    }
  }
}
