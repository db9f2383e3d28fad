/**
 * Internals shared by the guards: the abort reason used for dispose-caused aborts,
 * a shared resolved promise, and the bounded wait of `await using` ({@link SettleWait}).
 */
import { DisposedError } from '../errors.js'
import { armTimer, disarmTimer, type TimerHandle } from './timers.js'

/**
 * The abort reason of every abort asyncsafe's guards perform because their owner was
 * disposed. One shared instance: constructing an Error (and its stack) per abort costs
 * several microseconds on Node 20, more than the rest of a guard's lifetime. Its
 * stack therefore points here, not at the dispose call. Match it with
 * `reason instanceof DisposedError` or `reason.name === 'DisposedError'`.
 */
export const DISPOSED: DisposedError = new DisposedError('Aborted because its owner was disposed (shared reason)')

/** A settled promise returned by async disposers that have nothing to wait for. */
export const RESOLVED: Promise<void> = Promise.resolve()


type TickFn = <A>(fn: (arg: A) => void, arg: A) => void

/** Microtask turns used to approximate "after the microtask queue drained" where there is no `process.nextTick`. */
const FALLBACK_TURNS = 32

/**
 * Calls `fn(arg)` once the current microtask queue has drained (Node, Bun, Deno:
 * `process.nextTick` queued from a microtask runs after the queue is empty — the same
 * moment Node decides a rejection is unhandled), without a timer. Elsewhere: after a
 * fixed number of microtask turns. Called from a `nextTick` callback it may run before
 * pending microtasks: callers must treat an early call as "not yet", never as wrong.
 */
export function afterMicrotasks<A>(fn: (arg: A) => void, arg: A): void {
  const tick = (globalThis as { process?: { nextTick?: TickFn } }).process?.nextTick
  if (typeof tick === 'function') {
    tick(fn, arg)
    return
  }
  let turns = FALLBACK_TURNS
  const step = (): void => {
    if (--turns > 0) queueMicrotask(step)
    else fn(arg)
  }
  queueMicrotask(step)
}

/** Something waiting for the microtask queue to drain (see {@link afterGrace}). */
export interface GraceItem {
  /** Whether it no longer needs its call (lets a long queue be compacted). */
  graceMoot(): boolean
  /** Called once, after the microtask queue drained (or a fixed number of turns where there is no `process.nextTick`). */
  graceOver(): void
}

const COMPACT_AT = 16
let graceQueue: GraceItem[] = []
let graceScheduled = false
let compactAt = COMPACT_AT

/**
 * Calls `item.graceOver()` once the microtask queue has drained. Used to arm
 * settle-timeout timers only for tasks still running then: a task that honours its abort
 * settles within the microtasks the abort causes, so the common dispose never touches a
 * timer. Deferring the arm costs no precision: a timer cannot fire before the microtask
 * queue drains anyway. One `process.nextTick` per drain serves every waiting item; a
 * long run of microtasks that never drains keeps the queue compacted (items that no
 * longer need the call are dropped), so it stays as small as the number of stuck tasks.
 */
export function afterGrace(item: GraceItem): void {
  graceQueue.push(item)
  if (graceQueue.length >= compactAt) {
    // In place, and often: a guard held here survives young-generation GCs, and a guard
    // owns an AbortController and its signal. Keeping only the stuck ones is O(1) amortised.
    let kept = 0
    for (let i = 0; i < graceQueue.length; i++) {
      const queued = graceQueue[i]!
      if (!queued.graceMoot()) graceQueue[kept++] = queued
    }
    graceQueue.length = kept
    compactAt = Math.max(COMPACT_AT, kept * 2)
  }
  if (!graceScheduled) {
    graceScheduled = true
    afterMicrotasks(runGrace, undefined)
  }
}

function runGrace(): void {
  const due = graceQueue
  graceQueue = []
  graceScheduled = false
  compactAt = COMPACT_AT
  for (let i = 0; i < due.length; i++) {
    try {
      due[i]!.graceOver()
    } catch {
      // graceOver never throws; a bug there must not stall the others.
    }
  }
}

let capturedResolve: ((value: never) => void) | undefined
function captureResolve(resolve: (value: never) => void): void {
  capturedResolve = resolve
}

/** A new promise and its resolve function, without allocating an executor closure. */
export function promiseWithResolve<T>(): [Promise<T>, (value: T) => void] {
  const promise = new Promise<T>(captureResolve as (resolve: (value: T) => void) => void)
  const resolve = capturedResolve as (value: T) => void
  capturedResolve = undefined
  return [promise, resolve]
}

/**
 * Whether fake timers (@sinonjs/fake-timers: vitest, jest) replace `setTimeout` now.
 * Settle timers are then armed at once instead of after the microtask queue drained, so
 * a test that advances the fake clock synchronously right after `asyncDispose()` sees
 * the timeout. Costs one property read per bounded wait.
 */
export function fakeTimersInstalled(): boolean {
  return typeof (globalThis.setTimeout as { clock?: unknown }).clock === 'object'
}

/** The owner of a {@link SettleWait}: a guard or scope whose task(s) the wait follows. */
export interface SettleWaitOwner {
  /** Whether something is still running (so the wait still needs its timer). */
  settleRunning(): boolean
  /** The wait gave up after `timeoutMs`: report whatever is still running. */
  settleTimedOut(timeoutMs: number): void
}

function settleTimedOut(wait: SettleWait, timeoutMs: number): void {
  wait.timedOut(timeoutMs)
}

/**
 * The bounded wait of an `await using` (`[Symbol.asyncDispose]`): resolves when the owner
 * calls {@link SettleWait.settled}, or after `timeoutMs` once the owner reported its
 * stragglers. Created only when a dispose finds work still running; concurrent disposers
 * share it. The timer is armed only if the work is still running once the microtask queue
 * drained (at once under fake timers), so work that honours its abort never arms one.
 * `timeoutMs` undefined: no timer, waits for ever.
 */
export class SettleWait implements GraceItem {
  /** Resolves when the wait ends; never rejects. */
  readonly promise: Promise<void>
  readonly #owner: SettleWaitOwner
  readonly #timeoutMs: number | undefined
  #resolve: ((value: void) => void) | undefined
  #timer: TimerHandle | undefined

  constructor(owner: SettleWaitOwner, timeoutMs: number | undefined) {
    const [promise, resolve] = promiseWithResolve<void>()
    this.promise = promise
    this.#resolve = resolve
    this.#owner = owner
    this.#timeoutMs = timeoutMs
    if (timeoutMs === undefined) return
    if (fakeTimersInstalled()) this.graceOver()
    else afterGrace(this)
  }

  /** The owner's work settled: end the wait (and clear its timer). Idempotent. */
  settled(): void {
    const resolve = this.#resolve
    if (resolve === undefined) return
    this.#resolve = undefined
    if (this.#timer !== undefined) {
      disarmTimer(this.#timer)
      this.#timer = undefined
    }
    resolve()
  }

  /** @internal GraceItem: the wait already ended. */
  graceMoot(): boolean {
    return this.#resolve === undefined
  }

  /** @internal GraceItem: still waiting once the microtask queue drained: arm the timer. */
  graceOver(): void {
    const ms = this.#timeoutMs
    if (ms === undefined || this.#resolve === undefined || this.#timer !== undefined || !this.#owner.settleRunning()) return
    this.#timer = armTimer(ms, settleTimedOut, this, ms)
  }

  /** @internal The timer fired: the owner reports its stragglers, then the wait ends. */
  timedOut(timeoutMs: number): void {
    this.#timer = undefined
    const resolve = this.#resolve
    if (resolve === undefined) return
    this.#resolve = undefined
    this.#owner.settleTimedOut(timeoutMs)
    resolve()
  }
}
