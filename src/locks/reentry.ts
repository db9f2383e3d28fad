/**
 * Re-entry detection (opt-in `detectReentry`): which locks the current async context
 * holds, carried by one shared AsyncLocalStorage.
 *
 * The store is an immutable list of tokens; a token's `state` is shared and mutable
 * (pending → held → done), so a release is seen by every flow that inherited it.
 * `runExclusive`-style calls mark only the callback's flow (`als.run`); `lock()`-style
 * calls can only mark the caller's context with `enterWith`, which in an async
 * function also covers its caller's synchronous part. A token entered that way does
 * not refuse requests from that same synchronous execution (siblings such as
 * `Promise.all(items.map(handler))` started in one step), only from later
 * continuations and from flows started after the grant.
 *
 * "The same synchronous execution" is a job object that a microtask retires. It used to
 * be `executionAsyncId()`, but on Node 24 AsyncLocalStorage runs on AsyncContextFrame
 * without async hooks, and promise continuations there all report the same id, so a
 * re-entrant `lock()` after an await was exempted and deadlocked.
 *
 * Loaded through `process.getBuiltinModule`, so runtimes without it skip detection.
 *
 * @module
 */

import { loadBuiltin } from '../internal/builtin.js'

interface AsyncLocalStorageLike<T> {
  getStore(): T | undefined
  enterWith(store: T): void
  run<R>(store: T, fn: () => R): R
}

interface AsyncHooksModule {
  AsyncLocalStorage: new <T>() => AsyncLocalStorageLike<T>
}

/** Pending: requested, not granted yet. */
export const PENDING = 0
/** Held by the context that carries the token. */
export const HELD = 1
/** Released, or the request failed. */
export const DONE = 2

/** One request of one lock by one context. */
export interface ReentryToken {
  readonly owner: object
  state: number
  /** The synchronous job of the `enterWith` call, or null for scoped (`run`) tokens. */
  readonly origin: object | null
}

interface StoreNode {
  readonly token: ReentryToken
  readonly next: StoreNode | undefined
}

/** The current synchronous job, created on demand and retired by a microtask. */
let job: object | null = null
function retireJob(): void {
  job = null
}
function currentJob(): object {
  if (job === null) {
    job = {}
    queueMicrotask(retireJob)
  }
  return job
}

let storage: AsyncLocalStorageLike<StoreNode> | undefined

/** Tracks, per async context, which locks it holds. One instance per lock that opted in. */
export class ReentryTracker {
  private readonly als: AsyncLocalStorageLike<StoreNode>

  private constructor(als: AsyncLocalStorageLike<StoreNode>) {
    this.als = als
  }

  /** A tracker, or undefined where the runtime has no AsyncLocalStorage. */
  static create(): ReentryTracker | undefined {
    const mod = loadBuiltin<AsyncHooksModule>('node:async_hooks')
    if (typeof mod?.AsyncLocalStorage !== 'function') return undefined
    storage ??= new mod.AsyncLocalStorage<StoreNode>()
    return new ReentryTracker(storage)
  }

  /** Whether the current context holds `owner` (and so may not request it again). */
  holds(owner: object): boolean {
    for (let node = this.als.getStore(); node !== undefined; node = node.next) {
      const t = node.token
      if (t.owner !== owner || t.state !== HELD) continue
      // Scoped tokens always refuse; entered ones refuse outside their own job.
      if (t.origin === null || t.origin !== job) return true
    }
    return false
  }

  /** Marks the caller's context (rest of this synchronous execution and its continuations). */
  enter(owner: object): ReentryToken {
    const token: ReentryToken = { owner, state: PENDING, origin: currentJob() }
    this.als.enterWith({ token, next: live(this.als.getStore()) })
    return token
  }

  /** A token for `run`: only `fn`'s flow will carry it. */
  scoped(owner: object): ReentryToken {
    return { owner, state: PENDING, origin: null }
  }

  /** Runs `fn(arg)` in a context that carries `token`. */
  run<A, R>(token: ReentryToken, fn: (arg: A) => R, arg: A): R {
    return this.als.run({ token, next: live(this.als.getStore()) }, () => fn(arg))
  }
}

/** The list without finished tokens (so a flow that locks in a loop does not grow it). */
function live(node: StoreNode | undefined): StoreNode | undefined {
  if (node === undefined) return undefined
  const next = live(node.next)
  if (node.token.state === DONE) return next
  return next === node.next ? node : { token: node.token, next }
}
