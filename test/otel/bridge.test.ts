import { channel } from 'node:diagnostics_channel'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Mutex } from '../../src/locks/index.js'
import { LruTtlCache } from '../../src/cache/index.js'
import { DetachedPool } from '../../src/tasks/index.js'
import { INSTRUMENTED_MODULES, INSTRUMENTS, instrument } from '../../src/otel/index.js'
import * as catalog from '../../src/internal/channels.js'
import { FAILURE_CHANNELS, failureChannelName } from '../../src/otel/channels.js'
import { FakeMeterProvider } from './fake-otel.js'

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? (f === 'eslint' ? [] : sources(p)) : p.endsWith('.ts') ? [p] : []
  })
}

describe('asyncsafe/otel: the bridge', () => {
  it('subscribes to every channel the library publishes, and dispose leaves none subscribed', async () => {
    const meterProvider = new FakeMeterProvider()
    const bridge = instrument({ meterProvider })
    expect(bridge.modules).toEqual(INSTRUMENTED_MODULES)
    expect(bridge.instruments).toEqual(INSTRUMENTS)
    expect(meterProvider.meter.created.map((c) => c.name).sort()).toEqual(INSTRUMENTS.map((i) => i.name).sort())
    const events: string[] = Object.values(catalog as Record<string, unknown>).filter((v): v is string => typeof v === 'string')
    expect(events.length).toBe(9)
    const failures = Object.values(FAILURE_CHANNELS).flat().map(failureChannelName)
    const all = [...events, ...failures, 'asyncsafe:lock:long-hold', 'asyncsafe:redis:long-hold', 'asyncsafe:node:stall']
    expect([...bridge.channels].sort()).toEqual([...new Set(all)].sort())
    expect(all.filter((n) => !channel(n).hasSubscribers)).toEqual([])
    bridge[Symbol.dispose]()
    expect(all.filter((n) => channel(n).hasSubscribers)).toEqual([])
    // Nothing is recorded once disposed.
    await new Mutex({ name: 'm' }).runExclusive(() => undefined)
    new LruTtlCache<string, number>({ capacity: 1 }).get('x')
    const pool = new DetachedPool()
    pool.run(() => undefined)
    await pool.drain()
    expect(meterProvider.meter.measurements).toEqual([])
    expect(meterProvider.meter.collect('asyncsafe.detached.queued')).toEqual([])
  })

  it('lists every failure the library reports (each reportError area and event in src)', () => {
    const reported = new Set<string>()
    for (const file of sources(join(import.meta.dirname, '../../src'))) {
      const text = readFileSync(file, 'utf8')
      for (const m of text.matchAll(/area: '([\w-]+)',\s*event: '([\w-]+)'/g)) reported.add(`asyncsafe:${m[1]}:${m[2]}`)
      // DetachedPool passes its event through a typed parameter.
      const union = /private report\(job: Job, event: ([^,]+),/.exec(text)
      if (union !== null) for (const e of union[1]!.matchAll(/'([\w-]+)'/g)) reported.add(`asyncsafe:detached:${e[1]}`)
    }
    const listed = Object.values(FAILURE_CHANNELS).flat().map(failureChannelName)
    expect([...reported].sort()).toEqual([...listed].sort())
  })

  it('keeps modules apart: a module not listed is not subscribed', () => {
    using bridge = instrument({ meterProvider: new FakeMeterProvider(), modules: ['cache'] })
    expect(bridge.channels.filter((n) => !n.startsWith('asyncsafe:cache:'))).toEqual([])
    expect(channel(catalog.LOCK_RELEASE).hasSubscribers).toBe(false)
  })

  it('two bridges are independent: disposing one leaves the other subscribed', async () => {
    const a = new FakeMeterProvider()
    const b = new FakeMeterProvider()
    using _first = instrument({ meterProvider: a, modules: ['locks'] })
    {
      using _second = instrument({ meterProvider: b, modules: ['locks'] })
    }
    await new Mutex({ name: 'x', clock: () => 0 }).runExclusive(() => undefined)
    expect(a.meter.values('asyncsafe.lock.hold')).toEqual([0])
    expect(b.meter.values('asyncsafe.lock.hold')).toEqual([])
  })

  it('a provider whose instruments throw never reaches the library', async () => {
    const meterProvider = new FakeMeterProvider()
    using _bridge = instrument({ meterProvider, modules: ['locks'] })
    meterProvider.meter.measurements.push = () => {
      throw new Error('exporter down')
    }
    const m = new Mutex()
    await expect(m.runExclusive(() => 7)).resolves.toBe(7)
    expect(m.stats().acquisitions).toBe(1)
  })

  it('uses the global providers by default (the API no-op ones without an SDK)', () => {
    using bridge = instrument()
    expect(bridge.spans).toBe(false)
    using traced = instrument({ spans: true, modules: ['locks'] })
    expect(traced.spans).toBe(true)
  })

  it('refuses bad options at once', () => {
    expect(() => instrument({ meterProvder: new FakeMeterProvider() } as never)).toThrow(/has no option "meterProvder" \(did you mean "meterProvider"\?\)/)
    expect(() => instrument({ modules: 'locks' } as never)).toThrow(TypeError)
    expect(() => instrument({ modules: [] })).toThrow(RangeError)
    expect(() => instrument({ modules: ['lock'] } as never)).toThrow(/received "lock"/)
    expect(() => instrument({ meterProvider: {} } as never)).toThrow(/MeterProvider/)
    expect(() => instrument({ tracerProvider: 1 } as never)).toThrow(/TracerProvider/)
    expect(() => instrument({ spans: 'yes' } as never)).toThrow(TypeError)
    expect(() => instrument(null as never)).toThrow(TypeError)
  })
})
