/**
 * Spec-faithful ponyfills of `DisposableStack`, `AsyncDisposableStack` and
 * `SuppressedError` (TC39 Explicit Resource Management). Used by src/guards/stacks.ts
 * only when the runtime has no native classes. Nothing global is patched.
 */

/** The shape shared by the native `SuppressedError` and the ponyfill. */
export interface SuppressedErrorLike extends Error {
  /** The error thrown later (during disposal). */
  readonly error: unknown
  /** The error it suppressed (thrown earlier). */
  readonly suppressed: unknown
}

/** Ponyfill of `SuppressedError`: `error` was thrown while `suppressed` was already pending. */
export class PonyfillSuppressedError extends Error implements SuppressedErrorLike {
  declare readonly error: unknown
  declare readonly suppressed: unknown
  constructor(error: unknown, suppressed: unknown, message?: unknown) {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- spec: ToString(message), whatever it is
    super(message === undefined ? '' : String(message))
    // Own, writable, non-enumerable like the native properties.
    Object.defineProperty(this, 'error', { value: error, writable: true, configurable: true, enumerable: false })
    Object.defineProperty(this, 'suppressed', { value: suppressed, writable: true, configurable: true, enumerable: false })
  }
}
Object.defineProperty(PonyfillSuppressedError.prototype, 'name', { value: 'SuppressedError', writable: true, configurable: true, enumerable: false })

type SuppressedCtor = new (error: unknown, suppressed: unknown, message?: string) => SuppressedErrorLike

/** The `SuppressedError` constructor used to combine disposal errors. */
export const SuppressedErrorImpl: SuppressedCtor =
  (globalThis as { SuppressedError?: SuppressedCtor }).SuppressedError ?? PonyfillSuppressedError

// A resource record: the value (for `this`) and its dispose method, or a bare callback.
interface Resource {
  readonly value: unknown
  readonly method: ((this: unknown) => unknown) | undefined
}

function combine(previous: { error: unknown } | undefined, error: unknown): { error: unknown } {
  return previous === undefined ? { error } : { error: new SuppressedErrorImpl(error, previous.error, 'An error was suppressed during disposal.') }
}

function getMethod(value: object, key: symbol): ((this: unknown) => unknown) | undefined {
  const method = (value as Record<symbol, unknown>)[key]
  if (method === undefined || method === null) return undefined
  if (typeof method !== 'function') throw new TypeError(`${String(key)} is not a function`)
  return method as (this: unknown) => unknown
}

function syncDisposeMethod(value: unknown): Resource | undefined {
  if (value === null || value === undefined) return undefined
  if (typeof value !== 'object' && typeof value !== 'function') throw new TypeError('DisposableStack.use: value is not an object')
  const method = getMethod(value, Symbol.dispose)
  if (method === undefined) throw new TypeError('DisposableStack.use: value has no [Symbol.dispose] method')
  return { value, method }
}

function asyncDisposeMethod(value: unknown): Resource {
  if (value === null || value === undefined) return { value: undefined, method: undefined }
  if (typeof value !== 'object' && typeof value !== 'function') throw new TypeError('AsyncDisposableStack.use: value is not an object')
  let method = getMethod(value, Symbol.asyncDispose)
  if (method === undefined) {
    const sync = getMethod(value, Symbol.dispose)
    if (sync === undefined) throw new TypeError('AsyncDisposableStack.use: value has no [Symbol.asyncDispose] or [Symbol.dispose] method')
    // Spec: a sync dispose used for async disposal has its result ignored.
    method = function (this: unknown) {
      sync.call(this)
      return undefined
    }
  }
  return { value, method }
}

function checkCallable(name: string, fn: unknown): (...args: never[]) => unknown {
  if (typeof fn !== 'function') throw new TypeError(`${name} is not a function`)
  return fn as (...args: never[]) => unknown
}

const stacks = new WeakMap<object, { resources: Resource[]; disposed: boolean }>()

function stateOf(self: unknown, method: string): { resources: Resource[]; disposed: boolean } {
  const state = typeof self === 'object' && self !== null ? stacks.get(self) : undefined
  if (state === undefined) throw new TypeError(`${method} called on an incompatible receiver`)
  return state
}

function live(self: unknown, method: string): { resources: Resource[]; disposed: boolean } {
  const state = stateOf(self, method)
  if (state.disposed) throw new ReferenceError(`${method}: the stack is already disposed`)
  return state
}

/** Ponyfill of `DisposableStack`. */
export class PonyfillDisposableStack implements Disposable {
  constructor() {
    stacks.set(this, { resources: [], disposed: false })
  }

  /** Whether the stack has been disposed (or moved). */
  get disposed(): boolean {
    return stateOf(this, 'DisposableStack.prototype.disposed').disposed
  }

  /** Disposes every resource in reverse order; errors are combined with SuppressedError. */
  dispose(): void {
    const state = stateOf(this, 'DisposableStack.prototype.dispose')
    if (state.disposed) return
    state.disposed = true
    const resources = state.resources
    state.resources = []
    let failure: { error: unknown } | undefined
    for (let i = resources.length - 1; i >= 0; i--) {
      const r = resources[i]!
      try {
        r.method?.call(r.value)
      } catch (error) {
        failure = combine(failure, error)
      }
    }
    if (failure !== undefined) throw failure.error
  }

  /** Adds a disposable (null/undefined are accepted and ignored). Returns it. */
  use<T extends Disposable | null | undefined>(value: T): T {
    const state = live(this, 'DisposableStack.prototype.use')
    const r = syncDisposeMethod(value)
    if (r !== undefined) state.resources.push(r)
    return value
  }

  /** Adds a value with its dispose callback `onDispose(value)`. Returns the value. */
  adopt<T>(value: T, onDispose: (value: T) => void): T {
    const state = live(this, 'DisposableStack.prototype.adopt')
    const fn = checkCallable('DisposableStack.prototype.adopt: onDispose', onDispose)
    state.resources.push({ value: undefined, method: () => fn(value as never) })
    return value
  }

  /** Adds a callback run on dispose. */
  defer(onDispose: () => void): void {
    const state = live(this, 'DisposableStack.prototype.defer')
    const fn = checkCallable('DisposableStack.prototype.defer: onDispose', onDispose)
    state.resources.push({ value: undefined, method: fn })
  }

  /** Moves every resource to a new stack; this one becomes disposed (without disposing anything). */
  move(): PonyfillDisposableStack {
    const state = live(this, 'DisposableStack.prototype.move')
    const next = newDisposableStack()
    stacks.get(next)!.resources = state.resources
    state.resources = []
    state.disposed = true
    return next
  }

  [Symbol.dispose](): void {
    this.dispose()
  }

  declare readonly [Symbol.toStringTag]: string
}
Object.defineProperty(PonyfillDisposableStack.prototype, Symbol.toStringTag, { value: 'DisposableStack', configurable: true })
Object.defineProperty(PonyfillDisposableStack.prototype, Symbol.dispose, {
  // Spec: [Symbol.dispose] is the very same function object as dispose.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- installed as a method of the same prototype
  value: PonyfillDisposableStack.prototype.dispose,
  writable: true,
  configurable: true,
})

/** Ponyfill of `AsyncDisposableStack`. */
export class PonyfillAsyncDisposableStack implements AsyncDisposable {
  constructor() {
    stacks.set(this, { resources: [], disposed: false })
  }

  /** Whether the stack has been disposed (or moved). */
  get disposed(): boolean {
    return stateOf(this, 'AsyncDisposableStack.prototype.disposed').disposed
  }

  /** Disposes every resource in reverse order, awaiting each; errors are combined with SuppressedError. */
  disposeAsync(): Promise<void> {
    let state: { resources: Resource[]; disposed: boolean }
    try {
      state = stateOf(this, 'AsyncDisposableStack.prototype.disposeAsync')
    } catch (error) {
      return Promise.reject(error)
    }
    if (state.disposed) return Promise.resolve()
    state.disposed = true
    const resources = state.resources
    state.resources = []
    return disposeAll(resources)
  }

  /** Adds an async (or sync) disposable (null/undefined are accepted). Returns it. */
  use<T extends AsyncDisposable | Disposable | null | undefined>(value: T): T {
    const state = live(this, 'AsyncDisposableStack.prototype.use')
    state.resources.push(asyncDisposeMethod(value))
    return value
  }

  /** Adds a value with its dispose callback `onDisposeAsync(value)` (awaited). Returns the value. */
  adopt<T>(value: T, onDisposeAsync: (value: T) => PromiseLike<void> | void): T {
    const state = live(this, 'AsyncDisposableStack.prototype.adopt')
    const fn = checkCallable('AsyncDisposableStack.prototype.adopt: onDisposeAsync', onDisposeAsync)
    state.resources.push({ value: undefined, method: () => fn(value as never) })
    return value
  }

  /** Adds a callback run (and awaited) on dispose. */
  defer(onDisposeAsync: () => PromiseLike<void> | void): void {
    const state = live(this, 'AsyncDisposableStack.prototype.defer')
    const fn = checkCallable('AsyncDisposableStack.prototype.defer: onDisposeAsync', onDisposeAsync)
    state.resources.push({ value: undefined, method: fn })
  }

  /** Moves every resource to a new stack; this one becomes disposed (without disposing anything). */
  move(): PonyfillAsyncDisposableStack {
    const state = live(this, 'AsyncDisposableStack.prototype.move')
    const next = newAsyncDisposableStack()
    stacks.get(next)!.resources = state.resources
    state.resources = []
    state.disposed = true
    return next
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.disposeAsync()
  }

  declare readonly [Symbol.toStringTag]: string
}
Object.defineProperty(PonyfillAsyncDisposableStack.prototype, Symbol.toStringTag, { value: 'AsyncDisposableStack', configurable: true })
Object.defineProperty(PonyfillAsyncDisposableStack.prototype, Symbol.asyncDispose, {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- installed as a method of the same prototype
  value: PonyfillAsyncDisposableStack.prototype.disposeAsync,
  writable: true,
  configurable: true,
})

async function disposeAll(resources: Resource[]): Promise<void> {
  let failure: { error: unknown } | undefined
  for (let i = resources.length - 1; i >= 0; i--) {
    const r = resources[i]!
    try {
      // Every resource is awaited, also a `use(null)` one, like the spec's async disposal.
      await r.method?.call(r.value)
    } catch (error) {
      failure = combine(failure, error)
    }
  }
  if (failure !== undefined) throw failure.error
}

// `move()` creates its new stack through these, outside the classes: a class body naming its
// own class ships as `class _PonyfillDisposableStack` (see internal/keep-shapes.ts).
function newDisposableStack(): PonyfillDisposableStack {
  return new PonyfillDisposableStack()
}

function newAsyncDisposableStack(): PonyfillAsyncDisposableStack {
  return new PonyfillAsyncDisposableStack()
}
