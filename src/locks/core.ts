/**
 * The FIFO core shared by `Mutex`, `RwLock` and `Semaphore`: `capacity` units, waiters
 * with a weight in one strict FIFO queue, hand-off on release, per-waiter abort and
 * timeout, statistics, long holds and re-entry detection.
 *
 * - A `Mutex` is capacity 1, weight 1. A `Semaphore(n)` is capacity n. An `RwLock` is
 *   capacity `EXCLUSIVE` with readers of weight 1 and writers of weight `EXCLUSIVE`:
 *   readers share, a writer needs everything, and since the queue is one FIFO a queued
 *   writer blocks the readers behind it (no writer starvation).
 * - Hot-path costs: an uncontended grant reads the clock once (the hold's start; its
 *   wait is recorded as exactly 0 without a read), a release reads it once, and that
 *   reading is also the grant time and wait end of every waiter it hands off to.
 *   No timer, closure or extra promise per uncontended operation.
 *
 * @module
 */
import type { AbortSignal, TimerId } from '../internal/types.js'
import { LinkedQueue, QueueNode } from '../internal/queue.js'
import type { Histogram } from '../internal/histogram.js'
import { defaultClock, type Clock } from '../internal/clock.js'
import { ClosedError, ReentrancyError, TimeoutError } from '../errors.js'
import { checkOptionalBoolean, checkOptionalFunction, checkOptionalString, checkOptions, checkPositiveFinite, checkSignal, checkTimeout } from '../internal/validate.js'
import { HoldNode, LockGuard, Permit, type GuardExtra } from './guard.js'
import { LongHoldMonitor } from './long-hold.js'
import { DONE, HELD, ReentryTracker, type ReentryToken } from './reentry.js'
import type { LockOptions, LockStats, LongHoldInfo, WaitOptions } from './stats.js'
import { isThenable } from '../internal/thenable.js'
import { snapshotStats } from './snapshot.js'
import { LockTimes } from './events.js'

export type { ReentryToken } from './reentry.js'

/** Longest delay setTimeout honours (longer ones fire after 1 ms); a longer timeout is treated as none (≈ 24.8 days). */
const MAX_TIMER_MS = 0x7fff_ffff

/** Weight of an RwLock writer: the whole capacity. */
export const EXCLUSIVE = 0x4000_0000

/** A queued request. Fields are assigned in the constructor (no initializers: allocated per contended request). */
class Waiter extends QueueNode {
  declare weight: number
  declare enqueuedAt: number
  declare resolve: (guard: LockGuard) => void
  declare reject: (error: unknown) => void
  declare signal: AbortSignal | undefined
  declare onAbort: (() => void) | undefined
  declare timer: TimerId | undefined
  declare timeoutMs: number
  declare token: ReentryToken | undefined

  constructor(weight: number, enqueuedAt: number, token: ReentryToken | undefined) {
    super()
    this.weight = weight
    this.enqueuedAt = enqueuedAt
    this.resolve = noop
    this.reject = noop
    this.signal = undefined
    this.onAbort = undefined
    this.timer = undefined
    this.timeoutMs = 0
    this.token = token
  }
}

function noop(): void {}

/** Parsed `WaitOptions`. */
interface ParsedWait {
  signal: AbortSignal | undefined
  timeoutMs: number | undefined
}

const NO_WAIT_OPTIONS: ParsedWait = { signal: undefined, timeoutMs: undefined }

/** Validates wait options; throws TypeError/RangeError. */
export function parseWaitOptions(opts: unknown): ParsedWait {
  if (opts === undefined) return NO_WAIT_OPTIONS
  const o = checkOptions<WaitOptions>('options', opts)
  const signal = checkSignal('options.signal', o.signal ?? undefined)
  const timeoutMs = checkTimeout('options.timeoutMs', o.timeoutMs ?? undefined)
  return signal === undefined && timeoutMs === undefined ? NO_WAIT_OPTIONS : { signal, timeoutMs }
}

/** Releases `guard` once `result` settles, passing its value or failure through. */
function releaseWhenSettled<T>(result: PromiseLike<T>, guard: LockGuard): Promise<T> {
  return Promise.resolve(result).then(
    (value) => {
      guard.release()
      return value
    },
    (error: unknown) => {
      guard.release()
      throw error
    },
  )
}

/** Runs `fn` while `guard` is held and releases it when `fn` settles. */
export function runHeld<T>(fn: () => T | PromiseLike<T>, guard: LockGuard): Promise<T> {
  let result: T | PromiseLike<T>
  try {
    result = fn()
  } catch (error) {
    guard.release()
    return Promise.reject(error)
  }
  if (isThenable(result)) {
    return releaseWhenSettled(result, guard)
  }
  guard.release()
  return Promise.resolve(result)
}

function onWaiterTimeout(core: LockCore, waiter: Waiter): void {
  waiter.timer = undefined
  core.timeoutWaiter(waiter)
}

/** The shared lock engine. Internal: the public classes wrap it. */
export class LockCore {
  readonly name: string | undefined
  readonly kind: string
  readonly capacity: number
  available: number
  readonly queue = new LinkedQueue<Waiter>()
  readonly clock: Clock
  readonly permits: boolean
  closed = false
  /** `close(reason)`'s reason; undefined: reject with a fresh ClosedError. */
  closeReason: unknown = undefined
  acquisitions = 0
  contended = 0
  timeouts = 0
  aborts = 0
  longHolds = 0
  /** Also publish `asyncsafe:lock:acquire` / `:release` (events.ts). */
  readonly waitHist: Histogram = new LockTimes(this, false)
  readonly holdHist: Histogram = new LockTimes(this, true)
  readonly monitor: LongHoldMonitor | undefined
  readonly reentry: ReentryTracker | undefined
  readonly captureStack: boolean
  /** Instances kept alive for their hidden classes (see the end of this module). */
  static sentinels: readonly object[] = []

  constructor(kind: string, capacity: number, permits: boolean, options: unknown, reentryAllowed = true) {
    const o = checkOptions<LockOptions>('options', options)
    this.kind = kind
    this.name = checkOptionalString('options.name', o.name)
    this.capacity = capacity
    this.available = capacity
    this.permits = permits
    this.clock = checkOptionalFunction<Clock>('options.clock', o.clock) ?? defaultClock
    const longHoldMs = o.longHoldMs === undefined ? undefined : checkPositiveFinite('options.longHoldMs', o.longHoldMs)
    const onLongHold = checkOptionalFunction<(info: LongHoldInfo) => void>('options.onLongHold', o.onLongHold)
    this.captureStack = checkOptionalBoolean('options.captureStack', o.captureStack) ?? false
    this.monitor = longHoldMs === undefined ? undefined : new LongHoldMonitor(this, longHoldMs, onLongHold)
    const detect = checkOptionalBoolean('options.detectReentry', o.detectReentry) ?? false
    this.reentry = detect && reentryAllowed ? ReentryTracker.create() : undefined
  }

  /** `Mutex "name"` for messages. */
  label(): string {
    return this.name === undefined ? this.kind : `${this.kind} "${this.name}"`
  }

  /** True when `weight` can be granted now without jumping the queue. */
  grantable(weight: number): boolean {
    return this.queue.size === 0 && this.available >= weight && !this.closed
  }

  /** Grants `weight` now (the caller checked `grantable`). Wait is exactly 0: no clock read for it. */
  grantNow(weight: number, token: ReentryToken | undefined): LockGuard {
    this.available -= weight
    this.acquisitions++
    this.waitHist.record(0)
    return this.newGuard(weight, this.clock(), token)
  }

  private newGuard(weight: number, now: number, token: ReentryToken | undefined): LockGuard {
    const guard = this.permits ? new Permit(this, weight, now) : new LockGuard(this, weight, now)
    if (token !== undefined || this.monitor !== undefined) {
      const extra: GuardExtra = { token, node: undefined, stack: undefined }
      guard.extra = extra
      if (token !== undefined) token.state = HELD
      if (this.monitor !== undefined) {
        if (this.captureStack) extra.stack = new Error('acquired here').stack
        extra.node = this.monitor.add(guard)
      }
    }
    return guard
  }

  /** Called by `LockGuard.release` while held. */
  release(guard: LockGuard): void {
    const now = this.clock()
    guard.held = false
    guard.releasedAt = now
    this.holdHist.record(now - guard.acquiredAt)
    const extra = guard.extra
    if (extra !== undefined) {
      if (extra.node?.queued) this.monitor!.remove(extra.node)
      if (extra.token !== undefined) extra.token.state = DONE
    }
    this.available += guard.weight
    if (this.queue.size !== 0) this.dispatch(now)
  }

  /** Hands units to the head waiters while they fit; `now` is their grant time. */
  private dispatch(now: number): void {
    for (let w = this.queue.peek(); w !== undefined && w.weight <= this.available; w = this.queue.peek()) {
      this.queue.remove(w)
      this.available -= w.weight
      this.cleanup(w)
      this.acquisitions++
      this.contended++
      this.waitHist.record(now - w.enqueuedAt)
      w.resolve(this.newGuard(w.weight, now, w.token))
    }
  }

  /** After a waiter left from the head: the next ones may fit now. */
  private dispatchIfReady(): void {
    const head = this.queue.peek()
    if (head !== undefined && head.weight <= this.available) this.dispatch(this.clock())
  }

  private cleanup(w: Waiter): void {
    if (w.timer !== undefined) {
      clearTimeout(w.timer)
      w.timer = undefined
    }
    if (w.onAbort !== undefined) {
      w.signal!.removeEventListener('abort', w.onAbort)
      w.onAbort = undefined
    }
  }

  /** Closed error for a rejection: the close reason, or a fresh ClosedError. */
  closedError(): unknown {
    return this.closeReason !== undefined ? this.closeReason : new ClosedError(`${this.label()} is closed`)
  }

  /** A fresh ReentrancyError. */
  reentrancyError(): ReentrancyError {
    return new ReentrancyError(`${this.label()} requested again from the async context that holds it (would deadlock)`, { lockName: this.name })
  }

  private timeoutError(timeoutMs: number): TimeoutError {
    return new TimeoutError(`${this.label()}: wait timed out after ${timeoutMs} ms`, { timeoutMs })
  }

  /** Requests `weight` units; resolves with the guard. */
  acquire(weight: number, wait: ParsedWait): Promise<LockGuard> {
    const r = this.request(weight, wait, false)
    return r instanceof LockGuard ? Promise.resolve(r) : r
  }

  /**
   * Requests `weight` units: the guard itself when granted now, else a promise.
   * `scoped`: the re-entry token will be carried by a callback (`run`) instead of
   * being entered into the caller's context.
   */
  private request(weight: number, wait: ParsedWait, scoped: boolean): LockGuard | Promise<LockGuard> {
    const { signal, timeoutMs } = wait
    if (signal?.aborted) {
      this.aborts++
      return Promise.reject(signal.reason)
    }
    if (this.closed) return Promise.reject(this.closedError())
    let token: ReentryToken | undefined
    if (this.reentry !== undefined) {
      if (this.reentry.holds(this)) return Promise.reject(this.reentrancyError())
      token = scoped ? this.reentry.scoped(this) : this.reentry.enter(this)
    }
    if (this.grantable(weight)) return this.grantNow(weight, token)
    if (timeoutMs === 0) {
      if (token !== undefined) token.state = DONE
      this.timeouts++
      return Promise.reject(this.timeoutError(0))
    }
    const w = new Waiter(weight, this.clock(), token)
    const promise = new Promise<LockGuard>((resolve, reject) => {
      w.resolve = resolve
      w.reject = reject
    })
    this.queue.push(w)
    if (signal !== undefined) {
      w.signal = signal
      w.onAbort = () => {
        this.abortWaiter(w)
      }
      signal.addEventListener('abort', w.onAbort, { once: true })
    }
    if (timeoutMs !== undefined && timeoutMs <= MAX_TIMER_MS) {
      w.timeoutMs = timeoutMs
      w.timer = setTimeout(onWaiterTimeout, timeoutMs, this, w)
    }
    return promise
  }

  /** Synchronous `try*`: grants only if nobody waits and it fits. */
  tryAcquire(weight: number): LockGuard | undefined {
    if (!this.grantable(weight)) return undefined
    let token: ReentryToken | undefined
    if (this.reentry !== undefined) {
      if (this.reentry.holds(this)) return undefined
      token = this.reentry.enter(this)
    }
    return this.grantNow(weight, token)
  }

  /** `runExclusive`/`run`: `fn` runs synchronously when grantable now. */
  run<T>(fn: () => T | PromiseLike<T>, weight: number, wait: ParsedWait): Promise<T> {
    if (this.reentry === undefined && wait.signal === undefined && this.grantable(weight)) {
      return this.runNow(fn, weight)
    }
    return this.runSlow(fn, weight, wait)
  }

  /**
   * Grants `weight` now and runs `fn` (the caller checked it is grantable and detection
   * is off). A synchronous `fn` needs no guard object: the hold is measured around the
   * call (it cannot be reported as long while it runs: no timer can fire during it). A
   * guard is created only when `fn` returns a thenable, with the grant time as its start.
   */
  runNow<T>(fn: () => T | PromiseLike<T>, weight: number): Promise<T> {
    this.available -= weight
    this.acquisitions++
    this.waitHist.record(0)
    const grantedAt = this.clock()
    let result: T | PromiseLike<T>
    try {
      result = fn()
    } catch (error) {
      this.releaseUnguarded(weight, grantedAt)
      return Promise.reject(error)
    }
    if (isThenable(result)) {
      const guard = this.newGuard(weight, grantedAt, undefined)
      return releaseWhenSettled(result, guard)
    }
    this.releaseUnguarded(weight, grantedAt)
    return Promise.resolve(result)
  }

  private releaseUnguarded(weight: number, grantedAt: number): void {
    const now = this.clock()
    this.holdHist.record(now - grantedAt)
    this.available += weight
    if (this.queue.size !== 0) this.dispatch(now)
  }

  private runSlow<T>(fn: () => T | PromiseLike<T>, weight: number, wait: ParsedWait): Promise<T> {
    const r = this.request(weight, wait, true)
    if (r instanceof LockGuard) return this.runGranted(fn, r)
    const signal = wait.signal
    return r.then((guard) => {
      if (signal?.aborted) {
        // Granted, but aborted before fn could start: hand the grant on. The caller sees
        // an abort, so it counts as one.
        guard.release()
        this.aborts++
        throw signal.reason
      }
      return this.runGranted(fn, guard)
    })
  }

  private runGranted<T>(fn: () => T | PromiseLike<T>, guard: LockGuard): Promise<T> {
    const token = guard.extra?.token
    if (token !== undefined && this.reentry !== undefined) return this.reentry.run(token, (g: LockGuard) => runHeld(fn, g), guard)
    return runHeld(fn, guard)
  }

  /** A waiter's signal aborted. */
  abortWaiter(w: Waiter): void {
    if (!this.queue.remove(w)) return
    this.cleanup(w)
    if (w.token !== undefined) w.token.state = DONE
    this.aborts++
    w.reject(w.signal!.reason)
    this.dispatchIfReady()
  }

  /** A waiter's timeout passed. */
  timeoutWaiter(w: Waiter): void {
    if (!this.queue.remove(w)) return
    this.cleanup(w)
    if (w.token !== undefined) w.token.state = DONE
    this.timeouts++
    w.reject(this.timeoutError(w.timeoutMs))
    this.dispatchIfReady()
  }

  /** Rejects every waiter and refuses new requests; held guards stay valid. */
  close(reason: unknown): void {
    if (this.closed) return
    this.closed = true
    this.closeReason = reason
    for (let w = this.queue.shift(); w !== undefined; w = this.queue.shift()) {
      this.cleanup(w)
      if (w.token !== undefined) w.token.state = DONE
      w.reject(this.closedError())
    }
  }

  /** Statistics snapshot. */
  stats(): LockStats {
    return snapshotStats(this.name, this)
  }
}

/**
 * One guard, permit and waiter kept alive for the life of the module. Optimized code
 * embeds hidden classes weakly; when a major GC found no guard alive (the normal state
 * between two uncontended operations), V8 dropped every lock function's optimized code
 * ("deoptimization, reason: weak objects") and the next operations ran unoptimized.
 * Holding one instance of each keeps their hidden classes, and so that code, alive.
 */
const sentinelCore = new LockCore('Mutex', 1, false, undefined)
const sentinelWaiter = new Waiter(1, 0.5, undefined)
const sentinelGuard = new LockGuard(sentinelCore, 1, 0.5)
LockCore.sentinels = [sentinelCore, sentinelGuard, new Permit(sentinelCore, 1, 0.5), sentinelWaiter, new HoldNode(sentinelGuard)]
