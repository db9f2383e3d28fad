/**
 * `TaskScope`: a group of guarded tasks with one owner (structured concurrency).
 *
 * @module
 */
import { ClosedError, TimeoutError } from '../errors.js'
import { DISPOSED, RESOLVED, SettleWait } from '../internal/guards-shared.js'
import { reportError, type OnError } from '../internal/report.js'
import { checkFunction, checkOptionalBoolean, checkOptionalString, checkOptions, knownOptions } from '../internal/validate.js'
import { makeTaskConfig, TASK_OPTION_HINTS, taskConfig, TaskGuard, type GuardedTask, type TaskConfig } from './spawnGuarded.js'
import type { AbortSignal } from '../internal/types.js'

/** Options of {@link TaskScope}. */
export interface TaskScopeOptions {
  /** Name used in reports and diagnostics (children without a name of their own use it too). */
  name?: string
  /** A parent signal: its abort aborts every child (with its reason) and refuses nothing (children spawned later start aborted). */
  signal?: AbortSignal
  /** The first failure of a child aborts its siblings (with that failure as reason) and closes the scope to `spawn`. Default false. */
  failFast?: boolean
  /** How long `await using` waits for the children to settle after aborting them (ms). Default 5000; `Infinity` waits for ever. */
  settleTimeoutMs?: number
  /** Receives failures nobody observed (`guard:task-error`) and stragglers (`guard:settle-timeout`). */
  onError?: OnError
}

/** Options of {@link TaskScope.spawn}. */
export interface ScopeSpawnOptions {
  /** The child's name in reports (default: the scope's name). */
  name?: string
}

const CLOSED_BY_DISPOSE = Object.freeze({ why: 'disposed' as const })
const SCOPE_OPTIONS = knownOptions(['name', 'signal', 'failFast', 'settleTimeoutMs', 'onError'], TASK_OPTION_HINTS)
const SPAWN_OPTIONS = knownOptions(['name'], { signal: 'a child follows its scope: pass signal to the TaskScope', settleTimeoutMs: 'pass it to the TaskScope', onError: 'pass it to the TaskScope' })

/** Failures kept for a later `join()` at most (the oldest are dropped; every one was reported or delivered when it happened). */
const MAX_RETAINED_FAILURES = 1_000

interface JoinWaiter {
  readonly limit: number
  remaining: number
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

interface Failure {
  readonly seq: number
  readonly error: unknown
}

/**
 * A scope owning any number of background tasks: they are aborted together, awaited
 * together, and none outlives the scope.
 *
 * - `spawn(fn)` starts `fn(signal)` now and returns its {@link TaskGuard}; a settled child
 *   is released at once, so a long-lived scope does not grow (failures wait for a `join()`,
 *   at most the last 1000).
 * - `join()` waits until every child spawned before the call has settled, then resolves,
 *   or rejects with an `AggregateError` of the failures of those children (aborted ones
 *   are not failures). A join delivers those failures and forgets them, once no other
 *   join is pending.
 * - `failFast`: the first failure aborts every sibling (reason: that failure) and later
 *   `spawn` calls throw a `ClosedError` whose `cause` is the failure.
 * - `using`: dispose aborts every child (shared `DisposedError`) and closes the scope
 *   (`spawn` throws `ClosedError`). `await using` also waits for them, at most
 *   `settleTimeoutMs`, and reports each child still running then (`guard:settle-timeout`).
 * - A child failure is reported (`guard:task-error`) when neither a pending `join()` nor
 *   a subscriber of the child's `done` was there to receive it when it happened.
 *
 * Fairness: children run concurrently; the scope imposes no order or limit (combine with
 * a `Semaphore` for a bound).
 *
 * @example
 * ```ts
 * await using scope = new TaskScope({ name: 'session', signal: request.signal, failFast: true })
 * scope.spawn((signal) => streamUpdates(signal))
 * scope.spawn((signal) => heartbeat(signal))
 * await scope.join()   // rejects with AggregateError if a child failed; the other was aborted
 * ```
 */
export class TaskScope implements Disposable, AsyncDisposable {
  // Also the internal TaskOwner (children report to it) and SettleWaitOwner shapes,
  // checked structurally where `this` is passed as one; not named in `implements` so the
  // public declaration does not reference internal types.
  readonly #name: string | undefined
  /** `TaskScope` or `TaskScope "name"`, for error messages. */
  readonly #label: string
  readonly #failFast: boolean
  readonly #childConfig: TaskConfig
  readonly #children = new Map<TaskGuard<unknown>, number>()
  readonly #joins = new Set<JoinWaiter>()
  #failures: Failure[] = []
  #nextSeq = 0
  #deliveredBelow = 0
  #parent: AbortSignal | undefined
  // Why spawn is refused; the ClosedError itself is built only when a spawn is refused
  // (an Error and its stack per dispose would cost more than the scope).
  #closed: { readonly why: 'disposed' | 'failed'; readonly cause?: unknown } | undefined
  #disposed = false
  // The `await using` wait for the children to drain (one for the scope, not one per child).
  #settleWait: SettleWait | undefined

  /**
   * @param options `name`, parent `signal`, `failFast` (default false), `settleTimeoutMs` (default 5000), `onError`
   * @throws TypeError / RangeError for bad options
   */
  constructor(options?: TaskScopeOptions) {
    const opts = checkOptions<TaskScopeOptions>('TaskScope: options', options, SCOPE_OPTIONS)
    this.#failFast = checkOptionalBoolean('TaskScope: options.failFast', opts.failFast) ?? false
    const base = taskConfig('TaskScope', options === undefined ? undefined : opts, SCOPE_OPTIONS)
    this.#name = base.name
    // Children do not listen to the parent themselves: the scope aborts them (one listener in all).
    this.#childConfig = makeTaskConfig(base.name, undefined, base.settleTimeoutMs, base.onError)
    const parent = base.signal
    this.#parent = parent
    if (parent !== undefined && !parent.aborted) parent.addEventListener('abort', this, { once: true })
    this.#label = base.name === undefined ? 'TaskScope' : `TaskScope "${base.name}"`
  }

  /** The scope's name, if it has one. */
  get name(): string | undefined {
    return this.#name
  }

  /** Number of children still running. */
  get size(): number {
    return this.#children.size
  }

  /** Whether the scope was disposed. */
  get disposed(): boolean {
    return this.#disposed
  }

  /**
   * Starts `task(signal)` now as a child of this scope and returns its guard. Under an
   * aborted parent signal the task is not called (the guard is `'aborted'` at once).
   *
   * @throws ClosedError after dispose, or after a failure with `failFast` (its `cause`)
   * @throws TypeError when `task` is not a function
   */
  spawn<T>(task: GuardedTask<T>, options?: ScopeSpawnOptions): TaskGuard<T> {
    checkFunction('TaskScope.spawn: task', task)
    const closed = this.#closed
    if (closed !== undefined) {
      const label = this.#label
      throw closed.why === 'failed'
        ? new ClosedError(`${label} failed (failFast): spawn refused`, { cause: closed.cause })
        : new ClosedError(`${label} is disposed: spawn refused`)
    }
    let config = this.#childConfig
    if (options !== undefined) {
      const opts = checkOptions<ScopeSpawnOptions>('TaskScope.spawn: options', options, SPAWN_OPTIONS)
      const name = checkOptionalString('TaskScope.spawn: options.name', opts.name)
      if (name !== undefined) config = makeTaskConfig(name, config.signal, config.settleTimeoutMs, config.onError)
    }
    const parent = this.#parent
    // Under an aborted parent, the guard starts aborted and never calls the task.
    if (parent?.aborted) config = makeTaskConfig(config.name, parent, config.settleTimeoutMs, config.onError)
    const seq = this.#nextSeq++
    const child = new TaskGuard<T>(task, config, this) as TaskGuard<unknown>
    if (child.state === 'running') this.#children.set(child, seq)
    return child as TaskGuard<T>
  }

  /**
   * Aborts every running child with `reason` (default: the runtime's `AbortError`).
   * Such aborts are not failures. The scope stays open.
   */
  abortAll(reason?: unknown): void {
    const hasReason = arguments.length > 0
    for (const child of [...this.#children.keys()]) {
      if (hasReason) child.abort(reason)
      else child.abort()
    }
  }

  /**
   * Waits until every child spawned before this call has settled. Resolves when none of
   * them failed, else rejects with an `AggregateError` of their failures (in the order
   * they happened). Aborted children are not failures.
   */
  join(): Promise<void> {
    const limit = this.#nextSeq
    let remaining = 0
    for (const seq of this.#children.values()) if (seq < limit) remaining++
    if (remaining === 0) {
      const failure = this.#failureOf(limit)
      this.#forgetDelivered(limit)
      return failure === undefined ? RESOLVED : Promise.reject(failure)
    }
    return new Promise<void>((resolve, reject) => {
      this.#joins.add({ limit, remaining, resolve, reject })
    })
  }

  /** Aborts every child (shared `DisposedError`) and closes the scope. Idempotent, never throws. */
  [Symbol.dispose](): void {
    if (this.#disposed) return
    this.#disposed = true
    this.#closed ??= CLOSED_BY_DISPOSE
    const parent = this.#parent
    if (parent !== undefined) {
      this.#parent = undefined
      parent.removeEventListener('abort', this)
    }
    for (const child of [...this.#children.keys()]) child.abort(DISPOSED)
  }

  /**
   * Aborts every child and closes the scope, then waits for the children to settle, at
   * most `settleTimeoutMs`; each child still running then is reported
   * (`guard:settle-timeout`). Never rejects.
   */
  [Symbol.asyncDispose](): Promise<void> {
    this[Symbol.dispose]()
    if (this.#children.size === 0) return RESOLVED
    // One wait for all the children (shared by concurrent disposers). Children that honour
    // their abort settle within the microtasks it causes: SettleWait arms a timer only if
    // some are still running once the microtask queue drained.
    return (this.#settleWait ??= new SettleWait(this, this.#childConfig.settleTimeoutMs)).promise
  }

  /** @internal SettleWaitOwner: whether a child still runs. */
  settleRunning(): boolean {
    return this.#children.size > 0
  }

  /** @internal SettleWaitOwner: the drain wait passed settleTimeoutMs: report each straggler. */
  settleTimedOut(ms: number): void {
    for (const child of this.#children.keys()) {
      reportError(this.#childConfig.onError, new TimeoutError(`Task did not settle within ${ms} ms of its scope's dispose`, { timeoutMs: ms }), {
        area: 'guard',
        event: 'settle-timeout',
        name: child.name ?? this.#name,
        scope: this.#name,
      })
    }
  }

  /** @internal Parent signal listener. */
  handleEvent(): void {
    const parent = this.#parent
    if (parent === undefined) return
    const reason: unknown = parent.reason
    for (const child of [...this.#children.keys()]) child.abort(reason)
  }

  /** @internal Called by a child when it settles. */
  childSettled(child: TaskGuard<unknown>, failed: boolean, error: unknown): boolean {
    const seq = this.#children.get(child)
    // A child that settled synchronously inside spawn was never registered: it returned a
    // value (a synchronous throw becomes a rejected promise, settled later), so there is
    // nothing to record, and no join or drain can be waiting for it.
    if (seq === undefined) return false
    this.#children.delete(child)
    let delivered = false
    if (failed) {
      const failures = this.#failures
      failures.push({ seq, error })
      // Trim in batches (amortised O(1) per failure); #failureOf reads only the last MAX_RETAINED_FAILURES.
      if (failures.length >= 2 * MAX_RETAINED_FAILURES) failures.splice(0, failures.length - MAX_RETAINED_FAILURES)
      for (const join of this.#joins) if (seq < join.limit) delivered = true
      if (this.#failFast && this.#closed === undefined) {
        this.#closed = { why: 'failed', cause: error }
        for (const sibling of [...this.#children.keys()]) sibling.abort(error)
      }
    }
    if (this.#children.size === 0) this.#settleWait?.settled()
    // Every join finished by this child reads its failures before any are forgotten
    // (several joins may finish at once and each must get all of its failures).
    let finishedBelow = -1
    for (const join of this.#joins) {
      if (seq < join.limit && --join.remaining === 0) {
        this.#joins.delete(join)
        const failure = this.#failureOf(join.limit)
        if (failure === undefined) join.resolve()
        else join.reject(failure)
        finishedBelow = Math.max(finishedBelow, join.limit)
      }
    }
    if (finishedBelow >= 0) this.#forgetDelivered(finishedBelow)
    return delivered
  }

  /** The AggregateError of the retained failures of children spawned before `limit`, if any. */
  #failureOf(limit: number): AggregateError | undefined {
    const failures = this.#failures
    const errors: unknown[] = []
    for (let i = Math.max(0, failures.length - MAX_RETAINED_FAILURES); i < failures.length; i++) {
      const f = failures[i]!
      if (f.seq < limit) errors.push(f.error)
    }
    if (errors.length === 0) return undefined
    return new AggregateError(errors, `${this.#label}: ${errors.length} task${errors.length === 1 ? '' : 's'} failed`)
  }

  /** Forgets delivered failures once no pending join may still need them (bounded memory). */
  #forgetDelivered(limit: number): void {
    if (limit > this.#deliveredBelow) this.#deliveredBelow = limit
    if (this.#joins.size === 0 && this.#failures.length > 0) {
      const below = this.#deliveredBelow
      this.#failures = this.#failures.filter((f) => f.seq >= below)
    }
  }
}
