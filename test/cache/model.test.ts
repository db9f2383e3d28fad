/**
 * Model-based tests: random command sequences run against LruTtlCache and against a
 * plain reference model (an array in recency order, most recently used first), with an
 * injected clock for TTLs and observers whose completion order is chosen by
 * `fc.scheduler()`. After every command: contents, recency order, size <= capacity and
 * stats match; at the end, the multiset of (key, cause) notifications matches, each
 * key's notifications to an observer arrived in removal order, and the concurrency
 * bound held.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { LruTtlCache, type EvictionCause } from '../../src/cache/index.js'
import { expectNoUnhandledRejections } from '../helpers.js'

expectNoUnhandledRejections()

type Key = 'a' | 'b' | 'c' | 'd' | 'e'
const KEYS: Key[] = ['a', 'b', 'c', 'd', 'e']

interface ModelEntry {
  key: Key
  value: number
  exp: number
}

interface Model {
  capacity: number
  defaultTtl: number | undefined
  now: number
  entries: ModelEntry[] // most recently used first
  removals: [Key, EvictionCause][]
  hits: number
  misses: number
  loads: number
}

interface Real {
  cache: LruTtlCache<Key, number>
  clock: { t: number }
  started: [Key, EvictionCause][]
  running: number
  maxRunning: number
  promises: Promise<unknown>[]
}

function modelFind(m: Model, key: Key): number {
  return m.entries.findIndex((e) => e.key === key)
}

function modelRemove(m: Model, index: number, cause: EvictionCause): void {
  const [e] = m.entries.splice(index, 1)
  const expired = e!.exp < m.now
  m.removals.push([e!.key, expired ? 'expired' : cause])
}

/** Looks a key up like get/has/peek: an expired entry is removed and notified. */
function modelLive(m: Model, key: Key): number {
  const i = modelFind(m, key)
  if (i === -1) return -1
  if (m.entries[i]!.exp < m.now) {
    modelRemove(m, i, 'expired')
    return -1
  }
  return i
}

function check(m: Model, r: Real): void {
  expect(r.cache.size).toBe(m.entries.length)
  expect(r.cache.size).toBeLessThanOrEqual(m.capacity)
  const s = r.cache.stats()
  expect({ hits: s.hits, misses: s.misses }).toEqual({ hits: m.hits, misses: m.misses })
  const counts: Record<EvictionCause, number> = { evicted: 0, expired: 0, deleted: 0, replaced: 0, cleared: 0 }
  for (const [, cause] of m.removals) counts[cause]++
  expect(s.evictions).toEqual(counts)
}

class SetCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly key: Key,
    readonly value: number,
    readonly ttl: number | undefined,
  ) {}
  check = (): boolean => true
  applyToModel(m: Model): void {
    const ttl = this.ttl ?? m.defaultTtl
    const exp = ttl === undefined ? Infinity : m.now + ttl
    const i = modelFind(m, this.key)
    if (i !== -1) {
      const old = m.entries[i]!
      m.entries.splice(i, 1)
      if (old.exp < m.now) m.removals.push([old.key, 'expired'])
      else if (!Object.is(old.value, this.value)) m.removals.push([old.key, 'replaced'])
    } else if (m.entries.length === m.capacity) {
      modelRemove(m, m.entries.length - 1, 'evicted')
    }
    m.entries.unshift({ key: this.key, value: this.value, exp })
  }
  async run(m: Model, r: Real): Promise<void> {
    this.applyToModel(m)
    r.promises.push(r.cache.set(this.key, this.value, this.ttl === undefined ? undefined : { ttlMs: this.ttl }))
    check(m, r)
  }
  toString = (): string => `set(${this.key}, ${this.value}${this.ttl === undefined ? '' : `, ttl ${this.ttl}`})`
}

class GetCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: Key) {}
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    const i = modelLive(m, this.key)
    let expected: number | undefined
    if (i === -1) {
      m.misses++
    } else {
      m.hits++
      const [e] = m.entries.splice(i, 1)
      m.entries.unshift(e!)
      expected = e!.value
    }
    expect(r.cache.get(this.key)).toBe(expected)
    check(m, r)
  }
  toString = (): string => `get(${this.key})`
}

/** getOrLoad with a synchronous loader: a hit, or a miss that loads and stores at once. */
class GetOrLoadCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly key: Key,
    readonly value: number,
  ) {}
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    const i = modelLive(m, this.key)
    let expected: number
    if (i === -1) {
      m.misses++
      m.loads++
      new SetCommand(this.key, this.value, undefined).applyToModel(m)
      expected = this.value
    } else {
      m.hits++
      const [e] = m.entries.splice(i, 1)
      m.entries.unshift(e!)
      expected = e!.value
    }
    const p = r.cache.getOrLoad(this.key, () => this.value)
    check(m, r)
    expect(r.cache.stats().loads).toBe(m.loads)
    expect(await p).toBe(expected)
  }
  toString = (): string => `getOrLoad(${this.key}, () => ${this.value})`
}

class PeekCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly key: Key,
    readonly useHas: boolean,
  ) {}
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    const i = modelLive(m, this.key)
    if (this.useHas) expect(r.cache.has(this.key)).toBe(i !== -1)
    else expect(r.cache.peek(this.key)).toBe(i === -1 ? undefined : m.entries[i]!.value)
    check(m, r)
  }
  toString = (): string => `${this.useHas ? 'has' : 'peek'}(${this.key})`
}

class DeleteCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: Key) {}
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    const i = modelFind(m, this.key)
    let expected = false
    if (i !== -1) {
      expected = m.entries[i]!.exp >= m.now
      modelRemove(m, i, 'deleted')
    }
    const p = r.cache.delete(this.key)
    r.promises.push(p.then((removed) => expect(removed).toBe(expected)))
    check(m, r)
  }
  toString = (): string => `delete(${this.key})`
}

class AdvanceCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    m.now += this.ms
    r.clock.t += this.ms
    check(m, r)
  }
  toString = (): string => `advance(${this.ms})`
}

class PruneCommand implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    let n = 0
    // The cache prunes least recently used first; the multiset is what we compare.
    for (let i = m.entries.length - 1; i >= 0; i--) {
      if (m.entries[i]!.exp < m.now) {
        modelRemove(m, i, 'expired')
        n++
      }
    }
    r.promises.push(r.cache.pruneExpired().then((removed) => expect(removed).toBe(n)))
    check(m, r)
  }
  toString = (): string => 'pruneExpired()'
}

class ClearCommand implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    while (m.entries.length > 0) modelRemove(m, m.entries.length - 1, 'cleared')
    r.promises.push(r.cache.clear())
    check(m, r)
  }
  toString = (): string => 'clear()'
}

class KeysCommand implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    for (let i = 0; i < m.entries.length; ) {
      if (m.entries[i]!.exp < m.now) modelRemove(m, i, 'expired')
      else i++
    }
    expect(r.cache.entries()).toEqual(m.entries.map((e) => [e.key, e.value]))
    check(m, r)
  }
  toString = (): string => 'entries()'
}

const key = fc.constantFrom(...KEYS)
const setCommand = fc
  .tuple(key, fc.integer({ min: 0, max: 3 }), fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }))
  .map(([k, v, t]) => new SetCommand(k, v, t))
const getCommand = key.map((k) => new GetCommand(k))
const advanceCommand = fc.integer({ min: 0, max: 15 }).map((ms) => new AdvanceCommand(ms))
// Sets, gets and clock moves are repeated to weight them: they drive evictions and expiries.
const commands = fc.commands(
  [
    setCommand,
    setCommand,
    setCommand,
    setCommand,
    getCommand,
    getCommand,
    fc.tuple(key, fc.integer({ min: 0, max: 3 })).map(([k, v]) => new GetOrLoadCommand(k, v)),
    advanceCommand,
    fc.tuple(key, fc.boolean()).map(([k, h]) => new PeekCommand(k, h)),
    key.map((k) => new DeleteCommand(k)),
    fc.constant(new PruneCommand()),
    fc.constant(new ClearCommand()),
    fc.constant(new KeysCommand()),
  ],
  { maxCommands: 60, size: 'large' },
)

function sortPairs(pairs: [Key, EvictionCause][]): string[] {
  return pairs.map(([k, c]) => `${k}:${c}`).sort()
}

function perKey(pairs: [Key, EvictionCause][]): Map<Key, EvictionCause[]> {
  const out = new Map<Key, EvictionCause[]>()
  for (const [k, c] of pairs) {
    const list = out.get(k) ?? []
    list.push(c)
    out.set(k, list)
  }
  return out
}

describe('LruTtlCache against a reference model', () => {
  it('matches contents, recency, size, stats and notifications under scheduled observers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 4 }),
        fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
        fc.integer({ min: 1, max: 3 }),
        commands,
        async (s, capacity, defaultTtl, concurrency, cmds) => {
          const clock = { t: 0 }
          const real: Real = { cache: undefined as never, clock, started: [], running: 0, maxRunning: 0, promises: [] }
          real.cache = new LruTtlCache<Key, number>({
            capacity,
            ttlMs: defaultTtl,
            clock: () => clock.t,
            notifyConcurrency: concurrency,
            notifyTimeoutMs: Infinity,
            onEvict: async ({ key: k, cause }) => {
              real.started.push([k, cause])
              real.running++
              real.maxRunning = Math.max(real.maxRunning, real.running)
              try {
                await s.schedule(Promise.resolve(), `observer ${k}:${cause}`)
              } finally {
                real.running--
              }
            },
          })
          const model: Model = { capacity, defaultTtl, now: 0, entries: [], removals: [], hits: 0, misses: 0, loads: 0 }
          await fc.asyncModelRun(() => ({ model, real }), cmds)
          // Observers start in microtasks as slots free up: release scheduled tasks until none is pending.
          while (real.cache.stats().pendingNotifications > 0) {
            if (s.count() > 0) await s.waitNext(1)
            else await new Promise((resolve) => setImmediate(resolve))
          }
          await Promise.all(real.promises)
          await real.cache.settled()
          expect(sortPairs(real.started)).toEqual(sortPairs(model.removals))
          // Each key's notifications reached the observer in removal order.
          expect(perKey(real.started)).toEqual(perKey(model.removals))
          expect(real.maxRunning).toBeLessThanOrEqual(concurrency)
          expect(real.cache.stats().pendingNotifications).toBe(0)
        },
      ),
      { numRuns: 150 },
    )
  })
})
