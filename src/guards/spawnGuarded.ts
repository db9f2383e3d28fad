/**
 * `spawnGuarded`: a background task owned by a scope. Leaving the scope aborts it; with
 * `await using` the scope also waits (bounded) until it settled. Its failures are never
 * lost and never become unhandled rejections.
 *
 * @module
 */
import { TimeoutError } from '../errors.js'
import { afterMicrotasks, DISPOSED, RESOLVED, SettleWait } from '../internal/guards-shared.js'
import { reportError, type OnError } from '../internal/report.js'
import { checkFunction, checkOptionalFunction, checkOptionalString, checkOptions, checkSignal, checkTimeout, knownOptions, type KnownOptions } from '../internal/validate.js'
import { isThenable } from '../internal/thenable.js'
import type { AbortSignal } from '../internal/types.js'

/** A task: called once with the signal that aborts when its guard is disposed or aborted. */
export type GuardedTask<T> = (signal: AbortSignal) => PromiseLike<T> | T

/** Lifecycle of a {@link TaskGuard}. `'aborted'`: the task settled after its signal was aborted. */
export type TaskState = 'running' | 'fulfilled' | 'rejected' | 'aborted'

/** Options of {@link spawnGuarded}. */
export interface SpawnGuardedOptions {
  /** Name used in reports and diagnostics. */
  name?: string
  /** A parent signal: its abort aborts the task too (with the parent's reason). */
  signal?: AbortSignal
  /**
   * How long `await using` (`[Symbol.asyncDispose]`) waits for the task to settle after
   * aborting it, in milliseconds; a task still running then is reported
   * (`guard:settle-timeout`) and left behind. Default 5000; `Infinity` waits for ever.
   */
  settleTimeoutMs?: number
  /** Receives failures nobody observed on `done` (`guard:task-error`) and settle timeouts (`guard:settle-timeout`). */
  onError?: OnError
}

/** Default of `settleTimeoutMs`: long enough for orderly cleanup, short enough that a stuck task cannot hang a shutdown. */
export const DEFAULT_SETTLE_TIMEOUT_MS = 5_000


/** @internal How a {@link TaskScope} follows its children. */
export interface TaskOwner {
  /**
   * Called once when a child settles (`failed`: it rejected without being aborted).
   * Returns true when the owner will deliver the failure (a pending `join()`), so it
   * need not be reported.
   */
  childSettled(child: TaskGuard<unknown>, failed: boolean, error: unknown): boolean
}

/** @internal Validated configuration of a guard. */
export interface TaskConfig {
  readonly name: string | undefined
  readonly signal: AbortSignal | undefined
  readonly settleTimeoutMs: number | undefined
  readonly onError: OnError | undefined
}

/**
 * A promise that records whether anyone subscribed to it (`then`, `catch`, `finally`,
 * `await`, `Promise.all`... all go through `then`). Derived promises are plain ones.
 */
class ObservedPromise<T> extends Promise<T> {
  observed = false
  static override get [Symbol.species](): PromiseConstructor {
    return Promise
  }
  override then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.observed = true
    return super.then(onFulfilled, onRejected)
  }
}

// eslint-disable-next-line @typescript-eslint/unbound-method -- always called with .call(promise)
const promiseThen = Promise.prototype.then
const ignore = (): void => {}

/** Marks a promise handled without counting as an observer. */
function silence(promise: Promise<unknown>): void {
  void promiseThen.call(promise, undefined, ignore)
}

/**
 * A running background task owned by the current scope. Created by {@link spawnGuarded}
 * or {@link TaskScope.spawn}.
 *
 * - `using`: leaving the scope aborts the task's signal (with a shared `DisposedError`)
 *   and does not wait.
 * - `await using`: aborts, then waits until the task settled, at most `settleTimeoutMs`;
 *   a task still running then is reported (`guard:settle-timeout`). Never rejects.
 * - `done` resolves with the task's value or rejects with its failure; a task aborted
 *   before it settled rejects with the abort reason (also when it ignored the signal and
 *   returned a value: its outcome no longer matters to anyone).
 * - A failure is reported to `onError` / diagnostics `asyncsafe:guard:task-error` /
 *   a process warning when nobody subscribed to `done` (`then`, `catch`, `await`,
 *   `Promise.all`...) within 16 microtask turns of the failure or before the microtask
 *   queue drained, whichever comes first (Node decides a rejection is unhandled when the
 *   queue drained). `done` itself never causes an
 *   unhandled rejection. Errors
 *   after an abort (dispose, `abort()`, the parent signal) are cancellation, not failures:
 *   never reported.
 *
 * @example
 * ```ts
 * {
 *   using indexing = spawnGuarded((signal) => indexFiles(root, signal), { name: 'index' })
 *   await serveSession()
 * } // indexing is aborted here, also when serveSession throws
 * ```
 */
export class TaskGuard<T> implements Disposable, AsyncDisposable {
  readonly #controller: AbortController
  readonly #config: TaskConfig
  readonly #owner: TaskOwner | undefined
  #state: TaskState = 'running'
  #outcome: unknown
  #done: ObservedPromise<T> | undefined
  #resolveDone: ((value: T) => void) | undefined
  #rejectDone: ((error: unknown) => void) | undefined
  #settled: Promise<void> = RESOLVED
  // The `await using` wait, created only when a dispose finds the task still running.
  #settleWait: SettleWait | undefined
  #parent: AbortSignal | undefined
  #detached = false

  /** @internal Use {@link spawnGuarded} or {@link TaskScope.spawn}. */
  constructor(task: GuardedTask<T>, config: TaskConfig, owner?: TaskOwner) {
    this.#config = config
    this.#owner = owner
    const controller = new AbortController()
    this.#controller = controller
    const parent = config.signal
    if (parent !== undefined) {
      if (parent.aborted) {
        // Nothing is started under an aborted parent.
        controller.abort(parent.reason)
        this.#state = 'aborted'
        this.#outcome = parent.reason
        return
      }
      this.#parent = parent
      parent.addEventListener('abort', this, { once: true })
    }
    let result: PromiseLike<T> | T
    try {
      result = task(controller.signal)
    } catch (error) {
      result = Promise.reject(error)
    }
    if (isThenable(result)) {
      this.#settled = this.#follow(result)
    } else {
      this.#finish(false, result)
    }
  }

  // An async function rather than `.then(onValue, onError)`: no closures per guard, and
  // V8's await on a native promise allocates less than a derived promise.
  async #follow(result: PromiseLike<T>): Promise<void> {
    let value: T
    try {
      value = await result
    } catch (error) {
      this.#finish(true, error)
      return
    }
    this.#finish(false, value)
  }

  /** The task's signal: aborted by dispose, `abort()` or the parent signal. */
  get signal(): AbortSignal {
    return this.#controller.signal
  }

  /** `'running'`, then `'fulfilled'`, `'rejected'` or `'aborted'` (settled after its signal was aborted). */
  get state(): TaskState {
    return this.#state
  }

  /** The guard's name, if it has one. */
  get name(): string | undefined {
    return this.#config.name
  }

  /**
   * Settles with the task: its value, its failure, or the abort reason when the task
   * settled after an abort. Subscribing to it (`then`/`catch`/`finally`/`await`) before
   * the decision (16 microtask turns after a failure, or earlier if the microtask queue
   * drains) makes you the owner of that failure: it is
   * then not reported to `onError`. Merely reading `done` does not count.
   */
  get done(): Promise<T> {
    let done = this.#done
    if (done === undefined) {
      const state = this.#state
      if (state === 'running') {
        done = new ObservedPromise<T>((resolve, reject) => {
          this.#resolveDone = resolve
          this.#rejectDone = reject
        })
      } else if (state === 'fulfilled') {
        done = new ObservedPromise<T>((resolve) => {
          resolve(this.#outcome as T)
        })
      } else {
        done = new ObservedPromise<T>((_, reject) => {
          reject(this.#outcome)
        })
      }
      silence(done)
      this.#done = done
    }
    return done
  }

  /** Whether `detach()` was called. */
  get detached(): boolean {
    return this.#detached
  }

  /**
   * Aborts the task's signal with `reason` (default: the runtime's `AbortError`).
   * Idempotent: the first reason wins. Such an abort is never reported as a failure.
   */
  abort(reason?: unknown): void {
    const controller = this.#controller
    if (controller.signal.aborted) return
    this.#unlinkParent()
    if (arguments.length === 0) controller.abort()
    else controller.abort(reason)
  }

  /** Once our signal is aborted the parent no longer matters: leave it at once. */
  #unlinkParent(): void {
    const parent = this.#parent
    if (parent !== undefined) {
      this.#parent = undefined
      parent.removeEventListener('abort', this)
    }
  }

  /**
   * Gives up ownership: dispose no longer aborts the task nor waits for it. The parent
   * signal (or scope) still aborts it, and its failures are still reported.
   */
  detach(): void {
    this.#detached = true
  }

  /** Aborts the task (shared `DisposedError` reason) without waiting. Idempotent, never throws. */
  [Symbol.dispose](): void {
    if (this.#detached) return
    const controller = this.#controller
    if (controller.signal.aborted) return
    if (this.#parent !== undefined) this.#unlinkParent()
    controller.abort(DISPOSED)
  }

  /**
   * Aborts the task, then waits until it settled, at most `settleTimeoutMs`; a task still
   * running then is reported (`guard:settle-timeout`) and left behind. Never rejects.
   */
  [Symbol.asyncDispose](): Promise<void> {
    if (this.#detached) return RESOLVED
    const controller = this.#controller
    if (!controller.signal.aborted) {
      if (this.#parent !== undefined) this.#unlinkParent()
      controller.abort(DISPOSED)
    }
    if (this.#state !== 'running') return RESOLVED
    const ms = this.#config.settleTimeoutMs
    if (ms === undefined) return this.#settled
    // Concurrent disposers share one wait (and one report).
    return (this.#settleWait ??= new SettleWait(this, ms)).promise
  }

  /** @internal Parent signal listener (EventListenerObject: no closure per guard). */
  handleEvent(): void {
    const parent = this.#parent
    if (parent === undefined) return
    this.#parent = undefined
    const controller = this.#controller
    if (!controller.signal.aborted) controller.abort(parent.reason)
  }

  /** @internal SettleWaitOwner: whether the task still runs. */
  settleRunning(): boolean {
    return this.#state === 'running'
  }

  /** @internal SettleWaitOwner: the `await using` wait passed settleTimeoutMs. */
  settleTimedOut(ms: number): void {
    reportError(this.#config.onError, new TimeoutError(`Task did not settle within ${ms} ms of its abort`, { timeoutMs: ms }), {
      area: 'guard',
      event: 'settle-timeout',
      name: this.#config.name,
    })
  }

  #finish(rejected: boolean, outcome: unknown): void {
    if (this.#state !== 'running') return
    if (this.#parent !== undefined) this.#unlinkParent()
    const signal = this.#controller.signal
    let failed = false
    if (signal.aborted) {
      this.#state = 'aborted'
      this.#outcome = signal.reason
      rejected = true
    } else if (rejected) {
      this.#state = 'rejected'
      this.#outcome = outcome
      failed = true
    } else {
      this.#state = 'fulfilled'
      this.#outcome = outcome
    }
    const done = this.#done
    if (done !== undefined) {
      if (rejected) this.#rejectDone!(this.#outcome)
      else this.#resolveDone!(this.#outcome as T)
      this.#resolveDone = undefined
      this.#rejectDone = undefined
    }
    this.#settleWait?.settled()
    const delivered = this.#owner?.childSettled(this as TaskGuard<unknown>, failed, this.#outcome) ?? false
    // `await done` and `Promise.all([done])` subscribe one turn after the call (a thenable
    // job), possibly after the task settled: decide a little later (see FailureCheck).
    if (failed && !delivered && !done?.observed) new FailureCheck(this as TaskGuard<unknown>).start()
  }

  /** @internal Whether someone subscribed to `done`. */
  get observed(): boolean {
    return this.#done?.observed ?? false
  }

  /** @internal Reports the failure (called once nobody subscribed in time). */
  reportFailure(): void {
    reportError(this.#config.onError, this.#outcome, { area: 'guard', event: 'task-error', name: this.#config.name })
  }
}


/** Microtask turns after a failure within which a subscriber of `done` still counts. */
const OBSERVE_TURNS = 16

/**
 * Decides whether a failure was observed: once the microtask queue drained (the moment
 * Node decides a rejection is unhandled) or after OBSERVE_TURNS microtask turns,
 * whichever comes first — so a flow that keeps the queue busy still gets its report,
 * and `await task.done` written a few awaits later still counts as handling it. Only
 * failures pay for this.
 */
class FailureCheck {
  #turns = OBSERVE_TURNS
  #decided = false
  constructor(readonly guard: TaskGuard<unknown>) {}

  start(): void {
    afterMicrotasks(decide, this)
    queueMicrotask(this.#step)
  }

  readonly #step = (): void => {
    if (this.#decided) return
    if (--this.#turns > 0) queueMicrotask(this.#step)
    else this.decide()
  }

  decide(): void {
    if (this.#decided) return
    this.#decided = true
    if (!this.guard.observed) this.guard.reportFailure()
  }
}

function decide(check: FailureCheck): void {
  check.decide()
}

/**
 * Starts `task(signal)` now and returns the {@link TaskGuard} that owns it.
 *
 * Hazard prevented: background work (indexing, a render loop, a listener) that outlives
 * the session that started it. Bind the guard with `using` and the task is aborted when
 * the scope ends — normally, by an early `return`, by a `throw`, or when the enclosing
 * async flow is itself cancelled and unwinds.
 *
 * Cancellation: dispose aborts with one shared `DisposedError` instance (allocated once:
 * a fresh error per abort would cost more than the guard); `abort(reason)` with yours;
 * the parent `signal` with its reason. An already-aborted parent means the task is never
 * called (state `'aborted'` at once). The listener on the parent leaves it as soon as the
 * task settles or is aborted, so long-lived parents do not accumulate listeners.
 *
 * Failures: `done` rejects for whoever subscribes to it; a failure nobody subscribed to
 * within 16 microtask turns (or before the microtask queue drained) goes to `onError`, diagnostics `asyncsafe:guard:task-error`,
 * and a process warning when there is no `onError`. Never an unhandled rejection. A
 * task that throws synchronously is treated like one that rejects.
 *
 * @param task called once, synchronously, as `task(signal)`
 * @param options `name`, parent `signal`, `settleTimeoutMs` (default 5000), `onError`
 * @throws TypeError / RangeError for a non-function task or bad options
 * @example
 * ```ts
 * await using render = spawnGuarded(async (signal) => {
 *   for await (const frame of frames(signal)) draw(frame)
 * }, { name: 'render', settleTimeoutMs: 1_000, onError: log.error })
 * // leaving the scope aborts the render loop and waits up to 1 s for it to stop
 * ```
 */
export function spawnGuarded<T>(task: GuardedTask<T>, options?: SpawnGuardedOptions): TaskGuard<T> {
  checkFunction('spawnGuarded: task', task)
  return new TaskGuard(task, taskConfig('spawnGuarded', options))
}

const NO_TIMEOUT = 'a guarded task has no timeout of its own: pass signal: timeoutSignal(ms).signal'
/** @internal Option names and likely mistakes shared by spawnGuarded and TaskScope. */
export const TASK_OPTION_HINTS: Readonly<Record<string, string>> = { timeoutMs: NO_TIMEOUT, timeout: NO_TIMEOUT, settleMs: 'settleTimeoutMs', parent: 'signal' }
const SPAWN_OPTIONS = knownOptions(['name', 'signal', 'settleTimeoutMs', 'onError'], TASK_OPTION_HINTS)

/** @internal Validates the options shared by spawnGuarded and TaskScope (`known`: the names `where` accepts). */
export function taskConfig(where: string, options: SpawnGuardedOptions | undefined, known: KnownOptions = SPAWN_OPTIONS): TaskConfig {
  if (options === undefined) return DEFAULT_CONFIG
  const opts = checkOptions<SpawnGuardedOptions>(`${where}: options`, options, known)
  return makeTaskConfig(
    checkOptionalString(`${where}: options.name`, opts.name),
    checkSignal(`${where}: options.signal`, opts.signal),
    opts.settleTimeoutMs === undefined ? DEFAULT_SETTLE_TIMEOUT_MS : checkTimeout(`${where}: options.settleTimeoutMs`, opts.settleTimeoutMs),
    checkOptionalFunction<OnError>(`${where}: options.onError`, opts.onError),
  )
}

/**
 * @internal Every TaskConfig comes from here: one object shape (same properties, same
 * order, never frozen), so the guard's hot path stays monomorphic whether a guard comes
 * from spawnGuarded or a TaskScope (a spread or frozen variant measurably slowed both).
 */
export function makeTaskConfig(name: string | undefined, signal: AbortSignal | undefined, settleTimeoutMs: number | undefined, onError: OnError | undefined): TaskConfig {
  return { name, signal, settleTimeoutMs, onError }
}

const DEFAULT_CONFIG: TaskConfig = makeTaskConfig(undefined, undefined, DEFAULT_SETTLE_TIMEOUT_MS, undefined)
