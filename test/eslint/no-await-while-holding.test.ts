import { noAwaitWhileHolding } from '../../src/eslint/rules/no-await-while-holding.js'
import { typedTester, untypedTester } from './tester.js'

typedTester.run('no-await-while-holding (typed)', noAwaitWhileHolding as never, {
  valid: [
    {
      name: 'own I/O under a guard is what the lock is for',
      code: `
        import { Mutex } from 'asyncsafe/locks'
        import { readFile } from 'node:fs/promises'
        const config = new Mutex()
        export async function reload(path: string): Promise<unknown> {
          using guard = await config.lock()
          return JSON.parse(await readFile(path, 'utf8')) as unknown
        }`,
    },
    {
      name: 'the observer is awaited after the block that held the lock',
      code: `
        import { Mutex } from 'asyncsafe/locks'
        interface CacheObserver { onEvict(key: string): Promise<void> }
        export class Cache {
          readonly #lock = new Mutex()
          readonly #map = new Map<string, string>()
          constructor(private readonly observer: CacheObserver) {}
          async delete(key: string): Promise<void> {
            {
              using guard = await this.#lock.lock()
              this.#map.delete(key)
            }
            await this.observer.onEvict(key)
          }
        }`,
    },
    {
      name: 'a method of the class itself is not foreign',
      code: `
        import { Mutex } from 'async-mutex'
        export class Store {
          readonly #mutex = new Mutex()
          async save(): Promise<void> {}
          async update(): Promise<void> {
            await this.#mutex.runExclusive(async () => { await this.save() })
          }
        }`,
    },
    {
      name: 'a lock wrapper runs what its caller handed it (withLock(fn))',
      code: `
        import { Mutex } from 'asyncsafe/locks'
        const m = new Mutex()
        export async function withLock<T>(fn: () => Promise<T>): Promise<T> {
          using guard = await m.lock()
          return await fn()
        }`,
    },
    {
      name: 'a wrapper whose parameter is called callback',
      code: `
        import { Semaphore } from 'asyncsafe/compat/async-mutex'
        export class Mutex {
          readonly #semaphore = new Semaphore(1)
          runExclusive<T>(callback: () => Promise<T>): Promise<T> {
            return this.#semaphore.runExclusive(() => callback())
          }
        }`,
    },
    {
      name: 'released in finally before the observer is awaited',
      code: `
        import { Mutex } from 'async-mutex'
        const mutex = new Mutex()
        export async function set(state: { x: number }, onChange: () => Promise<void>): Promise<void> {
          const release = await mutex.acquire()
          try { state.x = 1 } finally { release() }
          await onChange()
        }`,
    },
    {
      name: 'released in straight-line code before the await',
      code: `
        import { Mutex } from 'asyncsafe/locks'
        interface Observer { onEvict(key: string): Promise<void> }
        const m = new Mutex()
        export async function drop(observer: Observer, key: string): Promise<void> {
          const guard = await m.lock()
          guard.release()
          await observer.onEvict(key)
        }`,
    },
    {
      name: 'a function scheduled under the lock runs after it',
      code: `
        import { Mutex } from 'asyncsafe/locks'
        interface Observer { onEvict(key: string): Promise<void> }
        const m = new Mutex()
        export async function drop(observer: Observer, key: string): Promise<void> {
          using guard = await m.lock()
          setTimeout(async () => { await observer.onEvict(key) }, 0)
        }`,
    },
    {
      name: "a promise executor's resolve is not foreign",
      code: `
        import { Mutex } from 'asyncsafe/locks'
        const m = new Mutex()
        export async function tick(): Promise<void> {
          using guard = await m.lock()
          await new Promise<void>((resolve) => setImmediate(() => { resolve() }))
        }`,
    },
    {
      name: 'a library method on an interface type (fetch, a client) is not foreign',
      code: `
        import { Mutex } from 'asyncsafe/locks'
        const m = new Mutex()
        export async function refresh(url: string): Promise<string> {
          using guard = await m.lock()
          const response = await fetch(url)
          return await response.text()
        }`,
    },
    {
      name: 'a method named call is not Function.prototype.call',
      code: `
        import { Mutex } from 'async-mutex'
        interface Bus { call(action: string): Promise<number> }
        export class Nft {
          readonly #mutex = new Mutex()
          constructor(private readonly messenger: Bus) {}
          async add(): Promise<number> {
            const release = await this.#mutex.acquire()
            try { return await this.messenger.call('Network:get') } finally { release() }
          }
        }`,
    },
    {
      name: 'an observer awaited with no lock held',
      code: `
        interface Observer { onEvict(key: string): Promise<void> }
        export async function notify(observer: Observer): Promise<void> { await observer.onEvict('k') }`,
    },
    {
      name: 'a sync callback returned from runExclusive does not hold the lock past the call',
      code: `
        import { Mutex } from 'asyncsafe/locks'
        const m = new Mutex()
        export async function bump(onBump: (n: number) => number): Promise<number> {
          return m.runExclusive(() => onBump(1))
        }`,
    },
  ],
  invalid: [
    {
      name: "the audit's shape: an observer awaited inside runExclusive (async-mutex)",
      code: `
        import { Mutex } from 'async-mutex'
        interface Observer { onEvict(entry: string): Promise<void> }
        const lock = new Mutex()
        export async function set(observer: Observer, lru: Map<string, string>, key: string, value: string): Promise<void> {
          await lock.runExclusive(async () => {
            lru.set(key, value)
            const evicted = lru.size > 10 ? key : undefined
            if (evicted) await observer.onEvict(evicted)
          })
        }`,
      errors: [{ messageId: 'awaitWhileHolding', line: 9, data: { callee: 'observer.onEvict', line: 6, acquisition: 'lock.runExclusive(…)' } }],
    },
    {
      name: 'a callback option awaited under a using guard',
      code: `
        import { Mutex } from 'asyncsafe/locks'
        interface Options { onChange?: (value: number) => Promise<void> }
        export class Counter {
          readonly #lock = new Mutex()
          #value = 0
          constructor(private readonly options: Options) {}
          async increment(): Promise<void> {
            using guard = await this.#lock.lock()
            this.#value++
            await this.options.onChange?.(this.#value)
          }
        }`,
      errors: [{ messageId: 'awaitWhileHolding', line: 11 }],
    },
    {
      name: 'listeners awaited one by one under the lock',
      code: `
        import { Mutex } from 'asyncsafe/locks'
        export class Bus {
          readonly #lock = new Mutex()
          readonly listeners: ((event: string) => Promise<void>)[] = []
          async publish(event: string): Promise<void> {
            using guard = await this.#lock.lock()
            for (const listener of this.listeners) await listener(event)
          }
        }`,
      errors: [{ messageId: 'awaitWhileHolding', line: 8 }],
    },
    {
      name: 'listeners awaited together under the lock',
      code: `
        import { Mutex } from 'asyncsafe/locks'
        type Listener = (event: string) => Promise<void>
        export class Bus {
          readonly #lock = new Mutex()
          readonly #listeners = new Set<Listener>()
          async publish(event: string): Promise<void> {
            using guard = await this.#lock.lock()
            await Promise.all([...this.#listeners].map((l) => l(event)))
          }
        }`,
      errors: [{ messageId: 'awaitWhileHolding', line: 9, data: { callee: 'l', line: 8, acquisition: 'this.#lock.lock()' } }],
    },
    {
      name: 'a hook returned from the callback: the lock waits for it',
      code: `
        import { Mutex } from 'asyncsafe/locks'
        interface SaveHooks { beforeSave(value: number): Promise<void> }
        const m = new Mutex()
        export async function save(hooks: SaveHooks, value: number): Promise<void> {
          await m.runExclusive(() => hooks.beforeSave(value))
        }`,
      errors: [{ messageId: 'returnWhileHolding', line: 6 }],
    },
    {
      name: 'a hook returned with return inside an async callback',
      code: `
        import { RwLock } from 'asyncsafe/locks'
        interface SaveHooks { beforeSave(value: number): Promise<void> }
        const routes = new RwLock()
        export async function save(hooks: SaveHooks, value: number): Promise<void> {
          await routes.runWrite(async () => {
            value++
            return hooks.beforeSave(value)
          })
        }`,
      errors: [{ messageId: 'returnWhileHolding', line: 8 }],
    },
    {
      name: 'a const guard released in finally holds the lock in the try block',
      code: `
        import { Mutex } from 'asyncsafe/locks'
        interface Observer { onEvict(key: string): Promise<void> }
        const m = new Mutex()
        export async function drop(observer: Observer, key: string): Promise<void> {
          const guard = await m.lock()
          try {
            await observer.onEvict(key)
          } finally {
            guard.release()
          }
        }`,
      errors: [{ messageId: 'awaitWhileHolding', line: 8 }],
    },
    {
      name: 'a callback of an outer function inside Semaphore.run',
      code: `
        import { Semaphore } from 'asyncsafe/locks'
        export function makeEvictor(onEvict: (key: string) => Promise<void>): (key: string) => Promise<void> {
          const slots = new Semaphore(1)
          return async (key: string) => slots.run(async () => { await onEvict(key) })
        }`,
      errors: [{ messageId: 'awaitWhileHolding', line: 5 }],
    },
    {
      name: 'a parameter named as a callback is foreign even in the function that locks',
      code: `
        import { Mutex } from 'asyncsafe/locks'
        const m = new Mutex()
        export async function update(onDone: () => Promise<void>): Promise<void> {
          using guard = await m.lock()
          await onDone()
        }`,
      errors: [{ messageId: 'awaitWhileHolding', line: 6 }],
    },
    {
      name: 'for await over foreign code',
      code: `
        import { Mutex } from 'asyncsafe/locks'
        interface Source { onEvents(): AsyncIterable<string> }
        const m = new Mutex()
        export async function pump(source: Source, out: string[]): Promise<void> {
          using guard = await m.lock()
          for await (const event of source.onEvents()) out.push(event)
        }`,
      errors: [{ messageId: 'forAwaitWhileHolding', line: 7 }],
    },
    {
      name: 'Web Locks: navigator.locks.request callback',
      code: `
        interface Options { onChange(value: number): Promise<void> }
        export async function change(options: Options): Promise<void> {
          await navigator.locks.request('config', async () => { await options.onChange(1) })
        }`,
      errors: [{ messageId: 'awaitWhileHolding', line: 4 }],
    },
    {
      name: 'async-mutex acquire: held until release()',
      code: `
        import { Mutex } from 'async-mutex'
        interface Observer { onEvict(key: string): Promise<void> }
        export class Cache {
          readonly #mutex = new Mutex()
          constructor(private readonly observer: Observer) {}
          async delete(key: string): Promise<void> {
            const release = await this.#mutex.acquire()
            await this.observer.onEvict(key)
            release()
          }
        }`,
      errors: [{ messageId: 'awaitWhileHolding', line: 9 }],
    },
    {
      name: 'compat adapter semaphore: tuple releaser',
      code: `
        import { Semaphore } from 'asyncsafe/compat/async-mutex'
        const sem = new Semaphore(2)
        export async function notify(listeners: ((n: number) => Promise<void>)[]): Promise<void> {
          const [value, release] = await sem.acquire()
          try {
            for (const listener of listeners) await listener(value)
          } finally {
            release()
          }
        }`,
      errors: [{ messageId: 'awaitWhileHolding', line: 7 }],
    },
    {
      name: 'nested locks: reported once',
      code: `
        import { Mutex } from 'asyncsafe/locks'
        interface Observer { onEvict(key: string): Promise<void> }
        const a = new Mutex()
        const b = new Mutex()
        export async function drop(observer: Observer): Promise<void> {
          using first = await a.lock()
          await b.runExclusive(async () => { await observer.onEvict('k') })
        }`,
      errors: [{ messageId: 'awaitWhileHolding', line: 8, data: { callee: 'observer.onEvict', line: 7, acquisition: 'a.lock()' } }],
    },
  ],
})

untypedTester.run('no-await-while-holding (untyped: names)', noAwaitWhileHolding as never, {
  valid: [
    {
      name: 'own store calls under a lock-named receiver',
      code: `
        class Store {
          async update(key) {
            using guard = await this.#mutex.lock()
            await this.store.save(key)
          }
        }`,
    },
    {
      name: 'plain function calls in runExclusive',
      code: `async function f(queue) { await queue.runExclusive(async () => { await fetchThing() }) }`,
    },
    {
      name: 'lock() on a receiver whose name is not a lock and not bound with using',
      code: `async function f(file, observer) { const g = await file.lock(); await observer.onEvict(); g.release() }`,
    },
    {
      name: 'the wrapper parameter of the locking function',
      code: `async function withLock(mutex, fn) { const release = await mutex.acquire(); try { return await fn() } finally { release() } }`,
    },
  ],
  invalid: [
    {
      name: 'callback-named method under a using guard',
      code: `
        class Cache {
          async delete(key) {
            using guard = await this.#mutex.lock()
            await this.observer.onEvict(key)
          }
        }`,
      errors: [{ messageId: 'awaitWhileHolding', line: 5 }],
    },
    {
      name: 'a listener parameter inside runExclusive',
      code: `async function emit(lock, listener, event) { await lock.runExclusive(async () => { await listener(event) }) }`,
      errors: [{ messageId: 'awaitWhileHolding' }],
    },
    {
      name: 'an observer-named receiver after acquire() on a mutex-named receiver',
      code: `async function drop(observer) { const release = await writeMutex.acquire(); await observer.evicted('k'); release() }`,
      errors: [{ messageId: 'awaitWhileHolding' }],
    },
  ],
})
