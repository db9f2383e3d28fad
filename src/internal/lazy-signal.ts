/**
 * Task signals that cost nothing until something uses them.
 *
 * Every task the tasks module runs (`DetachedPool`, `Initializer`, `SingleFlightGroup`,
 * `retry`, the cache's `getOrLoad`) is called as `fn(signal)` with a real `AbortSignal`
 * that its owner can abort. On Node 20, reading `new AbortController().signal` costs about
 * 6 µs (the signal is an `EventTarget` re-prototyped with `setPrototypeOf`, whose symbol-keyed
 * state is then added to an object V8 no longer has a shared shape for), about 100 times a
 * trivial task. On Node 22+, Deno, Bun and browsers a signal costs tens of nanoseconds.
 *
 * {@link createTaskAbort} therefore returns, on Node 20 only, a {@link LazyAbortController}:
 * its `signal` is a `Proxy` that is an `AbortSignal` in every way a caller can observe, and
 * that creates the real signal (`new AbortController().signal`) only on first real use:
 *
 * - `instanceof AbortSignal`, `Object.getPrototypeOf`, `aborted`, `reason`,
 *   `throwIfAborted()`, `'aborted' in signal` and reading its methods are answered from the
 *   lazy state, without creating anything (a task that only polls `signal.aborted` never
 *   pays for a signal);
 * - everything else (adding a listener, `onabort`, handing it to `fetch`, `events.once`,
 *   `timers/promises`, `AbortSignal.any`, setting or defining a property, listing its
 *   keys) creates the real signal and forwards to it. Methods run with `this` = the proxy
 *   and reach the real signal's symbol-keyed internals through the same traps, which is
 *   why this is limited to Node 20: EOL, its JS-level `AbortSignal` internals are final;
 * - an abort before that only records the reason: the real signal created later is
 *   already aborted with it (nobody could have listened before it existed).
 *
 * - the abort is dispatched on the proxy (the real signal's own `dispatchEvent`, hidden
 *   from callers, forwards to it), so listeners see `this`, `event.target` and
 *   `event.currentTarget` = the signal the task was given.
 *
 * What differs from a plain signal: `util.types.isProxy(signal)` is true; the signal cannot
 * be frozen, sealed or re-prototyped (a frozen AbortSignal could not be aborted anyway);
 * `structuredClone` refuses it (a plain Node 20 signal clones to an empty object).
 * A one-time self-test at first use checks the internals look as expected; if anything
 * differs, real controllers are used everywhere.
 */

import { keepShapes } from './keep-shapes.js'

/** The owner's side of a task signal: what `AbortController` offers, lazily or not. */
export interface TaskAbort {
  /** The signal handed to the task (always the same object). */
  readonly signal: AbortSignal
  /** Aborts the signal with `reason` (an `AbortError` DOMException when absent); later calls do nothing. */
  abort(reason?: unknown): void
}

const inspectCustom = Symbol.for('nodejs.util.inspect.custom')

/** `EventTarget.prototype.dispatchEvent`, called with `this` = a lazy signal's proxy. */
let dispatchOnTarget: (event: Event) => boolean

/** Symbol-keyed internals of a fresh Node 20 signal; found once, by description. */
interface Internals {
  readonly prototype: object
  readonly kAborted: symbol
  readonly kReason: symbol
  /** Own keys of a fresh real signal: reading any of them (besides the two above) needs the real one. */
  readonly ownKeys: ReadonlySet<string | symbol>
}

let internals: Internals | undefined

function findInternals(): Internals | undefined {
  const prototype = AbortSignal.prototype as object
  const sample = new AbortController().signal
  const keys = Reflect.ownKeys(sample)
  const byName = (name: string): symbol | undefined => keys.find((k): k is symbol => typeof k === 'symbol' && k.description === name)
  const kAborted = byName('kAborted')
  const kReason = byName('kReason')
  if (kAborted === undefined || kReason === undefined) return undefined
  return { prototype, kAborted, kReason, ownKeys: new Set(keys) }
}

/** The traps of every lazy signal, set by the class's static block. */
let handler: ProxyHandler<LazyAbortController>

/**
 * The owner's side of a lazy task signal (Node 20). `signal` is a Proxy whose target is
 * this object; see the module comment. Fields are private, so the proxy target has no own
 * property that could collide with what a caller defines on the signal.
 */
export class LazyAbortController implements TaskAbort {
  #proxy: AbortSignal | undefined = undefined
  #controller: AbortController | undefined = undefined
  #real: AbortSignal | undefined = undefined
  #aborted = false
  #reason: unknown = undefined
  /** Whether the real signal carries our own `dispatchEvent` (hidden from callers; see #materialize). */
  #shim = false

  /** The task's signal: a Proxy standing for the real one until it is needed. */
  get signal(): AbortSignal {
    return (this.#proxy ??= new Proxy(this, handler) as unknown as AbortSignal)
  }

  /** Whether the real signal exists yet (for tests and diagnostics). */
  get materialized(): boolean {
    return this.#real !== undefined
  }

  /** Aborts the signal; before the real signal exists this only records the reason. */
  abort(reason: unknown = new DOMException('This operation was aborted', 'AbortError')): void {
    if (this.#controller !== undefined) {
      this.#controller.abort(reason)
      return
    }
    if (this.#aborted) return
    this.#aborted = true
    this.#reason = reason
  }

  /** The real signal, created (already aborted if the abort came first) on first use. */
  static #materialize(t: LazyAbortController): AbortSignal {
    let real = t.#real
    if (real === undefined) {
      const controller = new AbortController()
      real = controller.signal
      t.#controller = controller
      t.#real = real
      // The abort dispatches with `real.dispatchEvent(event)`: an own `dispatchEvent` that
      // dispatches on the proxy makes listeners see `this`, `event.target` and
      // `event.currentTarget` = the signal the task holds, as they would on a plain signal.
      const proxy = t.signal
      Object.defineProperty(real, 'dispatchEvent', {
        configurable: true,
        enumerable: false,
        writable: true,
        value: function dispatchEvent(...args: unknown[]): unknown {
          return Reflect.apply(dispatchOnTarget, proxy, args)
        },
      })
      t.#shim = true
      if (t.#aborted) controller.abort(t.#reason)
    }
    return real
  }

  static {
    // Runtimes without EventTarget never create a lazy signal (see detectLazy); loading must not throw there.
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with an explicit `this`
    if (typeof EventTarget === 'function') dispatchOnTarget = EventTarget.prototype.dispatchEvent
    // Inspecting the signal shows what a real one shows (`AbortSignal { aborted: false }`):
    // util.inspect looks at a proxy's target and calls its custom inspect with `this` = the proxy.
    Object.defineProperty(this.prototype, inspectCustom, {
      configurable: true,
      writable: true,
      value: function inspectSignal(this: AbortSignal, ...args: unknown[]): unknown {
        const own = (AbortSignal.prototype as unknown as Record<symbol, ((...a: unknown[]) => unknown) | undefined>)[inspectCustom]
        return own === undefined ? `AbortSignal { aborted: ${String(this.aborted)} }` : own.apply(this, args)
      },
    })
    // The traps. `internals` is set before the first proxy exists (see createTaskAbort).
    const materialize = this.#materialize
    handler = {
      getPrototypeOf: () => internals!.prototype,
      setPrototypeOf: (_t, proto) => proto === internals!.prototype,
      preventExtensions: () => false,
      get(t, key, receiver) {
        let real = t.#real
        if (real === undefined) {
          const i = internals!
          if (key === i.kAborted) return t.#aborted
          if (key === i.kReason) return t.#reason
          // Not an own key of a fresh signal: what the prototype chain answers, with `this`
          // = the proxy (the `aborted`/`reason` getters come back here for the two above).
          if (!i.ownKeys.has(key)) return Reflect.get(i.prototype, key, receiver) as unknown
          real = materialize(t)
        }
        if (key === 'dispatchEvent' && t.#shim) return dispatchOnTarget
        return Reflect.get(real, key, receiver === t.#proxy ? real : receiver) as unknown
      },
      set(t, key, value, receiver) {
        const real = materialize(t)
        // Assigning an own dispatchEvent replaces ours, as it would shadow the prototype's on a plain signal.
        if (key === 'dispatchEvent') t.#shim = false
        return Reflect.set(real, key, value, receiver === t.#proxy ? real : receiver)
      },
      has(t, key) {
        const real = t.#real
        if (real === undefined) return internals!.ownKeys.has(key) || Reflect.has(internals!.prototype, key)
        return Reflect.has(real, key)
      },
      ownKeys(t) {
        const keys = Reflect.ownKeys(materialize(t))
        return t.#shim ? keys.filter((k) => k !== 'dispatchEvent') : keys
      },
      getOwnPropertyDescriptor(t, key) {
        const real = materialize(t)
        return key === 'dispatchEvent' && t.#shim ? undefined : Reflect.getOwnPropertyDescriptor(real, key)
      },
      defineProperty(t, key, descriptor) {
        const real = materialize(t)
        if (key === 'dispatchEvent') t.#shim = false
        if (!Reflect.defineProperty(real, key, descriptor)) return false
        // A Proxy may only report a non-configurable property its target has too.
        const now = Reflect.getOwnPropertyDescriptor(real, key)
        if (now?.configurable === false) Reflect.defineProperty(t, key, now)
        return true
      },
      deleteProperty(t, key) {
        const real = materialize(t)
        // Our dispatchEvent is not visible, so there is nothing to delete.
        return key === 'dispatchEvent' && t.#shim ? true : Reflect.deleteProperty(real, key)
      },
    }
  }
}

// Keeps the hidden class of a lazy controller alive (see internal/keep-shapes.ts).
keepShapes(new LazyAbortController())


/** Checks once that the proxy behaves like a signal on this runtime (see the module comment). */
function selfTest(): boolean {
  try {
    const reason = new Error('self-test')
    const lazy = new LazyAbortController()
    const s = lazy.signal
    if (!(s instanceof AbortSignal) || s.aborted || !('aborted' in s) || lazy.materialized) return false
    lazy.abort(reason)
    if (!s.aborted || s.reason !== reason || lazy.materialized) return false
    let thrown: unknown
    try {
      s.throwIfAborted()
    } catch (error) {
      thrown = error
    }
    if (thrown !== reason) return false
    const other = new LazyAbortController()
    let calls = 0
    other.signal.addEventListener('abort', () => calls++, { once: true })
    const any = AbortSignal.any([other.signal])
    other.abort(reason)
    return other.materialized && calls === 1 && other.signal.aborted && any.aborted && any.reason === reason
  } catch {
    return false
  }
}

/** Whether this runtime gets lazy signals: Node 20 (not Deno or Bun), internals as expected, self-test passed. */
function detectLazy(): boolean {
  const g = globalThis as { process?: { versions?: Record<string, string | undefined> }; Deno?: unknown; Bun?: unknown }
  const versions = g.process?.versions
  if (versions?.node === undefined || versions.bun !== undefined || versions.deno !== undefined) return false
  if (g.Deno !== undefined || g.Bun !== undefined || !versions.node.startsWith('20.')) return false
  if (typeof AbortController !== 'function' || typeof AbortSignal !== 'function' || typeof EventTarget !== 'function') return false
  internals = findInternals()
  return internals !== undefined && selfTest()
}

let lazySignals: boolean | undefined

/**
 * A new task signal with its owner's side: a {@link LazyAbortController} on Node 20 (see the
 * module comment), a plain `AbortController` everywhere else (cheap there).
 */
export function createTaskAbort(): TaskAbort {
  lazySignals ??= detectLazy()
  return lazySignals ? new LazyAbortController() : new AbortController()
}

/**
 * For tests: whether {@link createTaskAbort} hands out lazy signals, optionally forcing it
 * (`true` works only where the internals were found, any Node version with them).
 * @internal
 */
export function useLazySignals(force?: boolean): boolean {
  if (force === undefined) return (lazySignals ??= detectLazy())
  if (force) {
    internals ??= findInternals()
    lazySignals = internals !== undefined && selfTest()
  } else {
    lazySignals = false
  }
  return lazySignals
}
