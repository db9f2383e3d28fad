/**
 * `DetachedPool`: bounded fire-and-forget work whose failures are never invisible.
 *
 * @module
 */

import type { AbortSignal } from '../internal/types.js'
import { ClosedError, DroppedError, TimeoutError } from '../errors.js'
import { createTaskAbort, type TaskAbort } from '../internal/lazy-signal.js'
import { reportError, type OnError } from '../internal/report.js'
import { armTimer, disarmTimer, type TimerHandle } from '../internal/timers.js'
import { endChannel, enqueueChannel, publishDetached, startChannel } from './events.js'
import type { DetachedEndMessage, DetachedPoolMessage, DetachedStartMessage } from '../internal/channels.js'
import { keepShapes } from '../internal/keep-shapes.js'
import {
  checkFunction,
  checkNonNegativeInteger,
  checkOptionalBoolean,
  checkOptionalFunction,
  checkOptionalString,
  checkOptions,
  checkPositiveInteger,
  checkSignal,
  checkTimeout,
  knownOptions,
} from '../internal/validate.js'
import { waitWithDeadline } from '../internal/tasks-join.js'
import { isThenable } from '../internal/thenable.js'

/** A detached task: called as `task(signal)`; the signal aborts when the task times out (or a drain deadline aborts it). */
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
  /** Most tasks waiting for a slot; a task arriving at a full queue is dropped and reported. Default 10 000; 0 allowed. */
  readonly maxQueue?: number | undefined
  /** Name used in reports (`context.name`, `context.pool`). */
  readonly name?: string | undefined
  /** Receives every failure, timeout, drop, refusal and drain abort. Default: a process warning. */
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
  /** Rejects with a `TimeoutError` when the pool is not idle by then (the tasks go on, unless `abortRemaining`). */
  readonly timeoutMs?: number | undefined
  /** Rejects with `signal.reason` when it aborts first (the tasks go on, unless `abortRemaining`). */
  readonly signal?: AbortSignal | undefined
  /**
   * When the deadline (`timeoutMs` or `signal`) passes first: abort every task still
   * running (its signal aborts with the drain's reason; it counts as `aborted`, is reported
   * as `'aborted'` and frees its slot) and drop every queued task (counted and reported as
   * `'dropped'` with a `DroppedError`). Tasks accepted after that deadline are not affected.
   * Default false: the deadline only stops the waiting.
   */
  readonly abortRemaining?: boolean | undefined
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
  /** Running tasks aborted by a drain deadline (`drain({ abortRemaining: true })`). */
  readonly aborted: number
  /** Tasks dropped without running: the queue was full, or a drain deadline dropped them. */
  readonly dropped: number
  /** Tasks refused because the pool was closed. */
  readonly refused: number
  /** Tasks holding a slot now. */
  readonly running: number
  /** Tasks waiting for a slot now. */
  readonly queued: number
  /** Timed-out or aborted tasks that have not settled yet (they ignore their signal); they hold no slot. */
  readonly overdue: number
}

/** A job holds its slot, not invoked yet (its start is on the next microtask). */
const GRANTED = 0
/** Invoked, not settled. */
const RUNNING = 1
/** Settled before its timeout. */
const DONE = 2
/** Timed out or aborted: its slot went on; it may still be running (overdue). */
const CUT = 3

/** Not in a list (queued, or no longer holding a slot). */
const UNLISTED = 0
/** In the list of jobs on the pool's timeout, which is in deadline order. */
const TIMED = 1
/** In the list of the other jobs holding a slot (own timeout, or none). */
const UNTIMED = 2

/** One accepted task. A job holding a slot sits in one of the pool's two intrusive lists, in start order. */
class Job {
  state = GRANTED
  /** The owner's side of the task's signal; created when the task is invoked. */
  control: TaskAbort | undefined = undefined
  /** Own timer, for a task whose `timeoutMs` differs from the pool's. */
  timer: TimerHandle | undefined = undefined
  /** When the pool's timeout passes (ms on `performance.now()`), for a job in the TIMED list. */
  deadline = 0
  prev: Job | undefined = undefined
  next: Job | undefined = undefined
  list = UNLISTED
  /** When it got its slot (ms on `performance.now()`), read only for a subscriber of asyncsafe:detached:start; -1 otherwise. */
  startedAt = -1
  constructor(
    readonly task: DetachedTask,
    readonly name: string | undefined,
    readonly timeoutMs: number | undefined,
    readonly onError: OnError | undefined,
  ) {}
}

interface DrainWaiter {
  resolve: () => void
  /** Unlinks the waiter from its deadline signal, if it has one. */
  cleanup: (() => void) | undefined
}

const DEFAULT_CONCURRENCY = 8
const DEFAULT_TIMEOUT_MS = 30_000
/** 10k queued jobs hold about 1 MB besides the tasks' own closures: a bound, yet a burst of 10k writes is not cut to a tenth. */
const DEFAULT_MAX_QUEUE = 10_000

const POOL_OPTIONS = knownOptions(['concurrency', 'timeoutMs', 'maxQueue', 'name', 'onError'], {
  limit: 'concurrency',
  maxConcurrency: 'concurrency',
  queueSize: 'maxQueue',
  maxQueueSize: 'maxQueue',
  signal: 'a pool has no signal: close() it, or drain({ signal, abortRemaining: true })',
})
const RUN_OPTIONS = knownOptions(['name', 'timeoutMs', 'onError'], { signal: 'a detached task gets its own signal, aborted by its timeout' })
const DRAIN_OPTIONS = knownOptions(['timeoutMs', 'signal', 'abortRemaining'], { abort: 'abortRemaining', cancel: 'abortRemaining' })

/** `performance.now()` of the moment (looked up at call time, so fake timers that fake it work). */
function now(): number {
  return performance.now()
}

/**
 * Runs fire-and-forget tasks with a concurrency bound, a per-task timeout that aborts
 * the task, a capped queue, and a report for every failure.
 *
 * Hazard it prevents: detached side-effect writes that were unbounded (any number at
 * once, each free to hang) and whose failures were only logged at debug level. Here a
 * failure, a timeout, a dropped task and a refused task each reach `onError` (default: a
 * process warning) and diagnostics_channel `asyncsafe:detached:<error|timeout|dropped|refused|aborted>`.
 *
 * - `run(task)` returns `true` when the task was accepted (started or queued) and `false`
 *   when it was dropped or refused. It never throws for the task's failures and never
 *   creates a promise that could reject unhandled; only a non-function task throws a
 *   `TypeError`. A task accepted with a free slot starts on a microtask, never inside the
 *   caller's stack; a queued task starts as soon as a slot frees (from the settling task's
 *   reaction or the timeout's timer, never inside a `run` call).
 * - Fairness: queued tasks start in FIFO order as slots free up; at most `concurrency` run.
 * - Cancellation and timeouts: when a task's `timeoutMs` passes, its signal aborts with a
 *   `TimeoutError`, it counts as `timedOut` (not `failed`), it is reported, and its slot
 *   goes to the next task at once. A timeout can only stop a task that honours its signal
 *   or awaits: synchronous work inside a task cannot be interrupted by any timer (keep
 *   CPU-bound work out of detached tasks, or split it with awaits and signal checks).
 *   A timed-out task that keeps running is counted in `overdue` until it settles.
 *   `drain({ timeoutMs, abortRemaining: true })` aborts what is still running at its deadline.
 * - Overflow: with `maxQueue` tasks already waiting, the newest task (the one being
 *   added) is dropped and reported with a `DroppedError`; queued tasks keep their place.
 * - `close()` refuses new tasks (each refusal reported with a `ClosedError`) while queued
 *   ones still run. `[Symbol.asyncDispose]` closes and drains; `[Symbol.dispose]` only closes.
 * - Cost: the pool's timeout is one timer for the whole pool, aimed at the oldest running
 *   task's deadline (tasks on the pool's timeout start in deadline order), re-aimed when it
 *   fires and cleared when nothing runs; a task's signal on Node 20 is created only when
 *   the task uses it (see the README's Performance section).
 *
 * Why not p-limit: p-limit 7 has no queue cap (it grows without bound), no per-task
 * timeout that aborts the task and frees its slot, and no per-task cancellation or
 * statistics; wrapping it would need all of that around it, so this pool is its own
 * (and measured faster than p-limit and p-queue on 10,000 trivial tasks).
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
  /** Waiting tasks: a bare task (pool defaults) or a Job (per-task options). */
  private queue: (DetachedTask | Job | undefined)[] = []
  private head = 0
  /** Jobs granted a slot by `run()`, invoked together on the next microtask. */
  private starting: Job[] = []
  private startScheduled = false
  /** Re-entry guard of `pump()`: a task settling synchronously must not recurse into starting the next. */
  private pumping = false
  /** Oldest and newest job holding a slot, per list (index TIMED or UNTIMED; start order). */
  private readonly first: [undefined, Job | undefined, Job | undefined] = [undefined, undefined, undefined]
  private readonly last: [undefined, Job | undefined, Job | undefined] = [undefined, undefined, undefined]
  /** The pool's one timeout timer, aimed at `aimedAt` (a deadline, ms on `performance.now()`). */
  private timer: TimerHandle | undefined = undefined
  private aimedAt = 0
  private closed = false
  private drainWaiters: DrainWaiter[] = []
  private nStarted = 0
  private nSucceeded = 0
  private nFailed = 0
  private nTimedOut = 0
  private nAborted = 0
  private nDropped = 0
  private nRefused = 0
  private nRunning = 0
  private nOverdue = 0
  private readonly startPending = (): void => {
    this.startScheduled = false
    const jobs = this.starting
    this.starting = []
    for (const job of jobs) this.invoke(job)
  }
  private readonly onTimer = (): void => {
    this.fire()
  }
  /** The own timer of a job whose `timeoutMs` differs from the pool's. */
  private readonly onOwnTimeout = (job: Job): void => {
    job.timer = undefined
    if (job.state === DONE || job.state === CUT) return
    this.cut(job, 'timeout', this.timeoutError(job))
    this.pump()
  }

  /**
   * @param options `concurrency` (8), `timeoutMs` (30 000), `maxQueue` (10 000), `name`, `onError`
   * @throws TypeError / RangeError on bad input, and TypeError on an unknown option key
   */
  constructor(options?: DetachedPoolOptions) {
    const opts = checkOptions<DetachedPoolOptions>('options', options, POOL_OPTIONS)
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
   * Accepts a task: it starts now if a slot is free (on a microtask), otherwise it waits in the queue.
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
    // Without options a waiting task is queued as the bare function: its Job exists only
    // while it holds a slot (10k queued Jobs surviving scavenges cost more than the rest).
    let entry: DetachedTask | Job = task
    if (options !== undefined) {
      const opts = checkOptions<DetachedRunOptions>('options', options, RUN_OPTIONS)
      const name = opts.name === undefined ? this.name : checkOptionalString('name', opts.name)
      const timeoutMs = opts.timeoutMs === undefined ? this.timeoutMs : checkTimeout('timeoutMs', opts.timeoutMs)
      const onError = opts.onError === undefined ? this.onError : checkOptionalFunction<OnError>('onError', opts.onError)
      entry = new Job(task, name, timeoutMs, onError)
    }
    if (this.closed) {
      const job = this.toJob(entry)
      this.nRefused++
      this.report(job, 'refused', new ClosedError(`${this.label(job)} refused: the pool is closed`))
      return false
    }
    if (this.nRunning < this.concurrency) {
      const job = this.toJob(entry)
      this.grant(job)
      if (startChannel?.hasSubscribers) this.publishStart(job, false)
      // Never run foreign code inside the caller's stack: one microtask starts every task granted meanwhile.
      this.starting.push(job)
      if (!this.startScheduled) {
        this.startScheduled = true
        queueMicrotask(this.startPending)
      }
      return true
    }
    if (this.queue.length - this.head < this.maxQueue) {
      this.queue.push(entry)
      if (enqueueChannel?.hasSubscribers) this.publishEnqueue(entry)
      return true
    }
    const job = this.toJob(entry)
    this.nDropped++
    this.report(job, 'dropped', new DroppedError(`${this.label(job)} dropped: the queue is full (maxQueue ${this.maxQueue})`))
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
   * @param options a timeout in ms, or `{ timeoutMs, signal, abortRemaining }`: rejects with a
   *   `TimeoutError` or `signal.reason` when the pool is not idle in time; the tasks go on,
   *   unless `abortRemaining`, which then aborts the running ones and drops the queued ones
   * @example
   * ```ts
   * process.once('SIGTERM', async () => {
   *   pool.close()
   *   await pool.drain({ timeoutMs: 5_000, abortRemaining: true }).catch(() => {})
   * })
   * ```
   */
  drain(options?: number | DrainOptions): Promise<void> {
    let timeoutMs: number | undefined
    let signal: AbortSignal | undefined
    let abortRemaining = false
    try {
      if (typeof options === 'number') timeoutMs = checkTimeout('timeoutMs', options)
      else {
        const opts = checkOptions<DrainOptions>('options', options, DRAIN_OPTIONS)
        timeoutMs = checkTimeout('timeoutMs', opts.timeoutMs)
        signal = checkSignal('signal', opts.signal)
        abortRemaining = checkOptionalBoolean('abortRemaining', opts.abortRemaining) ?? false
      }
    } catch (error) {
      return Promise.reject(error)
    }
    if (signal?.aborted) {
      if (abortRemaining) this.abortRemaining(signal.reason)
      return Promise.reject(signal.reason)
    }
    if (this.idle()) return Promise.resolve()
    if (timeoutMs === 0) {
      const error = this.drainTimeout(0)
      if (abortRemaining) this.abortRemaining(error)
      return Promise.reject(error)
    }
    return waitWithDeadline(
      signal,
      timeoutMs,
      (ms) => this.drainTimeout(ms),
      (deadline) => this.waitIdle(deadline, abortRemaining),
    )
  }

  /** Resolves once the pool is idle; leaves and rejects with `deadline.reason` when `deadline` aborts first. */
  private waitIdle(deadline: AbortSignal | undefined, abortRemaining: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: DrainWaiter = { resolve, cleanup: undefined }
      this.drainWaiters.push(waiter)
      if (deadline === undefined) return
      const onAbort = (): void => {
        const i = this.drainWaiters.indexOf(waiter)
        if (i !== -1) this.drainWaiters.splice(i, 1)
        const reason: unknown = deadline.reason
        if (abortRemaining) this.abortRemaining(reason)
        reject(reason)
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
      aborted: this.nAborted,
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

  private toJob(entry: DetachedTask | Job): Job {
    return typeof entry === 'function' ? new Job(entry, this.name, this.timeoutMs, this.onError) : entry
  }

  private label(job: Job): string {
    return job.name === undefined ? 'Detached task' : `Detached task "${job.name}"`
  }

  private drainTimeout(ms: number): TimeoutError {
    return new TimeoutError(`DetachedPool${this.name === undefined ? '' : ` "${this.name}"`} did not drain within ${ms} ms`, { timeoutMs: ms })
  }

  private report(job: Job, event: 'error' | 'timeout' | 'dropped' | 'refused' | 'aborted', error: unknown): void {
    reportError(job.onError, error, { area: 'detached', event, name: job.name, pool: this.name })
  }

  private publishEnqueue(entry: DetachedTask | Job): void {
    const message: DetachedPoolMessage = { pool: this.name, name: typeof entry === 'function' ? this.name : entry.name, queued: this.queue.length - this.head, running: this.nRunning, source: this }
    publishDetached(enqueueChannel!, message)
  }

  private publishStart(job: Job, fromQueue: boolean): void {
    job.startedAt = now()
    const message: DetachedStartMessage = { pool: this.name, name: job.name, queued: this.queue.length - this.head, running: this.nRunning, source: this, fromQueue }
    publishDetached(startChannel!, message)
  }

  private publishEnd(job: Job, outcome: DetachedEndMessage['outcome'], error: unknown): void {
    const durationMs = job.startedAt < 0 ? undefined : now() - job.startedAt
    const base = { pool: this.name, name: job.name, queued: this.queue.length - this.head, running: this.nRunning, source: this, outcome, durationMs }
    publishDetached(endChannel!, outcome === 'failed' ? { ...base, error } : base)
  }

  private idle(): boolean {
    return this.nRunning === 0 && this.queue.length === this.head
  }

  /** Gives `job` a slot and starts its timeout (the task itself is invoked by the caller). */
  private grant(job: Job): void {
    this.nRunning++
    this.nStarted++
    const ms = job.timeoutMs
    if (ms === undefined || ms !== this.timeoutMs) {
      if (ms !== undefined) job.timer = armTimer(ms, this.onOwnTimeout, job)
      this.link(job, UNTIMED)
      return
    }
    // On the pool's timeout: appended to the TIMED list, whose order is deadline order.
    // Whole milliseconds (rounded up, never early): tasks started together expire together.
    const deadline = Math.ceil(now() + ms)
    job.deadline = deadline
    this.link(job, TIMED)
    if (this.timer === undefined) this.aim(deadline, ms)
  }

  private link(job: Job, list: typeof TIMED | typeof UNTIMED): void {
    job.list = list
    const last = this.last[list]
    if (last === undefined) this.first[list] = job
    else {
      last.next = job
      job.prev = last
    }
    this.last[list] = job
  }

  private aim(deadline: number, delay: number): void {
    this.aimedAt = deadline
    this.timer = armTimer(delay, this.onTimer)
  }

  /** Takes `job` out of its list (it no longer holds a slot). */
  private unlink(job: Job): void {
    const list = job.list
    if (list === UNLISTED) return
    job.list = UNLISTED
    const { prev, next } = job
    if (prev === undefined) this.first[list] = next
    else prev.next = next
    if (next === undefined) this.last[list] = prev
    else next.prev = prev
    job.prev = undefined
    job.next = undefined
    if (list === TIMED && next === undefined && prev === undefined && this.timer !== undefined) {
      // Nothing left on the pool's timeout: no timer stays armed while idle.
      disarmTimer(this.timer)
      this.timer = undefined
    }
  }

  /** The pool timer fired: expire every job whose deadline passed, then aim at the next one. */
  private fire(): void {
    this.timer = undefined
    // The timer is trusted for the deadline it was aimed at (as a per-task timer would be),
    // so fake timers that leave the clock alone still expire what they were armed for.
    const limit = Math.max(now(), this.aimedAt)
    let job = this.first[TIMED]
    while (job !== undefined && job.deadline <= limit) {
      this.cut(job, 'timeout', this.timeoutError(job))
      job = this.first[TIMED]
    }
    this.pump()
    const first = this.first[TIMED]
    if (first !== undefined && this.timer === undefined) this.aim(first.deadline, Math.max(0, first.deadline - now()))
  }


  private timeoutError(job: Job): TimeoutError {
    const ms = job.timeoutMs!
    return new TimeoutError(`${this.label(job)} timed out after ${ms} ms`, { timeoutMs: ms })
  }

  /** Ends a granted or running job's hold on its slot: timed out, or aborted by a drain deadline. */
  private cut(job: Job, event: 'timeout' | 'aborted', reason: unknown): void {
    this.unlink(job)
    disarmTimer(job.timer)
    job.timer = undefined
    job.state = CUT
    if (event === 'timeout') this.nTimedOut++
    else this.nAborted++
    this.nOverdue++
    this.nRunning--
    if (endChannel?.hasSubscribers) this.publishEnd(job, event, undefined)
    job.control?.abort(reason)
    this.report(job, event, reason)
  }

  /** Invokes a granted job's task. Never throws. */
  private invoke(job: Job): void {
    if (job.state !== GRANTED) {
      // Cut before it could start (a timer or a drain deadline beat its start): it never
      // runs, so it is not overdue either.
      this.nOverdue--
      return
    }
    job.state = RUNNING
    const abort = createTaskAbort()
    job.control = abort
    let out: unknown
    try {
      out = job.task(abort.signal)
    } catch (error) {
      this.complete(job, false, error)
      return
    }
    if (isThenable(out)) {
      // Promise.resolve returns a native promise as is (no extra hop) and adopts anything else safely.
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
    if (job.state === DONE) return
    if (job.state === CUT) {
      // Already counted and reported as a timeout or an abort; its slot went to the next task.
      job.state = DONE
      this.nOverdue--
      return
    }
    job.state = DONE
    this.unlink(job)
    if (job.timer !== undefined) {
      disarmTimer(job.timer)
      job.timer = undefined
    }
    this.nRunning--
    if (endChannel?.hasSubscribers) this.publishEnd(job, ok ? 'succeeded' : 'failed', error)
    if (ok) this.nSucceeded++
    else {
      this.nFailed++
      this.report(job, 'error', error)
    }
    this.pump()
  }

  /**
   * Hands free slots to queued tasks and starts them (this runs in a settling task's
   * reaction or in a timer, never in a caller's stack), then wakes drain waiters when idle.
   */
  private pump(): void {
    if (this.pumping) return
    this.pumping = true
    while (this.nRunning < this.concurrency && this.head < this.queue.length) {
      const job = this.toJob(this.queue[this.head]!)
      this.queue[this.head++] = undefined
      this.grant(job)
      if (startChannel?.hasSubscribers) this.publishStart(job, true)
      // A task that settles synchronously comes back to pump(), which returns at once: no recursion.
      this.invoke(job)
    }
    this.pumping = false
    if (this.head === this.queue.length) {
      if (this.head > 0) {
        this.queue.length = 0
        this.head = 0
      }
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

  /** A drain deadline with `abortRemaining`: abort what runs, drop what waits. */
  private abortRemaining(reason: unknown): void {
    const queued = this.queue.slice(this.head)
    this.queue = []
    this.head = 0
    for (const entry of queued) {
      const job = this.toJob(entry!)
      this.nDropped++
      if (endChannel?.hasSubscribers) this.publishEnd(job, 'dropped', undefined)
      this.report(job, 'dropped', new DroppedError(`${this.label(job)} dropped: the pool's drain deadline passed before it started`, { cause: reason }))
    }
    // Collected first: an abort listener may call run(), which links new jobs (not aborted).
    const holding: Job[] = []
    for (const list of [TIMED, UNTIMED] as const) for (let job = this.first[list]; job !== undefined; job = job.next) holding.push(job)
    for (const job of holding) if (job.list !== UNLISTED) this.cut(job, 'aborted', reason)
    this.pump()
  }
}

// One pool and one job stay alive, so their hidden classes (and the code optimized on them) survive a full GC; see internal/keep-shapes.ts.
keepShapes(new DetachedPool({ name: 'asyncsafe:kept-shape' }), new Job(() => undefined, undefined, undefined, undefined))
