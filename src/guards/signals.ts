/**
 * AbortSignal guards: `linkSignals` (a leak-free `AbortSignal.any`), `timeoutSignal`
 * (a timeout signal whose timer is cleared on dispose) and `onAbort` (an abort listener
 * removed on dispose).
 *
 * @module
 */
import { TimeoutError } from '../errors.js'
import { armTimer, disarmTimer, type TimerHandle } from '../internal/timers.js'
import { checkFunction, checkOptionalBoolean, checkOptions, checkSignal, checkTimeout, knownOptions } from '../internal/validate.js'
import type { AbortSignal, Event } from '../internal/types.js'

/**
 * A signal that aborts when any of its inputs aborts. Returned by {@link linkSignals}.
 * Dispose unlinks it: its listeners leave every input, and it will no longer abort.
 */
export interface LinkedSignal extends Disposable {
  /** Aborts with the reason of the first input that aborts. */
  readonly signal: AbortSignal
  /** Removes the listeners from the inputs (idempotent, never throws). Does not abort `signal`. */
  [Symbol.dispose](): void
}

class Linked implements LinkedSignal {
  readonly #controller = new AbortController()
  readonly #inputs: AbortSignal[] = []
  readonly #onAbort = (event: Event): void => {
    const source = event.target as AbortSignal
    this.#unlink()
    this.#controller.abort(source.reason)
  }

  constructor(signals: readonly (AbortSignal | undefined)[]) {
    const checked: AbortSignal[] = []
    for (let i = 0; i < signals.length; i++) {
      const s = checkSignal(`linkSignals: signals[${i}]`, signals[i])
      if (s !== undefined) checked.push(s)
    }
    for (const s of checked) {
      if (s.aborted) {
        this.#controller.abort(s.reason)
        return
      }
    }
    for (const s of checked) {
      s.addEventListener('abort', this.#onAbort, { once: true })
      this.#inputs.push(s)
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  #unlink(): void {
    for (const s of this.#inputs) s.removeEventListener('abort', this.#onAbort)
    this.#inputs.length = 0
  }

  [Symbol.dispose](): void {
    this.#unlink()
  }
}

/**
 * Links signals: the returned `signal` aborts as soon as any input aborts, with that
 * input's reason (at once if one already is). Unlike `AbortSignal.any`, the link is
 * owned: dispose removes its listeners from every input, so linking a short-lived
 * operation to a long-lived parent (a server's shutdown signal) leaves nothing behind
 * on the parent. Once one input aborts, the listeners leave the other inputs too.
 * `undefined` inputs are skipped, so optional signals can be passed as they are.
 *
 * Cancellation: the linked signal aborts with the first input's reason; dispose does
 * not abort it.
 *
 * @param signals the inputs (AbortSignals, or `undefined` to skip)
 * @throws TypeError when an input is not an AbortSignal
 * @example
 * ```ts
 * async function handle(req: Request, shutdown: AbortSignal) {
 *   using linked = linkSignals(req.signal, shutdown)
 *   return fetch(upstream, { signal: linked.signal })
 * } // the listener on `shutdown` is gone here, whatever happened
 * ```
 */
export function linkSignals(...signals: (AbortSignal | undefined)[]): LinkedSignal {
  return new Linked(signals)
}

/** Options of {@link timeoutSignal}. */
export interface TimeoutSignalOptions {
  /** Let the timer not keep the process alive (like `AbortSignal.timeout`). Default `true`. */
  unref?: boolean
}

/** A signal that aborts with a `TimeoutError` after a delay. Returned by {@link timeoutSignal}. */
export interface TimeoutSignal extends Disposable {
  /** Aborts with a `TimeoutError` (name `'TimeoutError'`) once the delay passes. */
  readonly signal: AbortSignal
  /** Clears the timer (idempotent, never throws). Does not abort `signal`. */
  [Symbol.dispose](): void
}

class Timed implements TimeoutSignal {
  readonly #controller = new AbortController()
  #timer: TimerHandle | undefined

  constructor(ms: number | undefined, unref: boolean) {
    if (ms === undefined) return
    this.#timer = armTimer(ms, expireTimed, this, ms, unref)
  }

  /** @internal The timer fired. */
  expire(ms: number): void {
    this.#timer = undefined
    this.#controller.abort(new TimeoutError(`Timed out after ${ms} ms`, { timeoutMs: ms }))
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  [Symbol.dispose](): void {
    disarmTimer(this.#timer)
    this.#timer = undefined
  }
}

// Outside the class: a class body naming its own class ships as `class _Timed` (see internal/keep-shapes.ts).
function expireTimed(timed: Timed, ms: number): void {
  timed.expire(ms)
}

/**
 * A signal that aborts with a `TimeoutError` after `ms` milliseconds. Unlike
 * `AbortSignal.timeout`, it is owned: dispose clears the timer, so an operation that
 * finished early leaves no timer behind. The abort reason is a `TimeoutError` (not a
 * `DOMException`), the same error every asyncsafe timeout uses. `Infinity` never aborts
 * and arms no timer; any finite delay is honoured, also past `setTimeout`'s 2^31-1 ms
 * (about 24.8 days; the timer re-arms). Uses the global timers at call time (fake timers work).
 *
 * @param ms non-negative milliseconds, or `Infinity`
 * @param options `unref` (default `true`: the timer does not keep the process alive)
 * @throws TypeError / RangeError when `ms` is not a non-negative number
 * @example
 * ```ts
 * using t = timeoutSignal(500)
 * const res = await fetch(url, { signal: t.signal })   // TimeoutError after 500 ms
 * ```
 */
export function timeoutSignal(ms: number, options?: TimeoutSignalOptions): TimeoutSignal {
  const timeout = checkTimeout('timeoutSignal: ms', ms)
  const opts = checkOptions<TimeoutSignalOptions>('timeoutSignal: options', options, TIMEOUT_SIGNAL_OPTIONS)
  const unref = checkOptionalBoolean('timeoutSignal: options.unref', opts.unref) ?? true
  return new Timed(timeout, unref)
}

const TIMEOUT_SIGNAL_OPTIONS = knownOptions(['unref'])

/** An abort listener that leaves its signal on dispose. Returned by {@link onAbort}. */
export interface AbortListenerGuard extends Disposable {
  /** Removes the listener (idempotent, never throws). */
  [Symbol.dispose](): void
}

const DONE: AbortListenerGuard = Object.freeze({ [Symbol.dispose]() {} })

class AbortListener implements AbortListenerGuard {
  #signal: AbortSignal | undefined
  readonly #fn: (reason: unknown) => void

  constructor(signal: AbortSignal, fn: (reason: unknown) => void) {
    this.#signal = signal
    this.#fn = fn
    signal.addEventListener('abort', this, { once: true })
  }

  /** Called by the signal (EventListenerObject form: no closure per listener). */
  handleEvent(): void {
    const signal = this.#signal
    if (signal === undefined) return
    this.#signal = undefined
    this.#fn(signal.reason)
  }

  [Symbol.dispose](): void {
    const signal = this.#signal
    if (signal === undefined) return
    this.#signal = undefined
    signal.removeEventListener('abort', this)
  }
}

/**
 * Calls `fn(signal.reason)` once when `signal` aborts; dispose removes the listener.
 * When the signal is already aborted, `fn` is called at once (synchronously, before
 * `onAbort` returns) and nothing is added. An exception thrown by `fn` is not caught:
 * from the immediate call it reaches the caller, from an abort it behaves like any
 * throwing abort listener.
 *
 * @param signal the signal to watch
 * @param fn called with the abort reason
 * @throws TypeError when `signal` is not an AbortSignal or `fn` not a function
 * @example
 * ```ts
 * using off = onAbort(signal, () => socket.destroy())
 * await pump(socket)   // the listener leaves `signal` when this scope ends
 * ```
 */
export function onAbort(signal: AbortSignal, fn: (reason: unknown) => void): AbortListenerGuard {
  if (signal === undefined) checkSignal('onAbort: signal', null)
  const s = checkSignal('onAbort: signal', signal)!
  checkFunction('onAbort: fn', fn)
  if (s.aborted) {
    fn(s.reason)
    return DONE
  }
  return new AbortListener(s, fn)
}
