/**
 * The host types the public API names (`AbortSignal`, `Event`, a timer id), declared so
 * that the published `.d.ts` files compile for consumers without the DOM lib and without
 * `@types/node` (`"lib": ["ES2022", "ESNext.Disposable"], "types": []`).
 *
 * Each alias is the host's own type where the consumer's program declares one (DOM lib,
 * `@types/node`, Deno, Bun), so nothing changes for them: a DOM or Node `AbortSignal` is
 * accepted wherever a signal is taken, and the signal handed to a task *is* their
 * `AbortSignal` (it can be passed to `fetch`, `events.once`, `timers/promises`...). Only
 * where the host declares none does the alias fall back to the minimal structural shape
 * below. The choice reads `typeof globalThis`, which every TypeScript version since 3.4
 * resolves the same way; it is not generic, so it is settled once per program.
 *
 * Library code imports these instead of using the global names in types:
 * `import type { AbortSignal } from '../internal/types.js'` (the import shadows the
 * global in that module; the library itself compiles with DOM and Node types, where the
 * alias is exactly the global type).
 */

/** What an abort listener receives where the host declares no `Event` type. */
export interface MinimalEvent {
  /** The event type, `'abort'` for a signal. */
  readonly type: string
}

/** An abort listener where the host declares no `EventListener` type. */
export type MinimalAbortListener = ((this: MinimalAbortSignal, event: MinimalEvent) => void) | { handleEvent(event: MinimalEvent): void }

/**
 * The part of an `AbortSignal` that every runtime has (Node 20+, Deno, Bun, browsers),
 * used as the signal type only where the consumer's program declares no `AbortSignal`.
 */
export interface MinimalAbortSignal {
  /** Whether the signal aborted. */
  readonly aborted: boolean
  /** The abort reason (undefined until aborted). */
  readonly reason: unknown
  /** Throws `reason` when aborted. */
  throwIfAborted(): void
  /** Adds an `'abort'` listener. */
  addEventListener(type: 'abort', listener: MinimalAbortListener, options?: { once?: boolean; signal?: MinimalAbortSignal } | boolean): void
  /** Removes an `'abort'` listener. */
  removeEventListener(type: 'abort', listener: MinimalAbortListener, options?: { capture?: boolean } | boolean): void
}

/**
 * The host's `AbortSignal` type (DOM lib, `@types/node`), or {@link MinimalAbortSignal}
 * where the consumer's program declares none.
 */
export type AbortSignal = typeof globalThis extends { AbortSignal: { prototype: infer S } } ? S : MinimalAbortSignal

/** The host's `Event` type, or {@link MinimalEvent} where the consumer's program declares none. */
export type Event = typeof globalThis extends { Event: { prototype: infer E } } ? E : MinimalEvent

/**
 * What the host's `setTimeout` returns (`NodeJS.Timeout` on Node, a number in browsers),
 * or `unknown` where the consumer's program declares no `setTimeout`.
 */
export type TimerId = typeof globalThis extends { setTimeout: (...args: never[]) => infer R } ? R : unknown
