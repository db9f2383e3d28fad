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
import type { AbortSignal } from '../internal/types.js'
import { armTimer, disarmTimer, type TimerHandle } from '../internal/timers.js'
import { LinkedQueue, QueueNode } from '../internal/queue.js'
import type { Histogram } from '../internal/histogram.js'
import { defaultClock, type Clock } from '../internal/clock.js'
import { ClosedError, ReentrancyError, TimeoutError } from '../errors.js'
import {
  checkFiniteNumber,
  checkOptionalBoolean,
  checkOptionalFunction,
  checkOptionalString,
  checkOptions,
  checkPositiveFinite,
  checkSignal,
  checkTimeout,
  knownOptions,
} from '../internal/validate.js'
import { HoldNode, LockGuard, Permit, type GuardExtra } from './guard.js'
import { LongHoldMonitor } from './long-hold.js'
import { DONE, HELD, ReentryTracker, type ReentryToken } from './reentry.js'
import type { LockOptions, LockStats, LongHoldInfo, WaitOptions } from './stats.js'
import { isThenable } from '../internal/thenable.js'
import { snapshotStats } from './snapshot.js'
import { LockTimes } from './events.js'

export type { ReentryToken } from './reentry.js'

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
  declare timer: TimerHandle | undefined
  declare timeoutMs: number
  declare token: ReentryToken | undefined
  declare priority: number

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
    this.priority = 0
  }
}

function noop(): void {}

/** An `onIdle`/`onSizeLessThan` wait. */
interface QueueWatcher {
  readonly ready: () => boolean
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
  readonly signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

/** Parsed `WaitOptions`. */
interface ParsedWait {
  signal: AbortSignal | undefined
  timeoutMs: number | undefined
  /** Queue priority (Semaphore only): higher first, FIFO among equals. */
  priority: number
}

const NO_WAIT_OPTIONS: ParsedWait = { signal: undefined, timeoutMs: undefined, priority: 0 }

/** Which options a wait accepts: plain waits, `Semaphore.acquire` (priority), `Semaphore.run` (priority, weight). */
export type WaitKind = 'plain' | 'acquire' | 'run'

/** The keys of `WaitOptions`; `weight` is accepted for `Semaphore.run`, which parses it itself. */
const WAIT_OPTIONS = knownOptions(['signal', 'timeoutMs'], { timeout: 'timeoutMs', ms: 'timeoutMs', abortSignal: 'signal', priority: 'only a Semaphore queues by priority' })
const ACQUIRE_OPTIONS = knownOptions(['signal', 'timeoutMs', 'priority'], { timeout: 'timeoutMs', weight: 'pass the permit count as the first argument: acquire(n, options)' })
const RUN_OPTIONS = knownOptions(['signal', 'timeoutMs', 'weight', 'priority'], { timeout: 'timeoutMs', permits: 'weight', n: 'weight' })
const KNOWN_BY_KIND = { plain: WAIT_OPTIONS, acquire: ACQUIRE_OPTIONS, run: RUN_OPTIONS } as const

/** The keys of `LockOptions`, with the likely mistakes of users coming from other lock libraries. */
const LOCK_OPTIONS = knownOptions(['name', 'longHoldMs', 'onLongHold', 'captureStack', 'detectReentry', 'clock', 'stats'], {
  timeoutMs: 'pass it to each wait: lock({ timeoutMs }), runExclusive(fn, { timeoutMs })',
  timeout: 'pass timeoutMs to each wait: lock({ timeoutMs }), runExclusive(fn, { timeoutMs })',
  signal: 'pass it to each wait: lock({ signal })',
  longHold: 'longHoldMs',
  reentrant: 'asyncsafe locks are not reentrant; detectReentry turns a self-deadlock into a ReentrancyError',
})

/** Validates wait options (`weight` is read by `Semaphore.run` itself); throws TypeError/RangeError. */
export function parseWaitOptions(opts: unknown, kind: WaitKind = 'plain'): ParsedWait {
  if (opts === undefined) return NO_WAIT_OPTIONS
  const o = checkOptions<WaitOptions & { priority?: number }>('options', opts, KNOWN_BY_KIND[kind])
  const signal = checkSignal('options.signal', o.signal ?? undefined)
  const timeoutMs = checkTimeout('options.timeoutMs', o.timeoutMs ?? undefined)
  const priority = o.priority === undefined ? 0 : checkFiniteNumber('options.priority', o.priority)
  return signal === undefined && timeoutMs === undefined && priority === 0 ? NO_WAIT_OPTIONS : { signal, timeoutMs, priority }
}

/**
 * Waits for `granted`, runs `fn`, releases when it settles. One async function, so the
 * promise it returns is settled directly (returning a promise from a `.then` reaction
 * would adopt it: two extra microtask hops per grant), and `fn` runs in the caller's
 * async context (AsyncLocalStorage), never in the releaser's. A `signal` aborted between
 * the grant and the start hands the grant on and counts as an abort in `counts` (the caller
 * sees one). `call`, when given, invokes `fn` for the guard (a keyed lock's re-entry scope).
 */
export async function runWhenGranted<T, G extends { release(): void }>(
  granted: Promise<G>,
  fn: () => T | PromiseLike<T>,
  signal: AbortSignal | undefined,
  counts: { aborts: number },
  call?: (guard: G, fn: () => T | PromiseLike<T>) => T | PromiseLike<T>,
): Promise<T> {
  const guard = await granted
  if (signal?.aborted) {
    guard.release()
    counts.aborts++
    throw signal.reason
  }
  let result: T | PromiseLike<T>
  try {
    result = call === undefined ? fn() : call(guard, fn)
  } catch (error) {
    guard.release()
    throw error
  }
  if (!isThenable(result)) {
    guard.release()
    return result
  }
  try {
    return await result
  } finally {
    guard.release()
  }
}

/** Releases `guard` once `result` settles, passing its value or failure through. */
function releaseWhenSettled<T>(result: PromiseLike<T>, guard: { release(): void }): Promise<T> {
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
export function runHeld<T>(fn: () => T | PromiseLike<T>, guard: { release(): void }): Promise<T> {
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

/** Calls `fn` in the re-entry scope of `guard`'s token (detection on), else plainly. */
function callTracked<T>(guard: LockGuard, fn: () => T): T {
  const token = guard.extra?.token
  const reentry = guard.core.reentry
  return token !== undefined && reentry !== undefined ? reentry.run(token, invoke, fn) : fn()
}

function invoke<T>(fn: () => T): T {
  return fn()
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
  /** `pause()`d: nothing is granted (queued or new) until `resume()`. */
  paused = false
  /** `onIdle`/`onSizeLessThan` waits; undefined while there are none (the hot paths test only that). */
  watchers: QueueWatcher[] | undefined = undefined
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
  /**
   * Whether hold/wait times are recorded (`stats` option, default true). Off: no clock
   * read and no histogram record per operation; counters still count.
   */
  readonly recording: boolean
  /** Instances kept alive for their hidden classes (see the end of this module). */
  static sentinels: readonly object[] = []

  constructor(kind: string, capacity: number, permits: boolean, options: unknown, reentryAllowed = true) {
    const o = checkOptions<LockOptions>('options', options, LOCK_OPTIONS)
    this.kind = kind
    this.name = checkOptionalString('options.name', o.name)
    this.capacity = capacity
    this.available = capacity
    this.permits = permits
    this.clock = checkOptionalFunction<Clock>('options.clock', o.clock) ?? defaultClock
    const longHoldMs = o.longHoldMs === undefined ? undefined : checkPositiveFinite('options.longHoldMs', o.longHoldMs)
    const onLongHold = checkOptionalFunction<(info: LongHoldInfo) => void>('options.onLongHold', o.onLongHold)
    this.captureStack = checkOptionalBoolean('options.captureStack', o.captureStack) ?? false
    this.recording = checkOptionalBoolean('options.stats', o.stats) ?? true
    if (!this.recording && longHoldMs !== undefined) {
      throw new TypeError('asyncsafe: options.longHoldMs needs the hold clock, which options.stats: false turns off; drop one of them')
    }
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
    return this.queue.size === 0 && this.available >= weight && !this.closed && !this.paused
  }

  /** Grants `weight` now (the caller checked `grantable`). Wait is exactly 0: no clock read for it. */
  grantNow(weight: number, token: ReentryToken | undefined): LockGuard {
    this.available -= weight
    this.acquisitions++
    if (!this.recording) return this.newGuard(weight, NaN, token)
    this.waitHist.recordZero()
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
    guard.held = false
    let now = NaN
    if (this.recording) {
      now = this.clock()
      guard.releasedAt = now
      this.holdHist.record(now - guard.acquiredAt)
    }
    const extra = guard.extra
    if (extra !== undefined) {
      if (extra.node?.queued) this.monitor!.remove(extra.node)
      if (extra.token !== undefined) extra.token.state = DONE
    }
    this.available += guard.weight
    if (this.queue.size !== 0) this.dispatch(now)
    // After the hand-off: the next holder's node is already listed, so the monitor's
    // timer is kept (it re-aims itself when it fires) instead of cleared and re-armed.
    if (extra?.node !== undefined) this.monitor!.stopIfIdle()
    if (this.watchers !== undefined) this.checkWatchers()
  }

  /** Hands units to the head waiters while they fit; `now` is their grant time. */
  private dispatch(now: number): void {
    if (this.paused) return
    for (let w = this.queue.peek(); w !== undefined; w = this.queue.peek()) {
      if (w.signal?.aborted) {
        // Its signal aborted and an earlier listener of the same signal released the lock
        // before the waiter's own listener ran: never grant it; it leaves as aborted.
        this.dropAborted(w)
        continue
      }
      if (w.weight > this.available) break
      this.queue.remove(w)
      this.available -= w.weight
      this.cleanup(w)
      this.acquisitions++
      this.contended++
      if (this.recording) this.waitHist.record(now - w.enqueuedAt)
      w.resolve(this.newGuard(w.weight, now, w.token))
    }
  }

  /** After a waiter left from the head: the next ones may fit now. */
  private dispatchIfReady(): void {
    const head = this.queue.peek()
    if (head !== undefined && head.weight <= this.available) this.dispatch(this.recording ? this.clock() : NaN)
  }

  private cleanup(w: Waiter): void {
    if (w.timer !== undefined) {
      disarmTimer(w.timer)
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
    const w = this.enqueue(weight, token, signal, timeoutMs, wait.priority)
    return new Promise<LockGuard>((resolve, reject) => {
      w.resolve = resolve
      w.reject = reject
    })
  }

  /** Queues a waiter with its abort listener and timeout timer. */
  private enqueue(weight: number, token: ReentryToken | undefined, signal: AbortSignal | undefined, timeoutMs: number | undefined, priority = 0): Waiter {
    const w = new Waiter(weight, this.recording ? this.clock() : NaN, token)
    w.priority = priority
    const last = this.queue.peekLast()
    if (last === undefined || last.priority >= priority) {
      this.queue.push(w)
    } else {
      // Higher first, FIFO among equals: after the last waiter of at least this priority.
      let before = last.prev as Waiter | null
      while (before !== null && before.priority < priority) before = before.prev as Waiter | null
      this.queue.insertAfter(w, before ?? undefined)
    }
    if (signal !== undefined) {
      w.signal = signal
      w.onAbort = () => {
        this.abortWaiter(w)
      }
      signal.addEventListener('abort', w.onAbort, { once: true })
    }
    if (timeoutMs !== undefined) {
      w.timeoutMs = timeoutMs
      w.timer = armTimer(timeoutMs, onWaiterTimeout, this, w)
    }
    return w
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
    let grantedAt = NaN
    if (this.recording) {
      this.waitHist.recordZero()
      grantedAt = this.clock()
    }
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
    let now = NaN
    if (this.recording) {
      now = this.clock()
      this.holdHist.record(now - grantedAt)
    }
    this.available += weight
    if (this.queue.size !== 0) this.dispatch(now)
    if (this.watchers !== undefined) this.checkWatchers()
  }

  /**
   * `run` that waits, has a signal, or tracks re-entry. A queued grant is awaited by
   * `runWhenGranted`; with detection on, `fn` runs in the scope of its token, so only its
   * flow counts as the holder.
   */
  private runSlow<T>(fn: () => T | PromiseLike<T>, weight: number, wait: ParsedWait): Promise<T> {
    const r = this.request(weight, wait, true)
    if (r instanceof LockGuard) return this.runGranted(fn, r)
    return runWhenGranted(r, fn, wait.signal, this, this.reentry === undefined ? undefined : callTracked)
  }

  private runGranted<T>(fn: () => T | PromiseLike<T>, guard: LockGuard): Promise<T> {
    const token = guard.extra?.token
    if (token !== undefined && this.reentry !== undefined) return this.reentry.run(token, (g: LockGuard) => runHeld(fn, g), guard)
    return runHeld(fn, guard)
  }

  /** A waiter's signal aborted. */
  abortWaiter(w: Waiter): void {
    if (!w.queued) return
    this.dropAborted(w)
    this.dispatchIfReady()
    if (this.watchers !== undefined) this.checkWatchers()
  }

  /** Removes a queued waiter whose signal aborted and rejects it with the reason (no dispatch). */
  private dropAborted(w: Waiter): void {
    this.queue.remove(w)
    this.cleanup(w)
    if (w.token !== undefined) w.token.state = DONE
    this.aborts++
    w.reject(w.signal!.reason)
  }

  /** A waiter's timeout passed. */
  timeoutWaiter(w: Waiter): void {
    if (!this.queue.remove(w)) return
    this.cleanup(w)
    if (w.token !== undefined) w.token.state = DONE
    this.timeouts++
    w.reject(this.timeoutError(w.timeoutMs))
    this.dispatchIfReady()
    if (this.watchers !== undefined) this.checkWatchers()
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
    if (this.watchers !== undefined) this.checkWatchers()
  }

  /** Stops granting (queued and new requests wait); held units stay valid. */
  pause(): void {
    this.paused = true
  }

  /** Grants again, starting with the queued waiters that fit. */
  resume(): void {
    if (!this.paused) return
    this.paused = false
    this.dispatchIfReady()
    if (this.watchers !== undefined) this.checkWatchers()
  }

  /** Nothing held and nobody waiting (`Semaphore.onIdle`). */
  drained(): boolean {
    return this.available === this.capacity && this.queue.size === 0
  }

  /**
   * Resolves once `ready()` holds (at once when it holds now); `signal` aborts the wait
   * (its listener is removed with the wait).
   */
  watch(ready: () => boolean, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (ready()) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const watcher: QueueWatcher = { ready, resolve, reject, signal, onAbort: undefined }
      if (signal !== undefined) {
        watcher.onAbort = () => {
          this.unwatch(watcher)
          reject(signal.reason)
        }
        signal.addEventListener('abort', watcher.onAbort, { once: true })
      }
      ;(this.watchers ??= []).push(watcher)
    })
  }

  private unwatch(watcher: QueueWatcher): void {
    const list = this.watchers
    if (list === undefined) return
    const i = list.indexOf(watcher)
    if (i !== -1) list.splice(i, 1)
    if (list.length === 0) this.watchers = undefined
    if (watcher.onAbort !== undefined) {
      watcher.signal!.removeEventListener('abort', watcher.onAbort)
      watcher.onAbort = undefined
    }
  }

  /** After a change that can make a watched condition true: resolves the watchers it satisfies. */
  private checkWatchers(): void {
    for (const watcher of this.watchers!.slice()) {
      if (watcher.ready()) {
        this.unwatch(watcher)
        watcher.resolve()
      }
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
