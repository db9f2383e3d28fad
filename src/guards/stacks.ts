/**
 * `DisposableStack`, `AsyncDisposableStack` and `SuppressedError`: the runtime's native
 * classes when it has them (Node 24+, recent browsers), spec-faithful ponyfills
 * otherwise (Node 20, 22). No global is patched: import them from asyncsafe.
 *
 * @module
 */
import {
  PonyfillAsyncDisposableStack,
  PonyfillDisposableStack,
  PonyfillSuppressedError,
  SuppressedErrorImpl,
} from '../internal/guards-stacks.js'

/**
 * A stack of disposables disposed together, in reverse order of addition (the shape of
 * the TC39 `DisposableStack`).
 */
export interface DisposableStack extends Disposable {
  /** Whether the stack was disposed (or moved). */
  readonly disposed: boolean
  /**
   * Disposes every resource, last added first. Every resource is disposed even when
   * some throw; then the error is thrown (several are chained with `SuppressedError`).
   * A second call does nothing.
   */
  dispose(): void
  /** Adds a disposable (`null`/`undefined` accepted and ignored) and returns it. Throws `ReferenceError` once disposed. */
  use<T extends Disposable | null | undefined>(value: T): T
  /** Adds a value with the callback that disposes it, and returns the value. */
  adopt<T>(value: T, onDispose: (value: T) => void): T
  /** Adds a callback run at dispose. */
  defer(onDispose: () => void): void
  /** Moves every resource into a new stack and marks this one disposed (without disposing anything). */
  move(): DisposableStack
}

/** The `DisposableStack` constructor. */
export interface DisposableStackConstructor {
  new (): DisposableStack
  /** The prototype shared by every `DisposableStack` instance. */
  readonly prototype: DisposableStack
}

/** The asynchronous counterpart of {@link DisposableStack} (the TC39 `AsyncDisposableStack`). */
export interface AsyncDisposableStack extends AsyncDisposable {
  /** Whether the stack was disposed (or moved). */
  readonly disposed: boolean
  /**
   * Disposes every resource, last added first, awaiting each one. Every resource is
   * disposed even when some fail; then it rejects with the error (several are chained
   * with `SuppressedError`). A second call resolves at once.
   */
  disposeAsync(): Promise<void>
  /** Adds an async or sync disposable (`null`/`undefined` accepted) and returns it. Throws `ReferenceError` once disposed. */
  use<T extends AsyncDisposable | Disposable | null | undefined>(value: T): T
  /** Adds a value with the (possibly async) callback that disposes it, and returns the value. */
  adopt<T>(value: T, onDisposeAsync: (value: T) => PromiseLike<void> | void): T
  /** Adds a (possibly async) callback run at dispose. */
  defer(onDisposeAsync: () => PromiseLike<void> | void): void
  /** Moves every resource into a new stack and marks this one disposed (without disposing anything). */
  move(): AsyncDisposableStack
}

/** The `AsyncDisposableStack` constructor. */
export interface AsyncDisposableStackConstructor {
  new (): AsyncDisposableStack
  /** The prototype shared by every `AsyncDisposableStack` instance. */
  readonly prototype: AsyncDisposableStack
}

/** An error thrown during disposal while another one was pending: `error` is the new one, `suppressed` the earlier. */
export interface SuppressedError extends Error {
  /** The error thrown later (during disposal). */
  readonly error: unknown
  /** The error it suppressed (thrown earlier). */
  readonly suppressed: unknown
}

/** The `SuppressedError` constructor. */
export interface SuppressedErrorConstructor {
  new (error: unknown, suppressed: unknown, message?: string): SuppressedError
  /** The prototype shared by every `SuppressedError` instance. */
  readonly prototype: SuppressedError
}

const native = globalThis as {
  DisposableStack?: DisposableStackConstructor
  AsyncDisposableStack?: AsyncDisposableStackConstructor
}

/**
 * `DisposableStack`: the native class when the runtime has one, a spec-faithful
 * ponyfill otherwise. Disposes its resources in reverse order; a failure does not stop
 * the others, errors are combined with {@link SuppressedError}.
 *
 * @example
 * ```ts
 * using stack = new DisposableStack()
 * const off = stack.use(listen(process, 'SIGTERM', shutdown))
 * stack.defer(() => console.log('closed'))
 * const conn = stack.adopt(openConnection(), (c) => c.close())
 * // everything is released, last first, when the scope ends
 * ```
 */
export const DisposableStack: DisposableStackConstructor = native.DisposableStack ?? (PonyfillDisposableStack)

/**
 * `AsyncDisposableStack`: the native class when the runtime has one, a spec-faithful
 * ponyfill otherwise. Disposes its resources in reverse order, awaiting each one.
 *
 * @example
 * ```ts
 * await using stack = new AsyncDisposableStack()
 * const scope = stack.use(new TaskScope({ name: 'session' }))
 * stack.defer(async () => db.close())
 * ```
 */
export const AsyncDisposableStack: AsyncDisposableStackConstructor =
  native.AsyncDisposableStack ?? (PonyfillAsyncDisposableStack)

/**
 * `SuppressedError`: the native class when the runtime has one, a ponyfill otherwise
 * (name `'SuppressedError'`, properties `error` and `suppressed`). The stacks above
 * throw it when several disposals fail.
 *
 * @example
 * ```ts
 * try { stack.dispose() }
 * catch (e) { if (e instanceof SuppressedError) log(e.error, e.suppressed) }
 * ```
 */
export const SuppressedError: SuppressedErrorConstructor = SuppressedErrorImpl

/** Whether the stacks exported here are the runtime's native classes. */
export const nativeDisposableStacks: boolean = native.DisposableStack !== undefined && native.AsyncDisposableStack !== undefined

/** @internal The ponyfills, exported for tests that run one suite against both. */
export const ponyfills = {
  DisposableStack: PonyfillDisposableStack as unknown as DisposableStackConstructor,
  AsyncDisposableStack: PonyfillAsyncDisposableStack as unknown as AsyncDisposableStackConstructor,
  // The ponyfill stacks combine errors with the runtime's SuppressedError when it has one.
  SuppressedError: SuppressedErrorImpl as SuppressedErrorConstructor,
  PonyfillSuppressedError: PonyfillSuppressedError as SuppressedErrorConstructor,
}
