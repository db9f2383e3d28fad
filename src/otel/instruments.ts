/**
 * The instruments `instrument()` creates: names, kinds, units and attributes, in one
 * table that the bridge, its tests and the README share.
 *
 * @module
 */

/** A module of the library whose diagnostics_channel events `instrument()` can turn into telemetry. */
export type InstrumentedModule = 'locks' | 'cache' | 'tasks' | 'guards' | 'node' | 'redis'

/** Every module, in the order `instrument()` subscribes them (its default). */
export const INSTRUMENTED_MODULES: readonly InstrumentedModule[] = Object.freeze(['locks', 'cache', 'tasks', 'guards', 'node', 'redis'])

/** One instrument the bridge creates on its meter. */
export interface InstrumentSpec {
  /** Instrument name, e.g. `'asyncsafe.lock.wait'`. */
  readonly name: string
  /** OpenTelemetry instrument kind. */
  readonly kind: 'histogram' | 'counter' | 'observableGauge'
  /** UCUM unit: `'ms'` or an annotation such as `'{hit}'`. */
  readonly unit: string
  /** The description given to the meter. */
  readonly description: string
  /** Attribute keys it may carry (a key is left out when its value is unknown, e.g. an unnamed lock). */
  readonly attributes: readonly string[]
  /** The module whose events feed it; it is created only when that module is instrumented. */
  readonly module: InstrumentedModule | 'any'
}

/**
 * Attribute keys of the bridge's measurements and spans.
 *
 * @example
 * ```ts
 * import { ATTR } from 'asyncsafe/otel'
 * const byLock = (point: { attributes: Record<string, unknown> }) => point.attributes[ATTR.lockName]
 * ```
 */
export const ATTR = Object.freeze({
  /** `asyncsafe.lock.name`: the lock's `name` option (left out for an unnamed lock). */
  lockName: 'asyncsafe.lock.name',
  /** `asyncsafe.lock.kind`: `Mutex`, `RwLock`, `Semaphore` (`RedisMutex` for asyncsafe/redis long holds). */
  lockKind: 'asyncsafe.lock.kind',
  /** `asyncsafe.cache.name`: the cache's `name` option. */
  cacheName: 'asyncsafe.cache.name',
  /** `asyncsafe.cache.cause`: why an entry left: `evicted`, `expired`, `deleted`, `replaced`, `cleared`, `invalidated`. */
  cause: 'asyncsafe.cache.cause',
  /** `asyncsafe.outcome`: how a loader run or a detached task ended. */
  outcome: 'asyncsafe.outcome',
  /** `asyncsafe.pool.name`: the DetachedPool's `name` option. */
  poolName: 'asyncsafe.pool.name',
  /** `asyncsafe.task.name`: the detached task's name (its `name` run option, else the pool's). */
  taskName: 'asyncsafe.task.name',
  /** `asyncsafe.area`: the failure's area (`detached`, `cache`, `guard`...), as `onError`'s context names it. */
  area: 'asyncsafe.area',
  /** `asyncsafe.event`: the failure's event (`error`, `timeout`, `dropped`, `observer-error`...). */
  event: 'asyncsafe.event',
  /** `asyncsafe.name`: the `name` of the object that reported the failure. */
  name: 'asyncsafe.name',
} as const)

/**
 * Every instrument the bridge can create. Histograms are in milliseconds, measured by the
 * object's own clock (a lock's or cache's `clock` option; `performance.now()` by default).
 *
 * @example
 * ```ts
 * import { INSTRUMENTS } from 'asyncsafe/otel'
 * for (const i of INSTRUMENTS) console.log(i.name, i.kind, i.unit)
 * ```
 */
export const INSTRUMENTS: readonly InstrumentSpec[] = Object.freeze([
  { name: 'asyncsafe.lock.wait', kind: 'histogram', unit: 'ms', module: 'locks', attributes: [ATTR.lockName, ATTR.lockKind], description: 'Time from a lock request to its grant (0 when uncontended)' },
  { name: 'asyncsafe.lock.hold', kind: 'histogram', unit: 'ms', module: 'locks', attributes: [ATTR.lockName, ATTR.lockKind], description: 'Time a lock was held, from grant to release' },
  { name: 'asyncsafe.lock.long_holds', kind: 'counter', unit: '{hold}', module: 'locks', attributes: [ATTR.lockName, ATTR.lockKind], description: 'Holds reported as long (passed longHoldMs while held); kind RedisMutex for asyncsafe/redis' },
  { name: 'asyncsafe.cache.hits', kind: 'counter', unit: '{hit}', module: 'cache', attributes: [ATTR.cacheName], description: 'Cache lookups (get, getOrLoad) that found a live entry' },
  { name: 'asyncsafe.cache.misses', kind: 'counter', unit: '{miss}', module: 'cache', attributes: [ATTR.cacheName], description: 'Cache lookups (get, getOrLoad) that found no live entry' },
  { name: 'asyncsafe.cache.evictions', kind: 'counter', unit: '{entry}', module: 'cache', attributes: [ATTR.cacheName, ATTR.cause], description: 'Cache removals by cause: evicted, expired, deleted, replaced, cleared, invalidated' },
  { name: 'asyncsafe.cache.load.duration', kind: 'histogram', unit: 'ms', module: 'cache', attributes: [ATTR.cacheName, ATTR.outcome], description: 'getOrLoad loader runs, by outcome: fulfilled, rejected, abandoned' },
  { name: 'asyncsafe.detached.queued', kind: 'observableGauge', unit: '{task}', module: 'tasks', attributes: [ATTR.poolName], description: 'Tasks waiting in DetachedPool queues (summed over pools of one name)' },
  { name: 'asyncsafe.detached.running', kind: 'observableGauge', unit: '{task}', module: 'tasks', attributes: [ATTR.poolName], description: 'Tasks holding a DetachedPool slot (summed over pools of one name)' },
  { name: 'asyncsafe.detached.duration', kind: 'histogram', unit: 'ms', module: 'tasks', attributes: [ATTR.poolName, ATTR.taskName, ATTR.outcome], description: 'Detached tasks from slot to release, by outcome: succeeded, failed, timeout, aborted' },
  { name: 'asyncsafe.failures', kind: 'counter', unit: '{failure}', module: 'any', attributes: [ATTR.area, ATTR.event, ATTR.name], description: 'Failures of work nobody awaits, as reported to onError (task errors, timeouts, drops, refusals, observer errors...)' },
  { name: 'asyncsafe.event_loop.stall', kind: 'histogram', unit: 'ms', module: 'node', attributes: [], description: 'Event-loop stalls reported by watchEventLoop' },
] satisfies InstrumentSpec[])
