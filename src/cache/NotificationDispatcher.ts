/**
 * Delivers a cache's removal notifications to its observers, strictly after the state
 * change that caused them.
 *
 * - One call per removal per observer. Calls start in a microtask, never inside the
 *   cache method that caused them.
 * - Per observer and key, calls run one after another in removal order: each key has
 *   a chain per observer, and the next call of a chain becomes ready once the previous
 *   one settled (or timed out).
 * - At most `concurrency` root calls run at once; ready calls wait in one FIFO queue.
 * - A call caused by an observer's own cache call (nested: found through the async
 *   context, see internal/cache-context.ts) runs at once in its parent's slot, outside
 *   the chains and the queue, so it never waits behind its parent: no deadlock, even
 *   with a bound of 1.
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

/** A resolved promise shared by every call that caused no notification. */
export const RESOLVED: Promise<void> = Promise.resolve()

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
  /** Last call of each key's chain for this observer. */
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
class Note<K, V> implements NotificationFrame {
  state = QUEUED
  nextInChain: Note<K, V> | undefined
  nextReady: Note<K, V> | undefined
  timer: ReturnType<typeof setTimeout> | undefined
  context: CallContext | undefined

  constructor(
    readonly owner: NotificationDispatcher<K, V>,
    readonly parent: NotificationFrame | undefined,
    readonly nested: boolean,
    readonly subscriber: Subscriber<K, V>,
    readonly event: EvictionEvent<K, V>,
    readonly batch: Batch,
  ) {}

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
  private running = 0
  private readyHead: Note<K, V> | undefined
  private readyTail: Note<K, V> | undefined
  private immediate: Note<K, V>[] = []
  private incoming: Removal<K, V>[] = []
  private scheduled = false
  private open: Batch | undefined
  private waiters: { threshold: number; resolve: () => void }[] = []
  private readonly drainBound = (): void => {
    this.drain()
  }

  constructor(private readonly options: DispatcherOptions) {}

  /** True when at least one observer is subscribed. */
  get active(): boolean {
    return this.subscribers.length !== 0
  }

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
   * Resolves once no call is pending. Called from inside an observer, the calls of
   * its own chain (which wait for it) are not waited for.
   */
  settled(): Promise<void> {
    const threshold = ownDepth(currentFrame(), this)
    if (this.pending <= threshold) return RESOLVED
    return new Promise<void>((resolve) => {
      this.waiters.push({ threshold, resolve })
    })
  }

  private pushReady(note: Note<K, V>): void {
    if (this.readyTail === undefined) this.readyHead = note
    else this.readyTail.nextReady = note
    this.readyTail = note
  }

  private drain(): void {
    this.scheduled = false
    if (this.incoming.length !== 0) this.enqueue()
    if (this.immediate.length !== 0) {
      const nested = this.immediate
      this.immediate = []
      for (const note of nested) this.start(note)
    }
    while (this.running < this.options.concurrency && this.readyHead !== undefined) {
      const note = this.readyHead
      this.readyHead = note.nextReady
      if (this.readyHead === undefined) this.readyTail = undefined
      note.nextReady = undefined
      this.running++
      this.start(note)
    }
  }

  /** Turns the removals of the last state changes into calls, in removal order. */
  private enqueue(): void {
    const incoming = this.incoming
    this.incoming = []
    for (const r of incoming) {
      const key = r.event.key
      for (const sub of r.subs) {
        const note = new Note<K, V>(this, r.parent, r.nested, sub, r.event, r.batch)
        if (r.nested) {
          this.immediate.push(note)
        } else {
          const tail = sub.chains.get(key)
          sub.chains.set(key, note)
          if (tail === undefined) this.pushReady(note)
          else tail.nextInChain = note
        }
      }
    }
  }

  private start(note: Note<K, V>): void {
    note.state = RUNNING
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
      if (ms !== undefined && note.state === RUNNING) {
        const timer = setTimeout(() => {
          this.timedOut(note, ms)
        }, ms)
        ;(timer as { unref?: () => void }).unref?.()
        note.timer = timer
      }
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

  private timedOut(note: Note<K, V>, ms: number): void {
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
      clearTimeout(note.timer)
      note.timer = undefined
    }
    if (!note.nested) {
      this.running--
      const next = note.nextInChain
      if (next !== undefined) {
        note.nextInChain = undefined
        this.pushReady(next)
      } else {
        const chains = note.subscriber.chains
        if (chains.get(note.event.key) === note) chains.delete(note.event.key)
      }
    }
    const batch = note.batch
    if (--batch.remaining === 0) batch.resolve()
    this.pending--
    if (this.waiters.length !== 0) this.wake()
    if (this.pending === 0) dispatcherIdle()
    if (this.readyHead !== undefined && this.running < this.options.concurrency && !this.scheduled) {
      // Start the next ready call from a fresh microtask: never inside the observer's own stack.
      this.scheduled = true
      queueMicrotask(this.drainBound)
    }
  }

  private wake(): void {
    const still: { threshold: number; resolve: () => void }[] = []
    for (const w of this.waiters) {
      if (this.pending <= w.threshold) w.resolve()
      else still.push(w)
    }
    this.waiters = still
  }
}
