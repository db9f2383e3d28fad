/**
 * `swap` / `swapWith`: temporary overrides that are always restored.
 *
 * @module
 */
import { checkFunction } from '../internal/validate.js'

/** A temporary override; dispose restores what was there before. */
export interface SwapGuard<V> extends Disposable {
  /** The value that was there before (undefined when the key was absent). */
  readonly previous: V | undefined
  /** Whether dispose already restored it. */
  readonly restored: boolean
  /** Restores the previous value, or deletes the key when it had none. Idempotent, never throws. */
  [Symbol.dispose](): void
}

class PropertySwap<T extends object, K extends keyof T> implements SwapGuard<T[K]> {
  #target: T | undefined
  readonly #key: K
  readonly #had: boolean
  readonly previous: T[K] | undefined

  constructor(target: T, key: K, value: T[K]) {
    this.#key = key
    this.#had = Object.hasOwn(target, key)
    this.previous = this.#had ? target[key] : undefined
    target[key] = value
    this.#target = target
  }

  get restored(): boolean {
    return this.#target === undefined
  }

  [Symbol.dispose](): void {
    const target = this.#target
    if (target === undefined) return
    this.#target = undefined
    try {
      if (this.#had) target[this.#key] = this.previous!
      else Reflect.deleteProperty(target, this.#key)
    } catch {
      // A frozen or exotic target refused: dispose never throws.
    }
  }
}

/**
 * Sets `target[key] = value` now and restores it on dispose: the previous value when
 * `target` had its own `key`, otherwise the key is deleted again (an inherited value
 * shows through, nothing is left behind). Nested swaps of the same key bound with
 * `using` restore in LIFO order, so each scope sees the value it set and, after it,
 * the one before. Dispose is idempotent and never throws.
 *
 * Hazard prevented: a callback override that stays installed after the flow that set it
 * was cancelled (the audit's progress callback). With `using`, restoring is tied to the
 * scope: normal exit, early `return`, `throw`, or a cancelled enclosing flow.
 *
 * @param target the object to patch
 * @param key the property
 * @param value the temporary value
 * @throws whatever the assignment throws (a frozen object in strict mode): nothing is swapped then
 * @example
 * ```ts
 * async function runWithProgress(registry: Registry, signal: AbortSignal) {
 *   using _ = swap(registry, 'progressCallback', (p: number) => bar.update(p))
 *   await longJob(signal)
 * } // the previous callback (or none) is back, also when longJob throws
 * ```
 */
export function swap<T extends object, K extends keyof T>(target: T, key: K, value: T[K]): SwapGuard<T[K]> {
  if (target === null || (typeof target !== 'object' && typeof target !== 'function')) {
    throw new TypeError(`asyncsafe: swap: target must be an object, received ${target === null ? 'null' : typeof target}`)
  }
  return new PropertySwap(target, key, value)
}

class SetterSwap<V> implements SwapGuard<V> {
  #set: ((value: V) => void) | undefined
  readonly previous: V

  constructor(get: () => V, set: (value: V) => void, value: V) {
    this.previous = get()
    set(value)
    this.#set = set
  }

  get restored(): boolean {
    return this.#set === undefined
  }

  [Symbol.dispose](): void {
    const set = this.#set
    if (set === undefined) return
    this.#set = undefined
    try {
      set(this.previous)
    } catch {
      // The setter refused: dispose never throws.
    }
  }
}

/**
 * `swap` for setter-style APIs: reads the current value with `get()`, installs `value`
 * with `set(value)`, and calls `set(previous)` on dispose. Idempotent, never throws (an
 * exception from `set` during dispose is swallowed; from `get`/the first `set` it
 * reaches the caller and nothing is swapped).
 *
 * @param get reads the current value
 * @param set installs a value
 * @param value the temporary value
 * @throws TypeError when `get` or `set` is not a function
 * @example
 * ```ts
 * using _ = swapWith(() => logger.level, (l) => logger.setLevel(l), 'debug')
 * await reproduceBug()
 * ```
 */
export function swapWith<V>(get: () => V, set: (value: V) => void, value: V): SwapGuard<V> {
  checkFunction('swapWith: get', get)
  checkFunction('swapWith: set', set)
  return new SetterSwap(get, set, value)
}
