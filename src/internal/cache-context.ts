/**
 * "Am I running inside an observer call?" for the cache's notification dispatcher.
 *
 * A notification caused by an observer's own cache call must run in its parent's slot
 * and never wait behind its parent, or a bound of 1 (or a key's ordering chain) would
 * deadlock. Knowing the parent across the observer's awaits needs async context:
 * AsyncLocalStorage, loaded through `process.getBuiltinModule` so this module stays
 * runtime-neutral. Where it is missing, only calls made synchronously by the observer
 * (before its first await) are recognised; the others wait for a slot like any other
 * notification, which the finite `notifyTimeoutMs` bounds.
 *
 * Cost: on Node 20 an enabled AsyncLocalStorage turns on promise hooks for the whole
 * process (several-fold slower promise-heavy code). So the storage is enabled only
 * while at least one dispatcher has an observer call queued or running, and disabled
 * again (`disable()`) once every dispatcher is idle, checked one microtask later: the
 * code that awaited the last call runs first, so a loop of awaited `set`s that makes a
 * dispatcher busy again keeps the storage on instead of paying an enable/disable per
 * call (no timer involved). A cache whose observers are idle, or that has none, costs
 * the process nothing.
 */

import { loadBuiltin } from './builtin.js'

interface Storage<T> {
  run<R, A, B>(store: T, fn: (a: A, b: B) => R, a: A, b: B): R
  getStore(): T | undefined
  disable(): void
}

/** What the dispatcher stores as the current context: the running notification. */
export interface NotificationFrame {
  /** The frame that caused this one, if it was nested. */
  readonly parent: NotificationFrame | undefined
  /** The dispatcher that owns it. */
  readonly owner: object
  /** True until the call settled or timed out. */
  readonly running: boolean
}

let storage: Storage<NotificationFrame> | null | undefined
let activeDispatchers = 0
let syncFrame: NotificationFrame | undefined
let disableQueued = false

function disableIfIdle(): void {
  disableQueued = false
  if (activeDispatchers === 0 && storage) {
    try {
      storage.disable()
    } catch {
      // Disabling is an optimisation only.
    }
  }
}

function load(): Storage<NotificationFrame> | null {
  if (storage !== undefined) return storage
  const mod = loadBuiltin<{ AsyncLocalStorage?: new () => Storage<NotificationFrame> }>('node:async_hooks')
  storage = mod?.AsyncLocalStorage === undefined ? null : new mod.AsyncLocalStorage()
  return storage
}

/** A dispatcher went from idle to busy: async context is needed from now on. */
export function dispatcherBusy(): void {
  activeDispatchers++
}

/** A dispatcher went idle; if every one still is a microtask later, the storage is disabled (promise hooks off). */
export function dispatcherIdle(): void {
  activeDispatchers--
  if (activeDispatchers !== 0 || !storage || disableQueued) return
  disableQueued = true
  queueMicrotask(disableIfIdle)
}

/** Calls `fn(a, b)` with `frame` as the current notification (across its awaits where supported). */
export function runInFrame<R, A, B>(frame: NotificationFrame, fn: (a: A, b: B) => R, a: A, b: B): R {
  const previous = syncFrame
  syncFrame = frame
  try {
    const s = load()
    return s ? s.run(frame, fn, a, b) : fn(a, b)
  } finally {
    syncFrame = previous
  }
}

/** The notification the caller runs in, if any. */
export function currentFrame(): NotificationFrame | undefined {
  if (syncFrame !== undefined) return syncFrame
  if (activeDispatchers === 0 || !storage) return undefined
  return storage.getStore()
}

/** Nearest frame of the chain (the frame itself included) owned by `owner` and still running. */
export function ownAncestor(frame: NotificationFrame | undefined, owner: object): NotificationFrame | undefined {
  for (let f = frame; f !== undefined; f = f.parent) {
    if (f.owner === owner && f.running) return f
  }
  return undefined
}

/** Number of frames of the chain owned by `owner` that are still running. */
export function ownDepth(frame: NotificationFrame | undefined, owner: object): number {
  let n = 0
  for (let f = frame; f !== undefined; f = f.parent) {
    if (f.owner === owner && f.running) n++
  }
  return n
}
