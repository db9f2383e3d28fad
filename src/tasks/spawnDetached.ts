/**
 * `spawnDetached`: fire-and-forget on a shared, bounded default pool.
 *
 * @module
 */

import { DetachedPool, type DetachedRunOptions, type DetachedTask } from './DetachedPool.js'

/** Defaults of the shared pool behind {@link spawnDetached}. */
export const DEFAULT_DETACHED_POOL_OPTIONS = Object.freeze({
  /** The pool's name in reports (`context.pool`). */
  name: 'default',
  /** At most 8 detached tasks run at once. */
  concurrency: 8,
  /** Each task is aborted after 500 ms (as the audit's approval-record writes). */
  timeoutMs: 500,
  /** At most 1000 tasks wait; more are dropped and reported. */
  maxQueue: 1000,
})

let sharedPool: DetachedPool | undefined

/**
 * The shared pool behind {@link spawnDetached}, created on first use with
 * {@link DEFAULT_DETACHED_POOL_OPTIONS} (concurrency 8, timeout 500 ms, maxQueue 1000,
 * failures reported as process warnings unless a task brings its own `onError`).
 * Drain it at shutdown; once closed or disposed it refuses (and reports) new tasks
 * for the rest of the process.
 *
 * @example
 * ```ts
 * process.once('SIGTERM', async () => {
 *   const pool = defaultDetachedPool()
 *   pool.close()
 *   await pool.drain(2_000).catch(() => {})
 * })
 * ```
 */
export function defaultDetachedPool(): DetachedPool {
  sharedPool ??= new DetachedPool(DEFAULT_DETACHED_POOL_OPTIONS)
  return sharedPool
}

/**
 * Runs `task(signal)` detached on the shared default pool: bounded concurrency, a
 * 500 ms timeout that aborts the task's signal (override with `timeoutMs`), a capped
 * queue, and every failure, timeout, drop or refusal reported to `onError` (default: a
 * process warning) and diagnostics_channel `asyncsafe:detached:*`. Synchronous work
 * inside the task cannot be bounded by the timeout. See {@link DetachedPool.run}.
 *
 * @param task called as `task(signal)`
 * @param options `name`, `timeoutMs`, `onError`, `priority` for this task (see {@link DetachedRunOptions})
 * @returns `true` if accepted, `false` if dropped or refused
 * @throws TypeError when `task` is not a function
 * @example
 * ```ts
 * spawnDetached((signal) => approvals.record(decision, { signal }), { name: 'approval-record', onError: log.debug })
 * ```
 */
export function spawnDetached(task: DetachedTask, options?: DetachedRunOptions): boolean {
  return defaultDetachedPool().run(task, options)
}
