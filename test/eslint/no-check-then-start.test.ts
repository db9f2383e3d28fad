import { noCheckThenStart } from '../../src/eslint/rules/no-check-then-start.js'
import { typedTester, untypedTester } from './tester.js'

const head = `declare function connect(): Promise<{ close(): void }>
declare function prepare(): Promise<void>
`

untypedTester.run('no-check-then-start', noCheckThenStart as never, {
  valid: [
    { name: 'the promise stored before anything awaits (atomic in JavaScript)', code: `class A { async get() { if (!this.task) this.task = connect(); return this.task } }` },
    { name: 'claimed, then awaited', code: `class A { async get() { if (!this.client) { this.client = connect(); await this.client } return this.client } }` },
    { name: 'a flag set before the awaits', code: `class A { async start() { if (this.running) return; this.running = true; try { await prepare() } finally { this.running = false } } }` },
    { name: 'a local variable', code: `async function f() { let client; if (!client) client = await connect(); return client }` },
    { name: 'a re-check after the await', code: `class A { async get() { if (!this.client) { const c = await connect(); if (!this.client) this.client = c } return this.client } }` },
    { name: 'a re-checking guard after the await', code: `class A { async start() { if (this.running) return; await prepare(); if (this.running) return; this.running = true } }` },
    { name: 'a reset, not a start', code: `class A { async stop() { if (this.timer) { await prepare(); this.timer = undefined } } }` },
    { name: 'an await in a branch that returns first', code: `class A { async get(fast) { if (!this.client) { if (fast) { await prepare(); return undefined } this.client = connect() } return this.client } }` },
    { name: 'a synchronous function', code: `class A { get() { if (!this.client) this.client = connect(); return this.client } }` },
    { name: 'under a lock', code: `class A { async get() { await this.mutex.runExclusive(async () => { if (!this.client) this.client = await connect() }) } }` },
    { name: 'under a using guard', code: `class A { async get() { using guard = await this.#lock.lock(); if (!this.client) this.client = await connect(); return this.client } }` },
    { name: 'logical assignment of the promise', code: `class A { async get() { return (this.task ??= connect()) } }` },
    { name: "a callback of the project's own lock helper", code: `class A { async get() { return this.#withVaultLock(async () => { if (this.cached) return this.cached; const v = await connect(); this.cached = v; return v }) } }` },
    { name: 'a variable of the one call around an inline callback', code: `async function publish(trace) { let hash; await trace(async () => { hash ??= await connect() }); return hash }` },
    { name: 'a parameter is not shared', code: `async function f(state) { let s = state; if (!s) s = await connect() }` },
  ],
  invalid: [
    {
      name: 'checked, awaited in the assignment, set',
      code: `class A {\n  async get() {\n    if (!this.client) this.client = await connect()\n    return this.client\n  }\n}`,
      errors: [{ messageId: 'checkThenStart', line: 3, data: { target: 'this.client', checkLine: 3, awaitLine: 3 } }],
    },
    {
      name: 'a running flag checked before an await and set after',
      code: `class A {\n  async start() {\n    if (this.running) return\n    await prepare()\n    this.running = true\n  }\n}`,
      errors: [{ messageId: 'checkThenStart', line: 5, data: { target: 'this.running', checkLine: 3, awaitLine: 4 } }],
    },
    {
      name: 'a module variable, block consequent',
      code: `let pool\nexport async function getPool() {\n  if (pool === undefined) {\n    const p = await connect()\n    pool = p\n  }\n  return pool\n}`,
      errors: [{ messageId: 'checkThenStart', line: 5 }],
    },
    {
      name: 'a private field and an or-check',
      code: `class A {\n  #task\n  async start() {\n    if (!this.#task || this.#task.done) {\n      await prepare()\n      this.#task = connect()\n    }\n  }\n}`,
      errors: [{ messageId: 'checkThenStart', line: 6 }],
    },
    {
      name: "a factory's closure state, set by a stored function",
      code: `export function makeSocket(query) {\n  let settings\n  const fetchSettings = async () => {\n    if (!settings) {\n      settings = await query()\n    }\n    return settings\n  }\n  return { fetchSettings }\n}`,
      errors: [{ messageId: 'checkThenStart', line: 5 }],
    },
    {
      name: '??= with await',
      code: `class A { async get() { return (this.client ??= await connect()) } }`,
      errors: [{ messageId: 'logicalAssign' }],
    },
    {
      name: 'a guard that returns the existing value',
      code: `class A {\n  async get() {\n    if (this.client) return this.client\n    const client = await connect()\n    this.client = client\n    return client\n  }\n}`,
      errors: [{ messageId: 'checkThenStart', line: 5 }],
    },
  ],
})

typedTester.run('no-check-then-start (typed lock)', noCheckThenStart as never, {
  valid: [
    {
      name: 'held by an asyncsafe Mutex',
      code: `${head}import { Mutex } from 'asyncsafe/locks'\nexport class A { client?: { close(): void }; readonly m = new Mutex()\n  async get() { using g = await this.m.lock(); if (!this.client) this.client = await connect(); return this.client } }`,
    },
  ],
  invalid: [
    {
      name: 'the README shape with an await before the start',
      code: `${head}export class Manager { initTask?: Promise<unknown>\n  async start(): Promise<void> { if (!this.initTask) { await prepare(); this.initTask = connect() } } }`,
      errors: [{ messageId: 'checkThenStart', line: 4 }],
    },
  ],
})
