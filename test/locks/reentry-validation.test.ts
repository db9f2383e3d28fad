import { describe, expect, it, vi } from 'vitest'
import { Mutex, RwLock, Semaphore } from '../../src/locks/index.js'
import { ReentrancyError, TimeoutError } from '../../src/errors.js'
import { expectNoUnhandledRejections } from '../helpers.js'

expectNoUnhandledRejections()

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('detectReentry', () => {
  it('runExclusive inside runExclusive of the same mutex rejects with a fresh ReentrancyError instead of deadlocking', async () => {
    const m = new Mutex({ name: 'persist', detectReentry: true })
    const errors: unknown[] = []
    await m.runExclusive(async () => {
      await tick()
      for (let i = 0; i < 2; i++) await m.runExclusive(() => 'never').catch((e: unknown) => errors.push(e))
      await m.lock().catch((e: unknown) => errors.push(e))
    })
    expect(errors).toHaveLength(3)
    for (const e of errors) {
      expect(e).toBeInstanceOf(ReentrancyError)
      expect((e as ReentrancyError).lockName).toBe('persist')
    }
    expect(errors[0]).not.toBe(errors[1])
    expect(m.locked).toBe(false)
    expect(m.waiting).toBe(0)
  })

  it('refuses a synchronous nested request from inside the callback', async () => {
    const m = new Mutex({ detectReentry: true })
    let inner: Promise<unknown> | undefined
    await m.runExclusive(() => {
      inner = m.runExclusive(() => 1)
    })
    await expect(inner).rejects.toBeInstanceOf(ReentrancyError)
  })

  it('a flow that holds a guard from lock() is refused after an await; after release it may lock again', async () => {
    const m = new Mutex({ detectReentry: true })
    const flow = async (): Promise<string> => {
      const g = await m.lock()
      await tick()
      const err = await m.lock().then(
        () => 'granted',
        (e: unknown) => (e as Error).name,
      )
      g.release()
      const again = await m.lock()
      again.release()
      return err
    }
    await expect(flow()).resolves.toBe('ReentrancyError')
  })

  it('flows started by the holder count as the holder', async () => {
    const m = new Mutex({ detectReentry: true })
    let childResult = ''
    await m.runExclusive(async () => {
      await new Promise<void>((resolve) => {
        // A macrotask started by the holder: it inherits the holder's async context.
        setImmediate(() => {
          m.lock().then(
            (g) => {
              childResult = 'granted'
              g.release()
              resolve()
            },
            (e: unknown) => {
              childResult = (e as Error).name
              resolve()
            },
          )
        })
      })
    })
    expect(childResult).toBe('ReentrancyError')
  })

  it('independent flows and sibling calls from one step wait normally', async () => {
    const m = new Mutex({ detectReentry: true })
    const order: number[] = []
    const handler = async (i: number): Promise<void> => {
      const g = await m.lock()
      await tick()
      order.push(i)
      g.release()
    }
    await Promise.all([1, 2, 3].map(handler))
    await Promise.all([4, 5].map((i) => m.runExclusive(async () => {
      await tick()
      order.push(i)
    })))
    expect(order).toEqual([1, 2, 3, 4, 5])
  })

  it('RwLock: a reader asking again (read or write) is refused, which catches read-while-a-writer-waits', async () => {
    const rw = new RwLock({ detectReentry: true })
    const results: string[] = []
    await rw.runRead(async () => {
      const writer = rw.write() // another flow? no: same context, refused
      await writer.then(
        () => results.push('write granted'),
        (e: unknown) => results.push((e as Error).name),
      )
      await rw.read().then(
        (g) => {
          results.push('read granted')
          g.release()
        },
        (e: unknown) => results.push((e as Error).name),
      )
    })
    expect(results).toEqual(['ReentrancyError', 'ReentrancyError'])
    expect(rw.locked).toBe(false)
  })

  it('is off by default: no detection cost, a nested request just queues', async () => {
    const m = new Mutex()
    const outer = await m.lock()
    const nested = m.lock()
    expect(m.waiting).toBe(1)
    outer.release()
    ;(await nested).release()
  })
})

describe('bad input', () => {
  it('constructors throw TypeError/RangeError naming the option and value', () => {
    expect(() => new Semaphore(0)).toThrow(RangeError)
    expect(() => new Semaphore(0)).toThrow(/permits must be a positive integer, received 0/)
    expect(() => new Semaphore(1.5)).toThrow(/received 1.5/)
    expect(() => new Semaphore('2' as unknown as number)).toThrow(TypeError)
    expect(() => new Mutex({ longHoldMs: -1 })).toThrow(/longHoldMs/)
    expect(() => new Mutex({ longHoldMs: NaN })).toThrow(RangeError)
    expect(() => new Mutex({ onLongHold: 1 as unknown as () => void })).toThrow(TypeError)
    expect(() => new Mutex({ name: 3 as unknown as string })).toThrow(/options.name/)
    expect(() => new RwLock({ detectReentry: 'yes' as unknown as boolean })).toThrow(TypeError)
    expect(() => new Mutex(null as unknown as undefined)).toThrow(TypeError)
  })

  it('promise-returning methods reject (never throw) on bad waits and callbacks', async () => {
    const m = new Mutex()
    await expect(m.lock({ timeoutMs: -1 })).rejects.toThrow(/timeoutMs must be a non-negative number of milliseconds or Infinity, received -1/)
    await expect(m.lock({ timeoutMs: NaN })).rejects.toThrow(RangeError)
    await expect(m.lock({ signal: {} as AbortSignal })).rejects.toThrow(TypeError)
    await expect(m.runExclusive(42 as unknown as () => void)).rejects.toThrow(/fn must be a function, received 42/)
    const sem = new Semaphore(2)
    await expect(sem.acquire(0)).rejects.toThrow(RangeError)
    await expect(sem.acquire(1.5)).rejects.toThrow(/received 1.5/)
    await expect(sem.acquire(Number.NaN)).rejects.toThrow(RangeError)
    await expect(sem.run(() => 1, { weight: -1 })).rejects.toThrow(RangeError)
    expect(() => sem.tryAcquire(0)).toThrow(RangeError)
    const rw = new RwLock()
    await expect(rw.runRead(undefined as unknown as () => void)).rejects.toThrow(TypeError)
    expect(m.locked || sem.available !== 2 || rw.locked).toBe(false)
  })
})

describe('edge cases', () => {
  it('a timeout longer than setTimeout can express fires after its whole duration (no 1 ms overflow, never dropped)', async () => {
    vi.useFakeTimers()
    const DAY = 86_400_000
    const m = new Mutex()
    const g = await m.lock()
    const w = m.lock({ timeoutMs: 30 * DAY })
    const failure = w.then(() => 'granted', (error: unknown) => error)
    // A raw setTimeout of 30 days would fire after 1 ms (with a TimeoutOverflowWarning).
    await vi.advanceTimersByTimeAsync(5)
    expect(m.waiting).toBe(1)
    await vi.advanceTimersByTimeAsync(30 * DAY - 6)
    expect(m.waiting).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(m.waiting).toBe(0)
    expect(await failure).toBeInstanceOf(TimeoutError)
    expect(m.stats().timeouts).toBe(1)
    // Granted before its long timeout: the step timer is disarmed with the wait.
    const w2 = m.lock({ timeoutMs: 40 * DAY })
    expect(vi.getTimerCount()).toBe(1)
    g.release()
    ;(await w2).release()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('try* from a holding context returns undefined when detectReentry is on (a second read would otherwise be granted)', async () => {
    const rw = new RwLock({ detectReentry: true })
    let inner: unknown = 'unset'
    let other: unknown = 'unset'
    await rw.runRead(async () => {
      await tick()
      inner = rw.tryRead()
    })
    const plain = new RwLock()
    await plain.runRead(async () => {
      await tick()
      other = plain.tryRead()
      ;(other as { release(): void }).release()
    })
    expect(inner).toBeUndefined()
    expect(other).toBeDefined()
    const g = rw.tryRead()
    expect(g).toBeDefined()
    g!.release()
  })
})
