import { channel } from 'node:diagnostics_channel'
import { describe, expect, it } from 'vitest'
import { KeyedMutex, Mutex, RwLock, Semaphore } from '../../src/locks/index.js'
import { instrument } from '../../src/otel/index.js'
import { FakeMeterProvider, FakeTracerProvider } from './fake-otel.js'

const MUTEX = { 'asyncsafe.lock.name': 'config', 'asyncsafe.lock.kind': 'Mutex' }

describe('asyncsafe/otel: locks', () => {
  it('records the exact wait and hold of a contended Mutex on its injected clock', async () => {
    const meterProvider = new FakeMeterProvider()
    using _bridge = instrument({ meterProvider, modules: ['locks'] })
    const meter = meterProvider.meter
    let t = 100
    const m = new Mutex({ name: 'config', clock: () => t })
    const first = await m.lock() // granted at 100, wait 0
    t = 102
    const second = m.lock() // queued at 102
    t = 105
    first.release() // hold 5; hands off at 105: wait 3
    const g2 = await second
    t = 112
    g2.release() // hold 7
    t = 120
    await m.runExclusive(() => {
      t = 124 // a synchronous fn: hold 4
    })
    expect(meter.of('asyncsafe.lock.wait')).toEqual([
      [0, MUTEX],
      [3, MUTEX],
      [0, MUTEX],
    ])
    expect(meter.of('asyncsafe.lock.hold')).toEqual([
      [5, MUTEX],
      [7, MUTEX],
      [4, MUTEX],
    ])
    // The same values the lock's own statistics hold.
    const stats = m.stats()
    expect([stats.wait.count, stats.wait.max, stats.hold.count, stats.hold.mean]).toEqual([3, 3, 3, 16 / 3])
  })

  it('records keyed locks too (kind KeyedMutex), one wait and one hold per key, and nothing for stats: false', async () => {
    const meterProvider = new FakeMeterProvider()
    using _bridge = instrument({ meterProvider, modules: ['locks'] })
    const meter = meterProvider.meter
    let t = 0
    const keyed = new KeyedMutex<string>({ name: 'sessions', clock: () => t })
    const KEYED = { 'asyncsafe.lock.name': 'sessions', 'asyncsafe.lock.kind': 'KeyedMutex' }
    const g = await keyed.lock(['a', 'b'])
    t = 4
    g.release()
    expect(meter.of('asyncsafe.lock.wait')).toEqual([
      [0, KEYED],
      [0, KEYED],
    ])
    expect(meter.of('asyncsafe.lock.hold')).toEqual([
      [4, KEYED],
      [4, KEYED],
    ])
    const bare = new Mutex({ name: 'bare', stats: false })
    await bare.runExclusive(() => 1)
    ;(await bare.lock()).release()
    expect(meter.of('asyncsafe.lock.wait')).toHaveLength(2)
  })

  it('creates exactly the lock instruments and the failure counter, with units and buckets', () => {
    const meterProvider = new FakeMeterProvider()
    using bridge = instrument({ meterProvider, modules: ['locks'] })
    expect(meterProvider.meter.meterName).toBe('asyncsafe')
    expect(meterProvider.meter.created.map((c) => [c.name, c.kind, c.options?.unit])).toEqual([
      ['asyncsafe.failures', 'counter', '{failure}'],
      ['asyncsafe.lock.long_holds', 'counter', '{hold}'],
      ['asyncsafe.lock.wait', 'histogram', 'ms'],
      ['asyncsafe.lock.hold', 'histogram', 'ms'],
    ])
    const wait = meterProvider.meter.created.find((c) => c.name === 'asyncsafe.lock.wait')!
    expect(wait.options?.advice?.explicitBucketBoundaries?.[1]).toBe(0.01)
    expect(bridge.instruments.map((i) => i.name).sort()).toEqual(meterProvider.meter.created.map((c) => c.name).sort())
    expect(bridge.channels).toEqual(['asyncsafe:lock:long-hold', 'asyncsafe:lock:acquire', 'asyncsafe:lock:release', 'asyncsafe:lock:long-hold-callback-error'])
  })

  it('names RwLock and Semaphore by kind; an unnamed lock has no name attribute', async () => {
    const meterProvider = new FakeMeterProvider()
    using _bridge = instrument({ meterProvider, modules: ['locks'] })
    const rw = new RwLock({ name: 'table', clock: () => 0 })
    const sem = new Semaphore(2, { clock: () => 0 })
    await rw.runRead(() => undefined)
    await rw.runWrite(() => undefined)
    await sem.run(() => undefined)
    expect(meterProvider.meter.of('asyncsafe.lock.hold').map(([, a]) => a)).toEqual([
      { 'asyncsafe.lock.name': 'table', 'asyncsafe.lock.kind': 'RwLock' },
      { 'asyncsafe.lock.name': 'table', 'asyncsafe.lock.kind': 'RwLock' },
      { 'asyncsafe.lock.kind': 'Semaphore' },
    ])
  })

  it('counts long holds', async () => {
    const meterProvider = new FakeMeterProvider()
    using _bridge = instrument({ meterProvider, modules: ['locks'] })
    const m = new Mutex({ name: 'slow', longHoldMs: 5, onLongHold: () => {} })
    using _guard = await m.lock()
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(meterProvider.meter.of('asyncsafe.lock.long_holds')).toEqual([[1, { 'asyncsafe.lock.name': 'slow' }]])
  })

  it('records a span per hold, lasting the hold, only with spans on', async () => {
    const meterProvider = new FakeMeterProvider()
    const tracerProvider = new FakeTracerProvider()
    let t = 0
    const m = new Mutex({ name: 'config', clock: () => t })
    {
      using bridge = instrument({ meterProvider, tracerProvider, modules: ['locks'] })
      expect(bridge.spans).toBe(true)
      const g = await m.lock()
      t = 40
      g.release()
    }
    expect(tracerProvider.tracers.map((x) => x.name)).toEqual(['asyncsafe'])
    const [span, ...rest] = tracerProvider.tracer.spans
    expect(rest).toEqual([])
    expect(span!.name).toBe('asyncsafe.lock.hold')
    expect(span!.attributes).toEqual(MUTEX)
    expect(span!.durationMs).toBeCloseTo(40, 6)
    expect(span!.ended).toBe(1)
    expect(span!.status.code).toBe(0)
    // Without a tracerProvider spans are off by default.
    using quiet = instrument({ meterProvider: new FakeMeterProvider(), modules: ['locks'] })
    expect(quiet.spans).toBe(false)
  })

  it('dispose unsubscribes every channel: the lock publishes nothing more', async () => {
    const meterProvider = new FakeMeterProvider()
    const bridge = instrument({ meterProvider, modules: ['locks'] })
    const names = bridge.channels
    expect(names.every((n) => channel(n).hasSubscribers)).toBe(true)
    bridge[Symbol.dispose]()
    bridge[Symbol.dispose]()
    expect(bridge.disposed).toBe(true)
    expect(bridge.channels).toEqual([])
    expect(names.filter((n) => channel(n).hasSubscribers)).toEqual([])
    await new Mutex().runExclusive(() => undefined)
    expect(meterProvider.meter.measurements).toEqual([])
  })
})
