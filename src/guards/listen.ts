/**
 * `listen`: an event listener that leaves its target on dispose.
 *
 * @module
 */
import { checkFunction, checkOptionalBoolean, checkOptions, checkSignal, describe, knownOptions } from '../internal/validate.js'
import type { AbortSignal, Event } from '../internal/types.js'

/** The EventEmitter methods `listen` uses (Node's `EventEmitter` and look-alikes). */
export interface EmitterLike {
  // `any[]`: Node's EventEmitter types its listeners so; anything narrower rejects real emitters.
  /** Adds `listener` for events named `type`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(type: string | symbol, listener: (...args: any[]) => void): unknown
  /** Removes `listener` (added with `on`) for events named `type`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  removeListener(type: string | symbol, listener: (...args: any[]) => void): unknown
}

/**
 * The EventTarget methods `listen` uses. The option types are spelled out rather than
 * named (`AddEventListenerOptions` exists only in the DOM lib), so the declarations
 * compile for consumers without it.
 */
export interface EventTargetLike {
  /** Adds `listener` for events of `type`, with the given options (or `capture` flag). */
  addEventListener(type: string, listener: (event: Event) => void, options?: { once?: boolean; capture?: boolean; passive?: boolean; signal?: AbortSignal } | boolean): void
  /** Removes `listener` for events of `type` (matched with the same `capture` flag it was added with). */
  removeEventListener(type: string, listener: (event: Event) => void, options?: { capture?: boolean } | boolean): void
}

/** Options of {@link listen}. */
export interface ListenOptions {
  /** Call the listener once at most, then remove it. */
  once?: boolean
  /** EventTarget only: listen in the capture phase. */
  capture?: boolean
  /** EventTarget only: passive listener. */
  passive?: boolean
  /** Remove the listener when this signal aborts (already aborted: nothing is added). */
  signal?: AbortSignal
}

/** A listener owned by the current scope. */
export interface ListenerGuard extends Disposable {
  /** Whether the listener is still attached. */
  readonly active: boolean
  /** Removes the listener (exactly this one). Idempotent, never throws. */
  [Symbol.dispose](): void
}

type Remove = () => void

class Listener implements ListenerGuard {
  #remove: Remove | undefined
  #signal: AbortSignal | undefined

  constructor(remove: Remove, signal: AbortSignal | undefined) {
    this.#remove = remove
    if (signal !== undefined) {
      this.#signal = signal
      signal.addEventListener('abort', this, { once: true })
    }
  }

  get active(): boolean {
    return this.#remove !== undefined
  }

  /** @internal Abort listener of `options.signal`. */
  handleEvent(): void {
    this[Symbol.dispose]()
  }

  [Symbol.dispose](): void {
    const remove = this.#remove
    if (remove === undefined) return
    this.#remove = undefined
    const signal = this.#signal
    if (signal !== undefined) {
      this.#signal = undefined
      signal.removeEventListener('abort', this)
    }
    try {
      remove()
    } catch {
      // A target that throws on removal: dispose never throws.
    }
  }
}

const LISTEN_OPTIONS = knownOptions(['once', 'capture', 'passive', 'signal'])

const INACTIVE: ListenerGuard = Object.freeze({ active: false, [Symbol.dispose]() {} })

/**
 * Adds `listener` for `type` on an EventTarget (`addEventListener`) or an EventEmitter
 * (`on`), and removes exactly that listener on dispose, also when the same function was
 * added elsewhere too: the target receives a wrapper unique to this call. With `once`,
 * the listener runs at most once and the guard becomes inactive after it. With `signal`,
 * an abort removes it too (an already-aborted signal adds nothing).
 *
 * Hazard prevented: listeners (signal handlers, stream events) that stay attached after
 * the session that added them ended, keeping it alive and reacting to later events.
 *
 * @param target an EventTarget or an EventEmitter
 * @param type the event type
 * @param listener called with the event (EventTarget, `this` = the target) or the emitted arguments (EventEmitter)
 * @param options `once`, `capture`, `passive` (EventTarget), `signal`
 * @throws TypeError when `target` is neither, or `listener` is not a function
 * @example
 * ```ts
 * using _ = listen(socket, 'data', (chunk: Buffer) => parser.push(chunk))
 * using __ = listen(window, 'resize', relayout, { passive: true })
 * await session.closed
 * ```
 */
export function listen(
  target: EventTargetLike | EmitterLike,
  type: string | symbol,
  listener: (...args: never[]) => unknown,
  options?: ListenOptions,
): ListenerGuard {
  checkFunction('listen: listener', listener)
  const opts = checkOptions<ListenOptions>('listen: options', options, LISTEN_OPTIONS)
  const once = checkOptionalBoolean('listen: options.once', opts.once) ?? false
  const capture = checkOptionalBoolean('listen: options.capture', opts.capture) ?? false
  const passive = checkOptionalBoolean('listen: options.passive', opts.passive)
  const signal = checkSignal('listen: options.signal', opts.signal)
  if (signal?.aborted) return INACTIVE
  const fn = listener as (this: unknown, ...args: unknown[]) => unknown

  if (target !== null && typeof target === 'object' && typeof (target as EventTargetLike).addEventListener === 'function' && typeof (target as EventTargetLike).removeEventListener === 'function') {
    const et = target as EventTargetLike
    if (typeof type !== 'string') throw new TypeError(`asyncsafe: listen: type must be a string for an EventTarget, received ${describe(type)}`)
    let guard: Listener | undefined = undefined
    const wrapper = function (this: unknown, event: unknown): void {
      if (once) guard?.[Symbol.dispose]()
      fn.call(this, event)
    }
    et.addEventListener(type, wrapper, passive === undefined ? { capture } : { capture, passive })
    guard = new Listener(() => {
      et.removeEventListener(type, wrapper, { capture })
    }, signal)
    return guard
  }

  if (target !== null && typeof target === 'object' && typeof (target as EmitterLike).on === 'function' && typeof (target as EmitterLike).removeListener === 'function') {
    const em = target as EmitterLike
    let guard: Listener | undefined = undefined
    const wrapper = function (this: unknown, ...args: unknown[]): void {
      if (once) guard?.[Symbol.dispose]()
      fn.apply(this, args)
    }
    em.on(type, wrapper)
    guard = new Listener(() => {
      em.removeListener(type, wrapper)
    }, signal)
    return guard
  }

  throw new TypeError(`asyncsafe: listen: target must be an EventTarget or an EventEmitter, received ${describe(target)}`)
}
