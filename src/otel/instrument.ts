/**
 * `instrument()`: subscribes to the library's diagnostics_channel events and turns them
 * into OpenTelemetry metrics and, optionally, spans. Dispose unsubscribes everything.
 *
 * @module
 */
import { channel as channelNamed, subscribe, unsubscribe, type Channel } from 'node:diagnostics_channel'
import type { Attributes, Counter, Histogram, Meter, MeterProvider, ObservableGauge, ObservableResult, Tracer, TracerProvider } from '@opentelemetry/api'
import {
  CACHE_EVICT,
  CACHE_HIT,
  CACHE_LOAD,
  CACHE_MISS,
  DETACHED_END,
  DETACHED_ENQUEUE,
  DETACHED_START,
  LOCK_ACQUIRE,
  LOCK_RELEASE,
  type CacheAccessMessage,
  type CacheEvictMessage,
  type CacheLoadMessage,
  type DetachedEndMessage,
  type DetachedPoolMessage,
  type LockAcquireMessage,
  type LockReleaseMessage,
} from '../internal/channels.js'
import { checkOptionalBoolean, checkOptions, describe, knownOptions } from '../internal/validate.js'
import { globalMeterProvider, globalTracerProvider } from './api.js'
import { AttributeMemo } from './attributes.js'
import { FAILURE_CHANNELS, failureChannelName } from './channels.js'
import { ATTR, INSTRUMENTED_MODULES, INSTRUMENTS, type InstrumentedModule, type InstrumentSpec } from './instruments.js'
import { recordSpan } from './spans.js'

/** Options of {@link instrument}. */
export interface InstrumentOptions {
  /** Where the instruments are created (meter `'asyncsafe'`). Default: the global one (`metrics.getMeterProvider()`), a no-op until an SDK registers its own. */
  readonly meterProvider?: MeterProvider
  /** Where spans are recorded (tracer `'asyncsafe'`). Default: the global one (`trace.getTracerProvider()`). */
  readonly tracerProvider?: TracerProvider
  /** The modules to instrument. Default: all (`INSTRUMENTED_MODULES`). */
  readonly modules?: readonly InstrumentedModule[]
  /**
   * Record spans: a lock hold, a `getOrLoad` loader run, a detached task. Default: `true`
   * when `tracerProvider` is passed, else `false` (a span per lock hold is a lot of spans).
   */
  readonly spans?: boolean
}

/** What {@link instrument} returns: dispose it to unsubscribe. */
export interface OtelBridge extends Disposable {
  /** The modules instrumented. */
  readonly modules: readonly InstrumentedModule[]
  /** The diagnostics_channel channels subscribed (none once disposed). */
  readonly channels: readonly string[]
  /** The instruments created on the meter. */
  readonly instruments: readonly InstrumentSpec[]
  /** Whether spans are recorded. */
  readonly spans: boolean
  /** Whether it was disposed. */
  readonly disposed: boolean
  /** Unsubscribes every channel and removes the gauges' callbacks. Idempotent, never throws. */
  [Symbol.dispose](): void
}

const OPTIONS = knownOptions(['meterProvider', 'tracerProvider', 'modules', 'spans'], { meter: 'meterProvider', tracer: 'tracerProvider', provider: 'meterProvider' })

/** Histogram buckets for lock, loader and task times: from 10 µs (an uncontended hold) to 10 s. */
const MS_BUCKETS = [0, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]

type Handler = (message: unknown, name: string | symbol) => void

/**
 * Every channel the bridge ever subscribed to, held for the life of the process (a few
 * dozen). Node 20 keeps channels in a map of weak references, and a collected channel's
 * finalizer deletes its name's entry whenever it runs: after a bridge is disposed and its
 * channels collected, a new bridge subscribes to fresh objects, the late finalizers delete
 * their entries, and a channel the library creates later under the same name (its failure
 * and long-hold channels are created on first use) is a third object nobody subscribes
 * to. Held channels are never collected, so a name keeps one object
 * (test/otel/gc-race.test.ts).
 */
const held = new Map<string, Channel>()

function hold(name: string): void {
  if (!held.has(name)) held.set(name, channelNamed(name))
}

/** Last reported state of one pool. */
interface PoolState {
  readonly name: string | undefined
  queued: number
  running: number
}

function checkModules(value: unknown): InstrumentedModule[] {
  if (value === undefined) return [...INSTRUMENTED_MODULES]
  if (!Array.isArray(value)) throw new TypeError(`asyncsafe: options.modules must be an array of module names (${INSTRUMENTED_MODULES.join(', ')}), received ${describe(value)}`)
  if (value.length === 0) throw new RangeError('asyncsafe: options.modules must name at least one module, received an empty array')
  for (const m of value) {
    if (!INSTRUMENTED_MODULES.includes(m as InstrumentedModule)) throw new RangeError(`asyncsafe: options.modules must hold module names (${INSTRUMENTED_MODULES.join(', ')}), received ${describe(m)}`)
  }
  return INSTRUMENTED_MODULES.filter((m) => (value as unknown[]).includes(m))
}

function checkProvider<T>(option: string, value: unknown, method: string): T | undefined {
  if (value === undefined) return undefined
  if (value === null || typeof value !== 'object' || typeof (value as Record<string, unknown>)[method] !== 'function') {
    throw new TypeError(`asyncsafe: options.${option} must be an OpenTelemetry ${option === 'meterProvider' ? 'MeterProvider' : 'TracerProvider'} (an object with ${method}()), received ${describe(value)}`)
  }
  return value as T
}

class Bridge implements OtelBridge {
  readonly modules: readonly InstrumentedModule[]
  readonly instruments: readonly InstrumentSpec[]
  readonly spans: boolean
  private readonly subscriptions: [string, Handler][] = []
  private readonly gauges: [ObservableGauge, (result: ObservableResult) => void][] = []
  private readonly lockSets = new AttributeMemo(ATTR.lockName, ATTR.lockKind)
  private readonly cacheSets = new AttributeMemo(ATTR.cacheName)
  private readonly evictSets = new AttributeMemo(ATTR.cacheName, ATTR.cause)
  private readonly loadSets = new AttributeMemo(ATTR.cacheName, ATTR.outcome)
  private readonly taskSets = new AttributeMemo(ATTR.poolName, ATTR.taskName, ATTR.outcome)
  private readonly poolSets = new AttributeMemo(ATTR.poolName)
  private readonly failureSets = new AttributeMemo(ATTR.area, ATTR.event, ATTR.name)
  private readonly pools = new Map<object, PoolState>()
  /** Pool names seen: reported as 0 once their pools are idle. */
  private readonly poolNames = new Set<string | undefined>()
  private readonly tracer: Tracer | undefined
  private isDisposed = false

  constructor(meter: Meter, tracer: Tracer | undefined, modules: readonly InstrumentedModule[]) {
    this.modules = Object.freeze([...modules])
    this.tracer = tracer
    this.spans = tracer !== undefined
    this.instruments = Object.freeze(INSTRUMENTS.filter((i) => i.module === 'any' || modules.includes(i.module)))
    const histogram = (name: string): Histogram => {
      const spec = this.spec(name)
      return meter.createHistogram(name, { unit: spec.unit, description: spec.description, advice: { explicitBucketBoundaries: MS_BUCKETS } })
    }
    const counter = (name: string): Counter => {
      const spec = this.spec(name)
      return meter.createCounter(name, { unit: spec.unit, description: spec.description })
    }
    const gauge = (name: string, read: (pool: PoolState) => number): void => {
      const spec = this.spec(name)
      const instrument = meter.createObservableGauge(name, { unit: spec.unit, description: spec.description })
      const callback = (result: ObservableResult): void => {
        this.observePools(result, read)
      }
      instrument.addCallback(callback)
      this.gauges.push([instrument, callback])
    }

    const failures = counter('asyncsafe.failures')
    if (modules.includes('locks') || modules.includes('redis')) {
      const longHolds = counter('asyncsafe.lock.long_holds')
      if (modules.includes('locks')) {
        this.on('asyncsafe:lock:long-hold', (m: { name?: string }) => {
          longHolds.add(1, this.lockAttributes(m.name, undefined))
        })
      }
      if (modules.includes('redis')) {
        this.on('asyncsafe:redis:long-hold', (m: { name?: string }) => {
          longHolds.add(1, this.lockAttributes(m.name, 'RedisMutex'))
        })
      }
    }
    if (modules.includes('locks')) {
      const wait = histogram('asyncsafe.lock.wait')
      const hold = histogram('asyncsafe.lock.hold')
      this.on(LOCK_ACQUIRE, (m: LockAcquireMessage) => {
        wait.record(m.waitMs, this.lockAttributes(m.name, m.kind))
      })
      this.on(LOCK_RELEASE, (m: LockReleaseMessage) => {
        const attributes = this.lockAttributes(m.name, m.kind)
        hold.record(m.heldMs, attributes)
        if (this.tracer !== undefined) recordSpan(this.tracer, 'asyncsafe.lock.hold', m.heldMs, attributes)
      })
    }
    if (modules.includes('cache')) {
      const hits = counter('asyncsafe.cache.hits')
      const misses = counter('asyncsafe.cache.misses')
      const evictions = counter('asyncsafe.cache.evictions')
      const loads = histogram('asyncsafe.cache.load.duration')
      this.on(CACHE_HIT, (m: CacheAccessMessage) => {
        hits.add(1, this.cacheAttributes(m.name))
      })
      this.on(CACHE_MISS, (m: CacheAccessMessage) => {
        misses.add(1, this.cacheAttributes(m.name))
      })
      this.on(CACHE_EVICT, (m: CacheEvictMessage) => {
        evictions.add(1, this.evictSets.get(m.name, m.cause))
      })
      this.on(CACHE_LOAD, (m: CacheLoadMessage) => {
        if (m.durationMs === undefined) return
        const attributes = this.loadSets.get(m.name, m.outcome)
        loads.record(m.durationMs, attributes)
        if (this.tracer !== undefined) recordSpan(this.tracer, 'asyncsafe.cache.load', m.durationMs, attributes, m.outcome === 'fulfilled' ? undefined : `load ${m.outcome}`, m.error)
      })
    }
    if (modules.includes('tasks')) {
      const durations = histogram('asyncsafe.detached.duration')
      gauge('asyncsafe.detached.queued', (p) => p.queued)
      gauge('asyncsafe.detached.running', (p) => p.running)
      const track = (m: DetachedPoolMessage): void => {
        this.trackPool(m)
      }
      this.on(DETACHED_ENQUEUE, track)
      this.on(DETACHED_START, track)
      this.on(DETACHED_END, (m: DetachedEndMessage) => {
        this.trackPool(m)
        if (m.durationMs === undefined) return
        const attributes = this.taskSets.get(m.pool, m.name, m.outcome)
        durations.record(m.durationMs, attributes)
        if (this.tracer !== undefined) recordSpan(this.tracer, 'asyncsafe.detached.task', m.durationMs, attributes, m.outcome === 'succeeded' ? undefined : `task ${m.outcome}`, m.error)
      })
    }
    if (modules.includes('node')) {
      const stalls = histogram('asyncsafe.event_loop.stall')
      this.on('asyncsafe:node:stall', (m: { durationMs: number }) => {
        stalls.record(m.durationMs)
      })
    }
    for (const module of modules) {
      for (const f of FAILURE_CHANNELS[module]) {
        const channel = failureChannelName(f)
        this.on(channel, (m: { name?: unknown }) => {
          const name = typeof m.name === 'string' ? m.name : undefined
          failures.add(1, this.failureSets.get(f.area, f.event, name))
        })
      }
    }
  }

  get channels(): readonly string[] {
    return this.subscriptions.map(([name]) => name)
  }

  get disposed(): boolean {
    return this.isDisposed
  }

  [Symbol.dispose](): void {
    if (this.isDisposed) return
    this.isDisposed = true
    for (const [name, handler] of this.subscriptions) unsubscribe(name, handler)
    this.subscriptions.length = 0
    for (const [instrument, callback] of this.gauges) {
      try {
        instrument.removeCallback(callback)
      } catch {
        // A meter that throws here cannot make dispose throw.
      }
    }
    this.gauges.length = 0
    this.pools.clear()
  }

  private spec(name: string): InstrumentSpec {
    return INSTRUMENTS.find((i) => i.name === name)!
  }

  /** Subscribes `handle` to `channel`; a handler that throws (a broken exporter) never reaches the publisher. */
  private on<M>(channel: string, handle: (message: M) => void): void {
    const handler: Handler = (message) => {
      try {
        handle(message as M)
      } catch {
        // Telemetry must not break the code it observes; the publisher would rethrow it as an uncaught exception.
      }
    }
    hold(channel)
    subscribe(channel, handler)
    this.subscriptions.push([channel, handler])
  }

  private lockAttributes(name: string | undefined, kind: string | undefined): Attributes {
    return this.lockSets.get(name, kind)
  }

  private cacheAttributes(name: string | undefined): Attributes {
    return this.cacheSets.get(name)
  }

  private trackPool(m: DetachedPoolMessage): void {
    this.poolNames.add(m.pool)
    if (m.queued === 0 && m.running === 0) {
      this.pools.delete(m.source)
      return
    }
    const state = this.pools.get(m.source)
    if (state === undefined) this.pools.set(m.source, { name: m.pool, queued: m.queued, running: m.running })
    else {
      state.queued = m.queued
      state.running = m.running
    }
  }

  private observePools(result: ObservableResult, read: (pool: PoolState) => number): void {
    const sums = new Map<string | undefined, number>()
    for (const name of this.poolNames) sums.set(name, 0)
    for (const pool of this.pools.values()) sums.set(pool.name, (sums.get(pool.name) ?? 0) + read(pool))
    for (const [name, value] of sums) result.observe(value, this.poolSets.get(name))
  }
}

/**
 * Turns asyncsafe's diagnostics_channel events into OpenTelemetry metrics and spans, until
 * disposed. Nothing is subscribed before the call and nothing stays subscribed after
 * dispose; the library publishes an event only while someone subscribes to it, so without
 * a bridge (or another subscriber) the events cost one `hasSubscribers` read each.
 *
 * What is recorded (see `INSTRUMENTS` and the README for units and attributes):
 * - locks: wait and hold histograms per lock name and kind, long holds; a span per hold;
 * - cache: hits, misses, evictions by cause, loader run times; a span per loader run;
 * - tasks: DetachedPool queue depth and running tasks (gauges), task times by outcome; a
 *   span per task;
 * - every module: `asyncsafe.failures`, the failures of work nobody awaits (detached task
 *   errors, timeouts, drops and refusals; observer errors; guarded task failures...).
 *
 * Measurements are recorded synchronously in the publisher's flow (inside a lock's grant or
 * release, for example), so the active context is the caller's and spans nest under its
 * span; a provider that throws is ignored. Lock, cache and task events cover `Mutex`,
 * `RwLock`, `Semaphore`, `LruTtlCache` and `DetachedPool` (`spawnDetached` included); the
 * async-mutex adapter and `RedisMutex` publish only their long holds and failures.
 *
 * @param options providers (default: the global ones), `modules` (default: all), `spans`
 * @returns the bridge: dispose it (`using`) to unsubscribe
 * @throws TypeError / RangeError on bad options (unknown keys included); TypeError when a
 *   provider is not passed and `@opentelemetry/api` is not installed
 * @example
 * ```ts
 * import { metrics, trace } from '@opentelemetry/api'
 * import { instrument } from 'asyncsafe/otel'
 *
 * // After the SDK has registered its providers: metrics of locks, caches and pools
 * using bridge = instrument({ modules: ['locks', 'cache', 'tasks'] })
 * // ... or with explicit providers, and spans too:
 * using traced = instrument({ meterProvider: metrics.getMeterProvider(), tracerProvider: trace.getTracerProvider() })
 * ```
 */
export function instrument(options?: InstrumentOptions): OtelBridge {
  const o = checkOptions<InstrumentOptions>('options', options, OPTIONS)
  const modules = checkModules(o.modules)
  const meterProvider = checkProvider<MeterProvider>('meterProvider', o.meterProvider, 'getMeter')
  const tracerProvider = checkProvider<TracerProvider>('tracerProvider', o.tracerProvider, 'getTracer')
  const spans = checkOptionalBoolean('options.spans', o.spans) ?? tracerProvider !== undefined
  const meter = (meterProvider ?? globalMeterProvider()).getMeter('asyncsafe')
  const tracer = spans ? (tracerProvider ?? globalTracerProvider()).getTracer('asyncsafe') : undefined
  return new Bridge(meter, tracer, modules)
}
