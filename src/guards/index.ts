/**
 * asyncsafe/guards: `using` / `await using` guards that never leak background work,
 * listeners, timers or temporary overrides.
 *
 * @module asyncsafe/guards
 */
export { spawnGuarded, TaskGuard, DEFAULT_SETTLE_TIMEOUT_MS } from './spawnGuarded.js'
export type { GuardedTask, TaskState, SpawnGuardedOptions } from './spawnGuarded.js'
export { TaskScope } from './TaskScope.js'
export type { TaskScopeOptions, ScopeSpawnOptions } from './TaskScope.js'
export { swap, swapWith } from './swap.js'
export type { SwapGuard } from './swap.js'
export { listen } from './listen.js'
export type { ListenOptions, ListenerGuard, EmitterLike, EventTargetLike } from './listen.js'
export { every } from './every.js'
export type { EveryOptions, Ticker } from './every.js'
export { createBatcher } from './createBatcher.js'
export type { Batcher, BatcherOptions } from './createBatcher.js'
export { linkSignals, timeoutSignal, onAbort } from './signals.js'
export type { LinkedSignal, TimeoutSignal, TimeoutSignalOptions, AbortListenerGuard } from './signals.js'
export { DisposableStack, AsyncDisposableStack, SuppressedError, nativeDisposableStacks } from './stacks.js'
export type {
  DisposableStackConstructor,
  AsyncDisposableStackConstructor,
  SuppressedErrorConstructor,
} from './stacks.js'
