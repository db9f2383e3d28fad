import { describe, expect, it } from 'vitest'
import { isThenable } from '../../src/internal/thenable.js'
import { Flight } from '../../src/internal/flight.js'
import { DetachedPool } from '../../src/tasks/index.js'
import { spawnGuarded } from '../../src/guards/index.js'
import { Mutex } from '../../src/locks/index.js'
import { collector, expectNoUnhandledRejections, flushMicrotasks } from '../helpers.js'

expectNoUnhandledRejections()

const boom = new Error('then getter')
function hostile(): object {
  return Object.defineProperty({}, 'then', {
    get() {
      throw boom
    },
  })
}

describe('isThenable', () => {
  it('recognises thenables, rejects primitives and plain objects, never throws', () => {
    expect(isThenable(Promise.resolve())).toBe(true)
    expect(isThenable({ then() {} })).toBe(true)
    expect(isThenable(Object.assign(() => {}, { then() {} }))).toBe(true)
    for (const v of [null, undefined, 0, 'x', {}, { then: 1 }, () => {}]) expect(isThenable(v)).toBe(false)
    expect(isThenable(hostile())).toBe(true)
  })

  it('a result with a throwing then getter fails the work it came from, in every module', async () => {
    await expect(new Flight<unknown>().start(() => hostile()).join()).rejects.toBe(boom)
    await expect(new Mutex().runExclusive(() => hostile())).rejects.toBe(boom)

    const guard = spawnGuarded(() => hostile())
    await expect(guard.done).rejects.toBe(boom)
    expect(guard.state).toBe('rejected')

    const { onError, seen } = collector()
    const pool = new DetachedPool({ concurrency: 1, onError })
    pool.run(() => hostile())
    await pool.drain()
    await flushMicrotasks()
    expect(pool.stats()).toMatchObject({ failed: 1, succeeded: 0 })
    expect(seen.map((s) => s.error)).toEqual([boom])
  })
})
