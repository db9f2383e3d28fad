import { describe, expect, it } from 'vitest'
import { LruTtlCache } from '../../src/cache/index.js'
import { instrument } from '../../src/otel/index.js'
import { deferred } from '../helpers.js'
import { FakeMeterProvider, FakeTracerProvider } from './fake-otel.js'

const USERS = { 'asyncsafe.cache.name': 'users' }
const cause = (c: string): string => JSON.stringify({ 'asyncsafe.cache.name': 'users', 'asyncsafe.cache.cause': c })

describe('asyncsafe/otel: cache', () => {
  it('counts hits, misses and every removal by cause', async () => {
    const meterProvider = new FakeMeterProvider()
    using _bridge = instrument({ meterProvider, modules: ['cache'] })
    const meter = meterProvider.meter
    let t = 0
    const cache = new LruTtlCache<string, number>({ capacity: 2, name: 'users', clock: () => t })
    await cache.set('a', 1)
    await cache.set('b', 2, { ttlMs: 10 })
    expect(cache.get('a')).toBe(1) // hit (a is now most recent)
    expect(cache.get('zz')).toBeUndefined() // miss
    t = 20
    expect(cache.get('b')).toBeUndefined() // miss: expired, removed
    await cache.set('c', 3)
    await cache.set('d', 4) // evicts a (least recently used)
    await cache.set('c', 30) // replaced
    await cache.delete('d') // deleted
    await cache.clear() // cleared: c
    expect(await cache.getOrLoad('e', () => 5)).toBe(5) // miss
    expect(await cache.getOrLoad('e', () => 6)).toBe(5) // hit
    expect(meter.sums('asyncsafe.cache.hits')).toEqual({ [JSON.stringify(USERS)]: 2 })
    expect(meter.sums('asyncsafe.cache.misses')).toEqual({ [JSON.stringify(USERS)]: 3 })
    expect(meter.sums('asyncsafe.cache.evictions')).toEqual({ [cause('expired')]: 1, [cause('evicted')]: 1, [cause('replaced')]: 1, [cause('deleted')]: 1, [cause('cleared')]: 1 })
    // The same numbers as the cache's own statistics.
    const stats = cache.stats()
    expect([stats.hits, stats.misses, stats.evictions]).toEqual([2, 3, { evicted: 1, expired: 1, deleted: 1, replaced: 1, cleared: 1, invalidated: 0 }])
  })

  it('records loader run times by outcome on the cache clock, with spans', async () => {
    const meterProvider = new FakeMeterProvider()
    const tracerProvider = new FakeTracerProvider()
    using _bridge = instrument({ meterProvider, tracerProvider, modules: ['cache'] })
    let t = 0
    const cache = new LruTtlCache<string, string>({ capacity: 10, name: 'users', clock: () => t })
    const gate = deferred<string>()
    const loading = cache.getOrLoad('u1', () => gate.promise)
    t = 30
    gate.resolve('ada')
    expect(await loading).toBe('ada')
    const boom = new Error('backend down')
    const failing = cache.getOrLoad('u2', async () => {
      t = 42
      throw boom
    })
    await expect(failing).rejects.toBe(boom)
    expect(meterProvider.meter.of('asyncsafe.cache.load.duration')).toEqual([
      [30, { ...USERS, 'asyncsafe.outcome': 'fulfilled' }],
      [12, { ...USERS, 'asyncsafe.outcome': 'rejected' }],
    ])
    const spans = tracerProvider.tracer.spans
    expect(spans.map((s) => [s.name, s.status.code, s.status.message])).toEqual([
      ['asyncsafe.cache.load', 0, undefined],
      ['asyncsafe.cache.load', 2, 'load rejected'],
    ])
    expect(spans[1]!.exceptions).toEqual([boom])
    expect(spans.map((s) => Math.round(s.durationMs))).toEqual([30, 12])
  })

  it('creates exactly the cache instruments', () => {
    const meterProvider = new FakeMeterProvider()
    using _bridge = instrument({ meterProvider, modules: ['cache'] })
    expect(meterProvider.meter.created.map((c) => [c.name, c.kind, c.options?.unit])).toEqual([
      ['asyncsafe.failures', 'counter', '{failure}'],
      ['asyncsafe.cache.hits', 'counter', '{hit}'],
      ['asyncsafe.cache.misses', 'counter', '{miss}'],
      ['asyncsafe.cache.evictions', 'counter', '{entry}'],
      ['asyncsafe.cache.load.duration', 'histogram', 'ms'],
    ])
  })

  it('counts observer errors as failures', async () => {
    const meterProvider = new FakeMeterProvider()
    using _bridge = instrument({ meterProvider, modules: ['cache'] })
    const cache = new LruTtlCache<string, number>({ capacity: 1, name: 'users', onError: () => {}, onEvict: () => { throw new Error('observer') } })
    await cache.set('a', 1)
    await cache.set('b', 2)
    expect(meterProvider.meter.of('asyncsafe.failures')).toEqual([[1, { 'asyncsafe.area': 'cache', 'asyncsafe.event': 'observer-error', 'asyncsafe.name': 'users' }]])
  })
})

describe('the cache events cost nothing when nobody subscribes', () => {
  it('a load reads the clock twice more only while asyncsafe:cache:load has a subscriber', async () => {
    let reads = 0
    const cache = new LruTtlCache<string, number>({ capacity: 10, clock: () => (reads++, 0) })
    const loadReads = async (key: string): Promise<number> => {
      const before = reads
      await cache.getOrLoad(key, () => 1)
      return reads - before
    }
    const quiet = await loadReads('a')
    {
      using _bridge = instrument({ meterProvider: new FakeMeterProvider(), modules: ['cache'] })
      expect(await loadReads('b')).toBe(quiet + 2)
    }
    expect(await loadReads('c')).toBe(quiet)
  })
})
