/**
 * settled() and asyncDispose awaited inside an observer wait only for what can settle
 * without that observer (no deadlock with a bound of 1 and no timeout), and a disposed
 * cache refuses to store.
 */
import { describe, expect, it, vi } from 'vitest'
import { LruTtlCache } from '../../src/cache/index.js'
import { DisposedError } from '../../src/errors.js'
import { deferred, expectNoUnhandledRejections, flushMicrotasks } from '../helpers.js'

expectNoUnhandledRejections()

describe('waiting from inside an observer', () => {
  it.each(['settled', 'asyncDispose'] as const)('%s with a bound of 1 does not wait for calls queued behind the caller', async (how) => {
    const log: string[] = []
    const cache: LruTtlCache<string, number> = new LruTtlCache<string, number>({
      capacity: 10,
      notifyConcurrency: 1,
      notifyTimeoutMs: Infinity,
      onEvict: async ({ key, cause }) => {
        log.push(`start ${key} ${cause}`)
        if (key === 'a' && cause === 'deleted') {
          await (how === 'settled' ? cache.settled() : cache[Symbol.asyncDispose]())
          log.push('a waited')
        }
        log.push(`end ${key} ${cause}`)
      },
    })
    void cache.set('a', 1)
    void cache.set('b', 2)
    void cache.delete('a') // runs first and holds the only slot
    void cache.delete('b') // queued: needs that slot
    let outsideSettled = false
    void cache.settled().then(() => (outsideSettled = true))
    await flushMicrotasks()
    expect(log.slice(0, 4)).toEqual(['start a deleted', 'a waited', 'end a deleted', 'start b deleted'])
    expect(outsideSettled).toBe(true)
    if (how === 'asyncDispose') {
      expect(cache.size).toBe(0)
      await expect(cache.set('c', 3)).rejects.toBeInstanceOf(DisposedError)
    }
    expect(cache.stats()).toMatchObject({ pendingNotifications: 0, observerTimeouts: 0 })
  })

  it('still waits for a call running in another slot', async () => {
    const gate = deferred()
    const log: string[] = []
    const cache: LruTtlCache<string, number> = new LruTtlCache<string, number>({
      capacity: 10,
      notifyConcurrency: 2,
      notifyTimeoutMs: Infinity,
      onEvict: async ({ key }) => {
        if (key === 'b') await gate.promise
        if (key === 'a') {
          await cache.settled()
          log.push('a waited')
        }
        log.push(`end ${key}`)
      },
    })
    void cache.set('a', 1)
    void cache.set('b', 2)
    void cache.delete('b') // holds slot 1 until the gate opens
    void cache.delete('a') // slot 2: waits for b
    await flushMicrotasks()
    expect(log).toEqual([])
    gate.resolve()
    await cache.settled()
    expect(log).toEqual(['end b', 'a waited', 'end a'])
  })

  it('asyncDispose awaited by an observer after the owner disposed does not wait for that observer', async () => {
    vi.useFakeTimers()
    let waited = false
    const cache: LruTtlCache<string, number> = new LruTtlCache<string, number>({
      capacity: 10,
      notifyConcurrency: 1,
      notifyTimeoutMs: 60_000,
      onEvict: async () => {
        await cache[Symbol.asyncDispose]()
        waited = true
      },
    })
    void cache.set('a', 1)
    const disposing = cache[Symbol.asyncDispose]()
    await flushMicrotasks()
    expect(waited).toBe(true)
    await disposing
    expect(cache.stats()).toMatchObject({ pendingNotifications: 0, observerTimeouts: 0 })
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('a disposed cache', () => {
  it('refuses set and getOrLoad, stores nothing, and still answers reads', async () => {
    const cache = new LruTtlCache<string, number>({ capacity: 10 })
    await cache.set('a', 1)
    cache[Symbol.dispose]()
    const loader = vi.fn(() => 2)
    await expect(cache.set('a', 3)).rejects.toBeInstanceOf(DisposedError)
    await expect(cache.getOrLoad('a', loader)).rejects.toBeInstanceOf(DisposedError)
    expect(loader).not.toHaveBeenCalled()
    expect(cache.get('a')).toBeUndefined()
    expect(cache.has('a')).toBe(false)
    expect(cache.peek('a')).toBeUndefined()
    expect(cache.size).toBe(0)
    expect(await cache.delete('a')).toBe(false)
    await cache.clear()
    await cache[Symbol.asyncDispose]()
  })

  it('does not store a load that settles after the dispose', async () => {
    const load = deferred<number>()
    const cache = new LruTtlCache<string, number>({ capacity: 10 })
    const p = cache.getOrLoad('a', () => load.promise)
    cache[Symbol.dispose]()
    load.resolve(1)
    await expect(p).rejects.toBeInstanceOf(DisposedError)
    expect(cache.size).toBe(0)
  })
})
