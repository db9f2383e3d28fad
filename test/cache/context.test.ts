/**
 * The async context that recognises nested notifications is switched off once every
 * dispatcher is idle (promise hooks cost the whole process), but not between the calls
 * of a loop of awaited sets, which would pay an enable/disable per call.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { describe, expect, it, vi } from 'vitest'
import { LruTtlCache } from '../../src/cache/index.js'
import { expectNoUnhandledRejections, flushMicrotasks } from '../helpers.js'

expectNoUnhandledRejections()

describe('async context of the notification dispatcher', () => {
  it('is disabled once after a loop of awaited sets, not once per set', async () => {
    const disable = vi.spyOn(AsyncLocalStorage.prototype, 'disable')
    try {
      const seen: number[] = []
      const cache = new LruTtlCache<number, number>({ capacity: 1, onEvict: ({ value }) => void seen.push(value) })
      await cache.set(0, 0)
      await flushMicrotasks()
      disable.mockClear()
      for (let i = 1; i <= 10; i++) await cache.set(i, i) // each evicts the previous one
      expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      await flushMicrotasks()
      expect(disable).toHaveBeenCalledTimes(1)
      await cache[Symbol.asyncDispose]()
      await flushMicrotasks()
      expect(disable).toHaveBeenCalledTimes(2)
    } finally {
      disable.mockRestore()
    }
  })
})
