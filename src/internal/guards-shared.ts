/**
 * Internals shared by the guards: the abort reason used for dispose-caused aborts,
 * and a shared resolved promise.
 */
import { DisposedError } from '../errors.js'

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

/** Whether `error` is the abort reason of `signal` (the task gave up because of the abort). */
export function isOwnAbort(signal: AbortSignal, error: unknown): boolean {
  return signal.aborted && error === signal.reason
}

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

/** Something waiting for a short grace period of microtask turns to pass. */
export interface GraceItem {
  /** Called once, between GRACE_TURNS and twice as many microtask turns after {@link afterGrace}. */
  graceOver(): void
}

/**
 * Microtask turns an aborted task gets to settle before a settle-timeout timer is armed.
 * A task that honours its signal settles within two or three turns of the abort (more
 * with an async `finally`), so the common dispose never touches a timer.
 */
const GRACE_TURNS = 8
let current: GraceItem[] = []
let previous: GraceItem[] = []
let spare: GraceItem[] = []
let turnsLeft = 0
let pumping = false

/**
 * Calls `item.graceOver()` after a grace period of microtask turns, without a timer and
 * without a microtask per item: one shared pump runs while any item waits, and items are
 * held for at most two periods.
 */
export function afterGrace(item: GraceItem): void {
  current.push(item)
  if (!pumping) {
    pumping = true
    turnsLeft = GRACE_TURNS
    queueMicrotask(pump)
  }
}

function pump(): void {
  if (--turnsLeft > 0) {
    queueMicrotask(pump)
    return
  }
  // Items of the previous period have waited at least a full period: they are due.
  const due = previous
  previous = current
  current = spare
  for (let i = 0; i < due.length; i++) {
    try {
      due[i]!.graceOver()
    } catch {
      // graceOver never throws; a bug there must not stall the pump.
    }
  }
  due.length = 0
  spare = due
  if (previous.length > 0 || current.length > 0) {
    turnsLeft = GRACE_TURNS
    queueMicrotask(pump)
  } else {
    pumping = false
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
