/**
 * Delivers a cache's removal notifications to its observers, strictly after the state
 * change that caused them.
 *
 * - One call per removal per observer. Calls start in a microtask, never inside the
 *   cache method that caused them.
 * - Per observer and key, calls run one after another in removal order: each key has
 *   a chain per observer (the calls not yet settled, in removal order), and a call
 *   starts once every earlier call of its chain settled (or timed out).
 * - At most `concurrency` root calls run at once; ready calls wait in one FIFO queue.
 * - A call caused by an observer's own cache call (nested: found through the async
 *   context, see internal/cache-context.ts) is in its key's chain too, but runs in its
 *   parent's slot and never waits behind its parent: earlier calls of its chain that
 *   are its running ancestors do not hold it back, and earlier calls still queued are
 *   promoted (they run at once, as nested calls of the same parent, in chain order).
 *   An earlier call that runs but is not its ancestor is waited for, unless it waits
 *   itself (through held nested calls) for this one: then both run, the only overlap
 *   of one key's calls, as the price of not deadlocking. So removal order holds and a
 *   bound of 1 cannot deadlock.
 * - A call that throws, rejects or passes `timeoutMs` is counted and reported; a timed
 *   out call has its signal aborted and frees its slot and its chain at once.
 * - Each cache method that caused calls gets one promise that resolves when those calls
 *   settled; it never rejects.
 */

import { TimeoutError } from '../errors.js'
import { currentFrame, dispatcherBusy, dispatcherIdle, ownAncestor, ownDepth, runInFrame, type NotificationFrame } from '../internal/cache-context.js'
import { reportError, type OnError } from '../internal/report.js'
import type { EvictionCause, EvictionEvent, EvictionObserver, ObserverContext } from './types.js'
import { isThenable } from '../internal/thenable.js'
import { LinkedQueue, QueueNode } from '../internal/queue.js'
import type { AbortSignal } from '../internal/types.js'
import { armTimer, disarmTimer, type TimerHandle } from '../internal/timers.js'

/** A resolved promise shared by every call that caused no notification. */
export const RESOLVED: Promise<void> = Promise.resolve()

/** A call's timer fired (a module function: no closure per timed call). */
function noteTimedOut<K, V>(note: Note<K, V>, ms: number): void {
  note.owner.timedOut(note, ms)
}

const QUEUED = 0
const RUNNING = 1
const DONE = 2

let capturedResolve: () => void = () => {}
// One shared executor: a Batch costs its promise, not a closure too.
const captureResolve = (resolve: () => void): void => {
  capturedResolve = resolve
}

/** The notifications caused by one cache method call. */
class Batch {
  remaining = 0
  readonly promise: Promise<void>
  readonly resolve: () => void
  constructor() {
    this.promise = new Promise<void>(captureResolve)
    this.resolve = capturedResolve
  }
}

interface Subscriber<K, V> {
  readonly fn: EvictionObserver<K, V>
  /** Last unsettled call of each key's chain for this observer (linked through prevInChain). */
  readonly chains: Map<K, Note<K, V>>
}

/** The context handed to an observer: its signal is created only if the observer reads it. */
class CallContext implements ObserverContext {
  private controller: AbortController | undefined
  private abortReason: unknown
  private aborted = false

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController()
      if (this.aborted) this.controller.abort(this.abortReason)
    }
    return this.controller.signal
  }

  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.abortReason = reason
    this.controller?.abort(reason)
  }
}

/** One observer call. */
class Note<K, V> extends QueueNode implements NotificationFrame {
  state = QUEUED
  /** Neighbours in the key's chain; a settled call leaves its chain at once. */
  prevInChain: Note<K, V> | undefined
  nextInChain: Note<K, V> | undefined
  timer: TimerHandle | undefined
  context: CallContext | undefined

  constructor(
    readonly owner: NotificationDispatcher<K, V>,
    /** Mutable: a queued root call promoted ahead of a nested one becomes nested too. */
    public parent: NotificationFrame | undefined,
    /** True when it runs in an ancestor's slot rather than taking one. */
    public nested: boolean,
    readonly subscriber: Subscriber<K, V>,
    readonly event: EvictionEvent<K, V>,
    readonly batch: Batch,
  ) {
    super()
  }

  get running(): boolean {
    return this.state !== DONE
  }
}

/** A removal waiting for the drain to become one call per observer. */
interface Removal<K, V> {
  readonly event: EvictionEvent<K, V>
  readonly batch: Batch
  readonly parent: NotificationFrame | undefined
  readonly nested: boolean
  readonly subs: readonly Subscriber<K, V>[]
}

/** Settings of a dispatcher. */
export interface DispatcherOptions {
  readonly concurrency: number
  readonly timeoutMs: number | undefined
  readonly onError: OnError | undefined
  readonly name: string | undefined
}

/** See the module comment. Internal to the cache. */
export class NotificationDispatcher<K, V> {
  /** Observer calls that threw or rejected. */
  errors = 0
  /** Observer calls that timed out. */
  timeouts = 0
  /** Observer calls queued or running. */
  pending = 0

  private subscribers: readonly Subscriber<K, V>[] = []
  /** Slots taken (root calls running). */
  private running = 0
  /** Calls running, nested ones included. */
  private started = 0
  private readonly ready = new LinkedQueue<Note<K, V>>()
  private immediate: Note<K, V>[] = []
  /** Nested (or promoted) calls placed behind earlier calls of their chain and not started yet. */
  private readonly heldNested = new Set<Note<K, V>>()
  private incoming: Removal<K, V>[] = []
  private scheduled = false
  private open: Batch | undefined
  private waiters: { threshold: number; resolve: () => void }[] = []
  private readonly drainBound = (): void => {
    this.drain()
  }

  constructor(private readonly options: DispatcherOptions) {}

  /** Adds an observer; the returned function removes it (idempotent). */
  subscribe(fn: EvictionObserver<K, V>): () => void {
    const sub: Subscriber<K, V> = { fn, chains: new Map() }
    this.subscribers = [...this.subscribers, sub]
    return () => {
      this.subscribers = this.subscribers.filter((s) => s !== sub)
    }
  }

  /**
   * Queues one call per observer for a removal. Synchronous and cheap; called from
   * inside a state change, so it never calls an observer.
   */
  notify(key: K, value: V, cause: EvictionCause): void {
    const subs = this.subscribers
    if (subs.length === 0) return
    const parent = currentFrame()
    const batch = (this.open ??= new Batch())
    batch.remaining += subs.length
    if (this.pending === 0) dispatcherBusy()
    this.pending += subs.length
    // Only what the state change must fix now: the event, its batch, its parent and the
    // observers of this moment. Calls, key chains and queues are built in the drain.
    this.incoming.push({ event: { key, value, cause }, batch, parent, nested: ownAncestor(parent, this) !== undefined, subs })
    if (!this.scheduled) {
      this.scheduled = true
      queueMicrotask(this.drainBound)
    }
  }

  /** The promise of the calls queued since the last `take()` (resolved when there were none). */
  take(): Promise<void> {
    const batch = this.open
    if (batch === undefined) return RESOLVED
    this.open = undefined
    return batch.promise
  }

  /**
   * Resolves once no call is pending. Called from inside an observer (`depth` of its
   * own running calls > 0), it waits only for what can settle without the caller:
   * until no call runs but the caller's own ancestors and nothing is about to start;
   * calls still queued then need a slot the caller holds or wait in a chain behind
   * it, so waiting for them would deadlock.
   */
  settled(): Promise<void> {
    const depth = ownDepth(currentFrame(), this)
    if (this.isSettledFor(depth)) return RESOLVED
    return new Promise<void>((resolve) => {
      this.waiters.push({ threshold: depth, resolve })
    })
  }

  private isSettledFor(depth: number): boolean {
    if (depth === 0) return this.pending === 0
    return (
      this.started <= depth &&
      !this.scheduled &&
      this.incoming.length === 0 &&
      this.immediate.length === 0 &&
      (this.ready.size === 0 || this.running >= this.options.concurrency)
    )
  }

  private pushReady(note: Note<K, V>): void {
    this.ready.push(note)
  }

  private drain(): void {
    this.scheduled = false
    if (this.incoming.length !== 0) this.enqueue()
    while (this.immediate.length !== 0) {
      const nested = this.immediate
      this.immediate = []
      for (const note of nested) this.start(note)
    }
    while (this.running < this.options.concurrency) {
      const note = this.ready.shift()
      if (note === undefined) break
      this.running++
      this.start(note)
    }
    if (this.waiters.length !== 0) this.wake()
  }

  /** Turns the removals of the last state changes into calls, in removal order. */
  private enqueue(): void {
    const incoming = this.incoming
    this.incoming = []
    for (const r of incoming) {
      const key = r.event.key
      for (const sub of r.subs) {
        const note = new Note<K, V>(this, r.parent, r.nested, sub, r.event, r.batch)
        const tail = sub.chains.get(key)
        sub.chains.set(key, note)
        if (tail === undefined) {
          if (r.nested) this.immediate.push(note)
          else this.pushReady(note)
        } else {
          tail.nextInChain = note
          note.prevInChain = tail
          if (r.nested) this.placeNested(note)
        }
      }
    }
  }

  /**
   * A nested call behind earlier calls of its chain: it must not wait for a running
   * ancestor (that would deadlock), and it must not pass a call removed before it. So
   * every earlier call still queued is promoted to run, in order, in the same parent's
   * slot; the first one free to start starts now.
   */
  private placeNested(note: Note<K, V>): void {
    let first: Note<K, V> = note
    for (let p = note.prevInChain; p !== undefined; p = p.prevInChain) {
      if (p.state !== QUEUED) continue
      if (!p.nested) {
        p.nested = true
        p.parent = note.parent
      }
      this.heldNested.add(p)
      first = p
    }
    this.heldNested.add(note)
    if (first.queued) this.ready.remove(first)
    if (this.mayStart(first)) this.immediate.push(first)
  }

  /**
   * Whether a queued call is free to start. A root call: once every earlier call of its
   * chain settled. A nested (or promoted) call: once every earlier call is running and
   * waits for it, i.e. is an ancestor of it or of a later call of the chain (which
   * itself must wait for this one): holding it back would deadlock.
   */
  private mayStart(note: Note<K, V>): boolean {
    if (!note.nested) return note.prevInChain === undefined
    for (let p = note.prevInChain; p !== undefined; p = p.prevInChain) {
      if (p.state !== RUNNING) return false
      if (!waitsFor(p, note) && !this.waitsTransitively(p, note)) return false
    }
    return true
  }

  /**
   * Whether running call `from` waits, through held nested calls and the running calls
   * holding them back, for `note` (a cycle: two nested cascades each waiting on the
   * other's key). Then `note` must not wait for `from`: it starts beside it, the one
   * overlap that keeps a bound of 1 free of deadlock. Only on this rare path.
   */
  private waitsTransitively(from: Note<K, V>, note: Note<K, V>): boolean {
    const seen = new Set<Note<K, V>>([from])
    const stack = [from]
    for (let r = stack.pop(); r !== undefined; r = stack.pop()) {
      if (r !== from && waitsFor(r, note)) return true
      for (const held of this.heldNested) {
        if (held === note || held.state !== QUEUED || !isAncestor(r, held)) continue
        for (let q = held.prevInChain; q !== undefined; q = q.prevInChain) {
          if (q.state === RUNNING && !seen.has(q)) {
            seen.add(q)
            stack.push(q)
          }
        }
      }
    }
    return false
  }

  private start(note: Note<K, V>): void {
    if (note.state !== QUEUED) return
    note.state = RUNNING
    if (note.nested && this.heldNested.size !== 0) this.heldNested.delete(note)
    this.started++
    const context = new CallContext()
    note.context = context
    let out: unknown
    try {
      out = runInFrame(note, note.subscriber.fn, note.event, context)
    } catch (error) {
      this.failed(note, error)
      return
    }
    // isThenable never throws: a hostile `then` getter becomes a rejection through
    // Promise.resolve instead of an exception in the dispatcher.
    if (isThenable(out)) {
      // Only a call still pending can time out: synchronous observers cost no timer.
      const ms = this.options.timeoutMs
      if (ms !== undefined && note.state === RUNNING) note.timer = armTimer(ms, noteTimedOut, note, ms, true)
      Promise.resolve(out).then(
        () => {
          this.finish(note)
        },
        (error: unknown) => {
          this.failed(note, error)
        },
      )
    } else {
      this.finish(note)
    }
  }

  private failed(note: Note<K, V>, error: unknown): void {
    // A call that already timed out was counted once, as a timeout.
    if (note.state !== RUNNING) return
    this.errors++
    const { key, cause } = note.event
    reportError(this.options.onError, error, { area: 'cache', event: 'observer-error', name: this.options.name, key, cause })
    this.finish(note)
  }

  /** @internal Called by the call's timer (see noteTimedOut). */
  timedOut(note: Note<K, V>, ms: number): void {
    note.timer = undefined
    if (note.state !== RUNNING) return
    this.timeouts++
    const { key, cause } = note.event
    const error = new TimeoutError(`asyncsafe cache observer did not settle within ${ms} ms (key ${String(key)}, ${cause})`, { timeoutMs: ms })
    note.context?.abort(error)
    reportError(this.options.onError, error, { area: 'cache', event: 'observer-timeout', name: this.options.name, key, cause })
    this.finish(note)
  }

  private finish(note: Note<K, V>): void {
    if (note.state === DONE) return
    note.state = DONE
    if (note.timer !== undefined) {
      disarmTimer(note.timer)
      note.timer = undefined
    }
    this.started--
    if (!note.nested) this.running--
    this.unlink(note)
    const batch = note.batch
    if (--batch.remaining === 0) batch.resolve()
    this.pending--
    if (this.waiters.length !== 0) this.wake()
    if (this.pending === 0) dispatcherIdle()
    const startSoon = this.immediate.length !== 0 || (this.ready.size !== 0 && this.running < this.options.concurrency)
    if (startSoon && !this.scheduled) {
      // Start the next ready call from a fresh microtask: never inside the observer's own stack.
      this.scheduled = true
      queueMicrotask(this.drainBound)
    }
  }

  /** Takes a settled call out of its chain and lets the next one start if it now may. */
  private unlink(note: Note<K, V>): void {
    const { prevInChain: prev, nextInChain: next } = note
    note.prevInChain = note.nextInChain = undefined
    if (prev !== undefined) prev.nextInChain = next
    if (next !== undefined) {
      next.prevInChain = prev
      // Only the first queued call after it can become free (a later one has that one,
      // queued, before it); calls running in between overlap it only as nested ones.
      let first: Note<K, V> | undefined = next
      while (first?.state === RUNNING) first = first.nextInChain
      if (first !== undefined && this.mayStart(first)) {
        if (first.nested) this.immediate.push(first)
        else this.pushReady(first)
      }
    } else {
      const chains = note.subscriber.chains
      const key = note.event.key
      if (prev === undefined) chains.delete(key)
      else chains.set(key, prev)
    }
  }

  private wake(): void {
    const still: { threshold: number; resolve: () => void }[] = []
    for (const w of this.waiters) {
      if (this.isSettledFor(w.threshold)) w.resolve()
      else still.push(w)
    }
    this.waiters = still
  }
}

/** Whether running call `p` waits for `note`: it is an ancestor of it or of a later call of its chain. */
function waitsFor<K, V>(p: Note<K, V>, note: Note<K, V>): boolean {
  for (let n: Note<K, V> | undefined = note; n !== undefined; n = n.nextInChain) {
    if (isAncestor(p, n)) return true
  }
  return false
}

/** Whether `frame` is one of the ancestors of `of`. */
function isAncestor(frame: NotificationFrame, of: NotificationFrame): boolean {
  for (let f: NotificationFrame | undefined = of.parent; f !== undefined; f = f.parent) {
    if (f === frame) return true
  }
  return false
}
