/**
 * The runtime-neutral hooks behind asyncsafe/redis, with in-memory stand-ins: the cache's
 * `invalidation` option (cause 'invalidated': counted, notified once, loads detached,
 * reset clears) and the `coordinator` option of getOrLoad and SingleFlightGroup.
 */
import { describe, expect, it } from 'vitest'
import { LruTtlCache } from '../../src/cache/LruTtlCache.js'
import type { InvalidationChannel, InvalidationEvent, InvalidationHandlers } from '../../src/cache/invalidation.js'
import { SingleFlightGroup } from '../../src/tasks/SingleFlightGroup.js'
import type { FlightCoordinator } from '../../src/tasks/coordinator.js'
import { deferred, expectNoUnhandledRejections } from '../helpers.js'

expectNoUnhandledRejections()

/** An in-memory bus: every member but the publisher receives; `reset()` resets everyone. */
class MemoryChannel<K> implements InvalidationChannel<K> {
  readonly members = new Set<{ handlers: InvalidationHandlers<K> }>()
  readonly sent: InvalidationEvent<K>[] = []
  join(handlers: InvalidationHandlers<K>) {
    const member = { handlers }
    this.members.add(member)
    return {
      publish: (event: InvalidationEvent<K>) => {
        this.sent.push(event)
        for (const m of this.members) if (m !== member) m.handlers.onRemote(event)
      },
      [Symbol.dispose]: () => {
        this.members.delete(member)
      },
    }
  }
  reset(): void {
    for (const m of this.members) m.handlers.onReset()
  }
}

describe('LruTtlCache invalidation option', () => {
  it('set, delete and clear on one cache evict the key on the others, cause "invalidated", once each', async () => {
    const channel = new MemoryChannel<string>()
    const seenA: string[] = []
    const seenB: string[] = []
    await using a = new LruTtlCache<string, number>({ capacity: 10, invalidation: channel, onEvict: ({ key, cause }) => void seenA.push(`${key}:${cause}`) })
    await using b = new LruTtlCache<string, number>({ capacity: 10, invalidation: channel, onEvict: ({ key, cause }) => void seenB.push(`${key}:${cause}`) })
    await b.set('x', 1)
    await b.set('y', 2)
    expect(seenA).toEqual([])
    await a.set('x', 10) // announced: b drops its x
    await b.settled()
    expect(b.has('x')).toBe(false)
    expect(a.get('x')).toBe(10) // never invalidates itself
    await a.delete('y') // a has no y, still announced
    await b.settled()
    expect(b.has('y')).toBe(false)
    await b.set('z', 3)
    await a.clear()
    await b.settled()
    expect(b.size).toBe(0)
    expect(seenB).toEqual(['x:invalidated', 'y:invalidated', 'z:invalidated'])
    expect(b.stats().evictions).toMatchObject({ invalidated: 3, deleted: 0, cleared: 0 })
    expect(channel.sent).toEqual([
      { type: 'key', key: 'x' },
      { type: 'key', key: 'y' },
      { type: 'key', key: 'x' },
      { type: 'key', key: 'y' },
      { type: 'key', key: 'z' },
      { type: 'clear' },
    ])
  })

  it('a remote change detaches a load in flight (its callers get the value, it is not stored)', async () => {
    const channel = new MemoryChannel<string>()
    await using a = new LruTtlCache<string, number>({ capacity: 10, invalidation: channel })
    await using b = new LruTtlCache<string, number>({ capacity: 10, invalidation: channel })
    const gate = deferred<number>()
    const loading = b.getOrLoad('k', () => gate.promise)
    await a.delete('k')
    gate.resolve(5)
    expect(await loading).toBe(5)
    expect(b.has('k')).toBe(false)
  })

  it('a reset of the channel removes every entry as "invalidated"; dispose leaves the channel', async () => {
    const channel = new MemoryChannel<string>()
    const b = new LruTtlCache<string, number>({ capacity: 10, invalidation: channel })
    await b.set('p', 1)
    await b.set('q', 2)
    channel.reset()
    expect(b.size).toBe(0)
    expect(b.stats().evictions.invalidated).toBe(2)
    await b[Symbol.asyncDispose]()
    expect(channel.members.size).toBe(0)
  })

  it('loaded values are not announced; a bad channel is refused', async () => {
    const channel = new MemoryChannel<string>()
    await using a = new LruTtlCache<string, number>({ capacity: 10, invalidation: channel })
    await a.getOrLoad('k', () => 1)
    expect(channel.sent).toEqual([])
    expect(() => new LruTtlCache({ capacity: 1, invalidation: {} as never })).toThrow(TypeError)
  })
})

describe('coordinator option', () => {
  /** Runs fn locally, recording the keys and handing the run's signal through. */
  function recording(): FlightCoordinator<string> & { calls: string[]; signals: AbortSignal[] } {
    const calls: string[] = []
    const signals: AbortSignal[] = []
    return {
      calls,
      signals,
      run: async (key, fn, signal) => {
        calls.push(key)
        signals.push(signal)
        return fn(signal)
      },
    }
  }

  it('getOrLoad runs its loader through coordinator.run, once per key in flight, and stores the value', async () => {
    const coordinator = recording()
    await using cache = new LruTtlCache<string, number>({ capacity: 10, coordinator })
    const [x, y] = await Promise.all([cache.getOrLoad('k', async () => 7), cache.getOrLoad('k', async () => 8)])
    expect([x, y]).toEqual([7, 7])
    expect(coordinator.calls).toEqual(['k'])
    expect(cache.get('k')).toBe(7)
  })

  it('the signal given to the coordinator aborts when every caller left', async () => {
    const coordinator = recording()
    await using cache = new LruTtlCache<string, number>({ capacity: 10, coordinator })
    const controller = new AbortController()
    const pending = cache.getOrLoad('k', (_, { signal }) => new Promise((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason))), { signal: controller.signal })
    controller.abort(new Error('left'))
    await expect(pending).rejects.toThrow('left')
    expect(coordinator.signals[0]!.aborted).toBe(true)
  })

  it('SingleFlightGroup runs through coordinator.run; failures reach every caller', async () => {
    const coordinator = recording()
    using flights = new SingleFlightGroup<string, number>({ coordinator })
    const fail = () => Promise.reject(new Error('down'))
    const results = await Promise.allSettled([flights.run('a', fail), flights.run('a', fail)])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(coordinator.calls).toEqual(['a'])
    expect(await flights.run('b', () => 2)).toBe(2)
    expect(() => new SingleFlightGroup({ coordinator: {} as never })).toThrow(TypeError)
  })
})
