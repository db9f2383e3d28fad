/**
 * asyncsafe: async runtime-safety primitives for TypeScript services.
 *
 * This barrel re-exports the runtime-neutral modules: locks, cache, guards and tasks.
 * Node-only helpers live in `asyncsafe/node`; the async-mutex adapter in
 * `asyncsafe/compat/async-mutex`.
 *
 * @module asyncsafe
 */
export * from './errors.js'
export type { ErrorContext, OnError } from './internal/report.js'
export type { Summary } from './internal/histogram.js'
export type { Clock } from './internal/clock.js'
export * from './locks/index.js'
export * from './cache/index.js'
export * from './guards/index.js'
export * from './tasks/index.js'
