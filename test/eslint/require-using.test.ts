import { requireUsing } from '../../src/eslint/rules/require-using.js'
import { typedTester, untypedTester } from './tester.js'

const guards = `import { every, listen, spawnGuarded, swap, TaskScope } from 'asyncsafe/guards'
import { Mutex } from 'asyncsafe/locks'
import { EventEmitter } from 'node:events'
declare const emitter: EventEmitter
declare function handler(...args: unknown[]): void
declare function work(): Promise<void>
declare function tick(): void
const m = new Mutex()
`

typedTester.run('require-using (typed)', requireUsing as never, {
  valid: [
    { name: 'using a listener guard', code: `${guards}export function f(): void { using off = listen(emitter, 'data', handler) }` },
    { name: 'using a lock guard', code: `${guards}export async function f(): Promise<void> { using guard = await m.lock(); await work() }` },
    { name: 'await using a task scope', code: `${guards}export async function f(): Promise<void> { await using scope = new TaskScope(); scope.spawn(() => work()) }` },
    { name: 'returned to the caller', code: `${guards}export function start() { return spawnGuarded((signal) => work()) }` },
    { name: 'an arrow returning it', code: `${guards}export const start = () => listen(emitter, 'data', handler)` },
    {
      name: 'a field of a class that disposes',
      code: `${guards}export class Session {
        readonly #ticker = every(1000, tick)
        #off
        constructor() { this.#off = listen(emitter, 'data', handler) }
        [Symbol.dispose](): void { this.#ticker[Symbol.dispose](); this.#off[Symbol.dispose]() }
      }`,
    },
    { name: 'a field of a class with close()', code: `${guards}export class Poller { readonly ticker = every(1000, tick); close(): void { this.ticker[Symbol.dispose]() } }` },
    { name: 'handed to a DisposableStack', code: `${guards}export function f(stack: DisposableStack): void { stack.use(listen(emitter, 'data', handler)) }` },
    { name: 'pushed to a list its owner disposes', code: `${guards}export function f(list: Disposable[]): void { list.push(listen(emitter, 'data', handler)) }` },
    { name: 'a const disposed in finally', code: `${guards}export async function f(): Promise<void> { const task = spawnGuarded(() => work()); try { await task.done } finally { task[Symbol.dispose]() } }` },
    { name: 'a const released by straight-line code', code: `${guards}export function f(): number { let n = 0; const g = m.tryLock(); if (g) { n++; g.release() } return n }` },
    { name: 'detached on purpose', code: `${guards}export function f(): void { spawnGuarded(() => work()).detach() }` },
    { name: "a scope's children belong to the scope", code: `${guards}export async function f(scope: TaskScope): Promise<void> { scope.spawn(() => work()) }` },
    { name: 'a pending lock promise awaited elsewhere', code: `${guards}export async function f(): Promise<void> { const pending = m.lock(); using guard = await pending }` },
    { name: 'a function of the project named like a factory', code: `function listen(a: string): void { void a }\nexport function f(): void { listen('x') }` },
    { name: 'disposed by its own callback (an event decides when)', code: `${guards}export function f(): void { const off = listen(emitter, 'data', () => { off[Symbol.dispose]() }) }` },
    { name: 'returned through a variable', code: `${guards}export function f() { const off = listen(emitter, 'data', handler); return off }` },
    {
      name: 'async-mutex releaser called in finally',
      code: `import { Mutex } from 'async-mutex'\nconst mutex = new Mutex()\ndeclare function work(): Promise<void>\nexport async function f(): Promise<void> { const release = await mutex.acquire(); try { await work() } finally { release() } }`,
    },
  ],
  invalid: [
    {
      name: 'a listener guard dropped',
      code: `${guards}export function f(): void {\n  listen(emitter, 'data', handler)\n}`,
      errors: [{ messageId: 'dropped', line: 10, suggestions: [{ messageId: 'bindUsing', data: { name: 'guard' }, output: `${guards}export function f(): void {\n  using guard = listen(emitter, 'data', handler)\n}` }] }],
    },
    {
      name: 'a lock taken and dropped: never released',
      code: `${guards}export async function f(): Promise<void> {\n  await m.lock()\n}`,
      errors: [{ messageId: 'dropped', suggestions: [{ messageId: 'bindUsing', data: { name: 'guard' }, output: `${guards}export async function f(): Promise<void> {\n  using guard = await m.lock()\n}` }] }],
    },
    {
      name: 'void spawnGuarded(...)',
      code: `${guards}export function f(guard: number): void {\n  void spawnGuarded(() => work())\n}`,
      errors: [{ messageId: 'dropped', suggestions: [{ messageId: 'bindUsing', data: { name: 'guard2' }, output: `${guards}export function f(guard: number): void {\n  using guard2 = spawnGuarded(() => work())\n}` }] }],
    },
    {
      name: 'a task guard kept only for its promise',
      code: `${guards}export async function f(): Promise<void> {\n  await spawnGuarded(() => work()).done\n}`,
      errors: [{ messageId: 'dropped' }],
    },
    {
      name: 'a const task guard never disposed',
      code: `${guards}export async function f(): Promise<void> {\n  const task = spawnGuarded(() => work())\n  await task.done\n}`,
      errors: [{ messageId: 'neverDisposed', suggestions: [{ messageId: 'useUsing', output: `${guards}export async function f(): Promise<void> {\n  using task = spawnGuarded(() => work())\n  await task.done\n}` }] }],
    },
    {
      name: 'a lock guard released after an await: not on every path',
      code: `${guards}export async function f(): Promise<void> {\n  const guard = await m.lock()\n  await work()\n  guard.release()\n}`,
      errors: [{ messageId: 'notOnEveryPath', line: 10, suggestions: [{ messageId: 'useUsing', output: `${guards}export async function f(): Promise<void> {\n  using guard = await m.lock()\n  await work()\n  guard.release()\n}` }] }],
    },
    {
      name: 'async-mutex releaser called after an await',
      code: `import { Mutex } from 'async-mutex'\nconst mutex = new Mutex()\ndeclare function work(): Promise<void>\nexport async function f(): Promise<void> { const release = await mutex.acquire(); await work(); release() }`,
      errors: [{ messageId: 'notOnEveryPath' }],
    },
    {
      name: 'async-mutex releaser never called',
      code: `import { Mutex } from 'async-mutex'\nconst mutex = new Mutex()\nexport async function f(): Promise<number> { const release = await mutex.acquire(); return 1 }`,
      errors: [{ messageId: 'neverDisposed' }],
    },
    {
      name: 'a swap restored only when nothing throws',
      code: `${guards}export async function f(registry: { cb?: () => void }): Promise<void> {\n  const restore = swap(registry, 'cb', tick)\n  await work()\n  restore[Symbol.dispose]()\n}`,
      errors: [{ messageId: 'notOnEveryPath', suggestions: [{ messageId: 'useUsing', output: `${guards}export async function f(registry: { cb?: () => void }): Promise<void> {\n  using restore = swap(registry, 'cb', tick)\n  await work()\n  restore[Symbol.dispose]()\n}` }] }],
    },
    {
      name: 'a field of a class that never disposes',
      code: `${guards}export class Poller { ticker?: Disposable; start(): void { this.ticker = every(1000, tick) } }`,
      errors: [{ messageId: 'fieldWithoutOwner', data: { call: 'every(1000, tick)', field: 'ticker', owner: 'Poller', consequence: 'its timer keeps firing' } }],
    },
    {
      name: 'a task scope never disposed',
      code: `${guards}export function f(): void {\n  const scope = new TaskScope()\n  scope.spawn(() => work())\n}`,
      errors: [{ messageId: 'neverDisposed', suggestions: [{ messageId: 'useUsing', output: `${guards}export function f(): void {\n  using scope = new TaskScope()\n  scope.spawn(() => work())\n}` }] }],
    },
  ],
})

untypedTester.run('require-using (untyped: imports and names)', requireUsing as never, {
  valid: [
    { name: 'using, by import', code: `import { listen } from 'asyncsafe/guards'\nexport function f(e, h) { using off = listen(e, 'x', h) }` },
    { name: 'a listen that is not asyncsafe', code: `import { listen } from 'some-server'\nexport function f() { listen(8080) }` },
    { name: 'shadowed import', code: `import { listen } from 'asyncsafe/guards'\nexport function f(listen) { listen(1) }` },
  ],
  invalid: [
    {
      name: 'dropped, by import',
      code: `import { listen } from 'asyncsafe/guards'\nexport function f(e, h) {\n  listen(e, 'x', h)\n}`,
      errors: [{ messageId: 'dropped', suggestions: [{ messageId: 'bindUsing', data: { name: 'guard' }, output: `import { listen } from 'asyncsafe/guards'\nexport function f(e, h) {\n  using guard = listen(e, 'x', h)\n}` }] }],
    },
    {
      name: 'a mutex-named lock taken and dropped',
      code: `export class A { async f() {\n  await this.mutex.lock()\n} }`,
      errors: [{ messageId: 'dropped', suggestions: [{ messageId: 'bindUsing', data: { name: 'guard' }, output: `export class A { async f() {\n  using guard = await this.mutex.lock()\n} }` }] }],
    },
  ],
})
