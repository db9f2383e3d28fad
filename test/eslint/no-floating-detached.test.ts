import { noFloatingDetached } from '../../src/eslint/rules/no-floating-detached.js'
import { typedTester, untypedTester } from './tester.js'

const head = `declare function recordApproval(): Promise<void>
declare function sleep(ms: number): Promise<void>
declare function log(): void
`

/** The spawnDetached suggestion's output: `void call` rewritten and the import added after the file's imports. */
const spawned = (code: string, call: string): string => {
  const lines = code.replace(`void ${call}`, `spawnDetached(() => ${call})`).split('\n')
  lines.splice(lines.findLastIndex((l) => l.startsWith('import ')) + 1, 0, "import { spawnDetached } from 'asyncsafe/tasks'")
  return lines.join('\n')
}

/** A function that catches every failure of its awaits. */
const safe = `async function save(): Promise<void> { try { await recordApproval() } catch (error) { console.error(error) } }\n`

// Promises stored in a slot (MetaMask's in-flight persist and supported-networks request):
// never rejecting when every value ever stored there never rejects.
const storedField = `${head}export class Store {
  #inFlight: Promise<void> | undefined = undefined
  async #save(id: string): Promise<void> { try { await recordApproval() } catch (error) { console.error(id, error) } }
  async persist(ids: string[]): Promise<void> {
    if (this.#inFlight) return
    this.#inFlight = Promise.all(ids.map((id) => this.#save(id))).then(() => undefined)
    try { await this.#inFlight } finally { this.#inFlight = undefined }
  }
  onChange(): void { void this.persist(['a']) }
}`
const storedVariable = `${head}${safe}let running: Promise<void> | null = null
export async function refresh(): Promise<void> {
  if (running) return running
  running = save()
  return running
}
export function poll(): void { void refresh() }
export function reset(): void { running = null }`
// MetaMask's supported-networks fetch: the catch returns a fallback value (not a promise).
const fallback = `${head}declare function fallback(): string[]\nasync function load(): Promise<string[]> { try { await recordApproval(); return [] } catch { return fallback() } }\nexport function f(): void { void load() }`
const fallbackPromise = fallback.replace('catch { return fallback() }', 'catch { return recordApproval().then(() => fallback()) }')
// lodash's debounce returns the wrapped function's last result: its promises are the wrapped function's.
const debounced = `import { debounce } from 'lodash'\n${head}${safe}const flush = debounce(save, 100)\nexport function f(): void { void flush() }`
const throttledDefault = `import _ from 'lodash'\n${head}const flush = _.throttle(async () => { try { await recordApproval() } catch (error) { console.error(error) } }, 100)\nexport function f(): void { void flush() }`

// Near misses that must still be reported.
const storedRejecting = storedField.replace('this.#save(id)', 'recordApproval()')
const storedPublic = storedField.replaceAll('#inFlight', 'inFlight')
const storedParameter = `${head}let running: Promise<void> | null = null
export async function refresh(): Promise<void> { await running }
export function start(p: Promise<void>): void { running = p; void refresh() }`
const thenThrows = storedField.replace('.then(() => undefined)', '.then(() => log())')
const thenAdopts = storedField.replace('export class Store {', 'declare const pending: Promise<void>\nexport class Store {').replace('.then(() => undefined)', '.then(() => pending)')
const storedByOther = storedField.replace("  onChange(): void {", "  steal(other: Store): void { other.#inFlight = recordApproval() }\n  onChange(): void {")
const storedAmbient = storedVariable.replace('let running: Promise<void> | null = null', 'declare let running: Promise<void> | null')
const debouncedUnsafe = `import { debounce } from 'lodash'\n${head}const flush = debounce(recordApproval, 100)\nexport function f(): void { void flush() }`
const debouncedElsewhere = `${head}${safe}declare function debounce(f: () => Promise<void>, ms: number): () => Promise<void>\nconst flush = debounce(save, 100)\nexport function f(): void { void flush() }`

// TypeORM's lazy relation setter: a local helper stores the promise it is given and returns it.
const passThrough = `${head}const setPromise = (entity: Record<string, unknown>, value: Promise<unknown>): Promise<unknown> => { entity.pending = value; return value }
export const relation = { set(this: Record<string, unknown>, value: Promise<unknown>): void { setPromise(this, value) } }`
const passThroughCall = passThrough.replace('setPromise(this, value) }', 'setPromise(this, recordApproval()) }')
const passThroughNew = passThrough.replace('return value }', 'return value.then(() => undefined) }')
const passThroughReassigned = passThrough.replace('entity.pending = value;', 'value = recordApproval(); entity.pending = value;')

typedTester.run('no-floating-detached (typed)', noFloatingDetached as never, {
  valid: [
    { name: 'awaited', code: `${head}export async function f(): Promise<void> { await recordApproval() }` },
    { name: 'returned', code: `${head}export function f(): Promise<void> { return recordApproval() }` },
    { name: 'rejection handled with catch', code: `${head}export function f(): void { void recordApproval().catch(log) }` },
    { name: 'rejection handled with then(f, r)', code: `${head}export function f(): void { recordApproval().then(log, log) }` },
    { name: 'void of a non-promise', code: `${head}export function f(): void { void log() }` },
    { name: 'module top level: the program itself', code: `${head}void recordApproval()` },
    { name: 'already bounded by spawnDetached', code: `import { spawnDetached } from 'asyncsafe/tasks'\n${head}export function f(): void { spawnDetached(() => recordApproval()) }` },
    { name: 'asyncsafe promise (cache.set observes its own failures)', code: `import { LruTtlCache } from 'asyncsafe/cache'\nconst cache = new LruTtlCache<string, number>({ capacity: 2 })\nexport function f(): void { void cache.set('a', 1) }` },
    {
      name: 'a local async function whose body catches everything',
      code: `${head}async function safe(): Promise<void> { try { await recordApproval() } catch (error) { console.error(error) } }\nexport function f(): void { void safe() }`,
    },
    {
      name: 'every await of the callee caught, with a synchronous prelude (found through its type)',
      code: `${head}const makeSocket = () => {\n  const sendTelemetry = async (open: boolean) => { if (!open) return; try { await recordApproval() } catch (error) { console.debug(error) } }\n  return { sendTelemetry }\n}\nconst { sendTelemetry } = makeSocket()\nexport function f(): void { void sendTelemetry(true) }`,
    },
    {
      name: 'delegates to a function that catches everything (two levels)',
      code: `${head}export class Balances {\n  async #update(id: string): Promise<void> { try { await recordApproval() } catch (error) { console.error(id, error) } }\n  async update(id: string): Promise<void> { await this.#update(id) }\n  start(): void { void this.update('a') }\n}`,
    },
    { name: 'untyped: delegates to a local function that catches', code: `${head}async function inner() { try { await recordApproval() } catch (e) { console.error(e) } }\nasync function outer() { return inner() }\nexport function f() { void outer() }` },
    { name: 'stored for later', code: `${head}export function f(): Promise<void> { const p = recordApproval(); return p }` },
    { name: 'a sync arrow returning void of a non-promise', code: `${head}export const f = (): void => void log()` },
    { name: 'a continuation of a promise that already exists', code: `${head}export function f(ready: Promise<void>): void { let done = false; void ready.then(() => (done = true)); void done }` },
    { name: 'a continuation of Promise.all over existing promises', code: `${head}export function f(pending: Promise<void>[]): void { void Promise.all(pending).then(log) }` },
    { name: 'a catch earlier in the chain', code: `${head}export function f(): void { recordApproval().catch(log).finally(log) }` },
    { name: 'then.call with a rejection handler', code: `${head}const promiseThen = Promise.prototype.then\nexport function f(p: Promise<void>): void { void promiseThen.call(recordApproval(), undefined, log) }` },
    { name: 'a stored promise (a private field) awaited: every value stored there never rejects', code: storedField },
    { name: 'a stored promise (a module variable) returned: every value stored there never rejects', code: storedVariable },
    { name: 'a catch that returns a value that is not a promise (cannot reject)', code: fallback },
    { name: 'a local helper that returns the promise it was given (no new work)', code: passThrough },
    { name: "lodash debounce of a function that observes its own failures", code: debounced },
    { name: "lodash throttle (default import) of an inline function that observes its own failures", code: throttledDefault },
    { name: 'a chain that settles the executor it runs in', code: `${head}export function f(): Promise<void> { return new Promise<void>((resolve) => { void recordApproval().then(() => { resolve() }) }) }` },
  ],
  invalid: [
    {
      name: "the audit's shape: void Promise.race with a timeout that only stops waiting",
      code: `${head}export function approve(): void {\n  void Promise.race([recordApproval(), sleep(500)])\n}`,
      errors: [
        {
          messageId: 'voided',
          suggestions: [
            { messageId: 'useSpawnDetached', output: `import { spawnDetached } from 'asyncsafe/tasks'\n${head}export function approve(): void {\n  spawnDetached(() => Promise.race([recordApproval(), sleep(500)]))\n}` },
          ],
        },
      ],
    },
    {
      name: 'a bare call in an async function: await or spawnDetached',
      code: `import { retry } from 'asyncsafe/tasks'\n${head}export async function f(): Promise<void> {\n  recordApproval()\n}`,
      errors: [
        {
          messageId: 'floating',
          suggestions: [
            { messageId: 'useSpawnDetached', output: `import { retry, spawnDetached } from 'asyncsafe/tasks'\n${head}export async function f(): Promise<void> {\n  spawnDetached(() => recordApproval())\n}` },
            { messageId: 'addAwait', output: `import { retry } from 'asyncsafe/tasks'\n${head}export async function f(): Promise<void> {\n  await recordApproval()\n}` },
          ],
        },
      ],
    },
    {
      name: 'a method promise dropped in a sync handler',
      code: `import { spawnDetached } from 'asyncsafe/tasks'\nexport class Indexer { async index(): Promise<void> {}\n  onSave(): void { this.index() } }`,
      errors: [{ messageId: 'floating', suggestions: [{ messageId: 'useSpawnDetached', output: `import { spawnDetached } from 'asyncsafe/tasks'\nexport class Indexer { async index(): Promise<void> {}\n  onSave(): void { spawnDetached(() => this.index()) } }` }] }],
    },
    {
      name: 'void inside an arrow body',
      code: `import { EventEmitter } from 'node:events'\n${head}export function f(e: EventEmitter): void { e.on('x', () => void recordApproval()) }`,
      errors: [{ messageId: 'voided', suggestions: [{ messageId: 'useSpawnDetached', output: `import { EventEmitter } from 'node:events'\nimport { spawnDetached } from 'asyncsafe/tasks'\n${head}export function f(e: EventEmitter): void { e.on('x', () => spawnDetached(() => recordApproval())) }` }] }],
    },
    {
      name: 'a local function that rethrows does not observe its failures',
      code: `${head}async function unsafe(): Promise<void> { try { await recordApproval() } catch (error) { throw error } }\nexport function f(): void { void unsafe() }`,
      errors: [{ messageId: 'voided', suggestions: [{ messageId: 'useSpawnDetached', output: `import { spawnDetached } from 'asyncsafe/tasks'\n${head}async function unsafe(): Promise<void> { try { await recordApproval() } catch (error) { throw error } }\nexport function f(): void { spawnDetached(() => unsafe()) }` }] }],
    },
    {
      name: 'an await outside the try escapes',
      code: `${head}async function half(): Promise<void> { await sleep(1); try { await recordApproval() } catch (error) { console.debug(error) } }\nexport function f(): void { void half() }`,
      errors: [{ messageId: 'voided', suggestions: [{ messageId: 'useSpawnDetached', output: `import { spawnDetached } from 'asyncsafe/tasks'\n${head}async function half(): Promise<void> { await sleep(1); try { await recordApproval() } catch (error) { console.debug(error) } }\nexport function f(): void { spawnDetached(() => half()) }` }] }],
    },
    {
      name: 'a returned call outside the try escapes',
      code: `${head}async function passOn(): Promise<void> { try { await sleep(1) } catch (error) { console.debug(error) } return recordApproval() }\nexport function f(): void { void passOn() }`,
      errors: [{ messageId: 'voided', suggestions: [{ messageId: 'useSpawnDetached', output: `import { spawnDetached } from 'asyncsafe/tasks'\n${head}async function passOn(): Promise<void> { try { await sleep(1) } catch (error) { console.debug(error) } return recordApproval() }\nexport function f(): void { spawnDetached(() => passOn()) }` }] }],
    },
    {
      name: 'delegates to a function that rethrows',
      code: `${head}async function inner(): Promise<void> { try { await recordApproval() } catch (e) { throw e } }\nasync function outer(): Promise<void> { await inner() }\nexport function f(): void { void outer() }`,
      errors: [{ messageId: 'voided', suggestions: [{ messageId: 'useSpawnDetached', output: `import { spawnDetached } from 'asyncsafe/tasks'\n${head}async function inner(): Promise<void> { try { await recordApproval() } catch (e) { throw e } }\nasync function outer(): Promise<void> { await inner() }\nexport function f(): void { spawnDetached(() => outer()) }` }] }],
    },
    {
      name: 'work started inside an executor but not settling it',
      code: `${head}export function f(): Promise<void> { return new Promise<void>((resolve) => { void recordApproval(); resolve() }) }`,
      errors: [{ messageId: 'voided', suggestions: [{ messageId: 'useSpawnDetached', output: `import { spawnDetached } from 'asyncsafe/tasks'\n${head}export function f(): Promise<void> { return new Promise<void>((resolve) => { spawnDetached(() => recordApproval()); resolve() }) }` }] }],
    },
    {
      name: 'then.call without a rejection handler',
      code: `${head}const promiseThen = Promise.prototype.then\nexport function f(): void { void promiseThen.call(recordApproval(), log) }`,
      errors: [{ messageId: 'voided', suggestions: [{ messageId: 'useSpawnDetached', output: `import { spawnDetached } from 'asyncsafe/tasks'\n${head}const promiseThen = Promise.prototype.then\nexport function f(): void { spawnDetached(() => promiseThen.call(recordApproval(), log)) }` }] }],
    },
    {
      name: 'a stored promise of a call that may reject',
      code: storedRejecting,
      errors: [{ messageId: 'voided', suggestions: [{ messageId: 'useSpawnDetached', output: spawned(storedRejecting, "this.persist(['a'])") }] }],
    },
    {
      name: 'a stored promise in a public field (other code may store a rejecting one)',
      code: storedPublic,
      errors: [{ messageId: 'voided', suggestions: [{ messageId: 'useSpawnDetached', output: spawned(storedPublic, "this.persist(['a'])") }] }],
    },
    {
      name: 'a stored promise that came from a parameter',
      code: storedParameter,
      errors: [{ messageId: 'voided', suggestions: [{ messageId: 'useSpawnDetached', output: spawned(storedParameter, 'refresh()') }] }],
    },
    {
      name: 'a stored promise continued by a handler that may throw',
      code: thenThrows,
      errors: [{ messageId: 'voided', suggestions: [{ messageId: 'useSpawnDetached', output: spawned(thenThrows, "this.persist(['a'])") }] }],
    },
    {
      name: 'a catch that returns a promise that may reject',
      code: fallbackPromise,
      errors: [{ messageId: 'voided', suggestions: [{ messageId: 'useSpawnDetached', output: spawned(fallbackPromise, 'load()') }] }],
    },
    {
      name: 'a pass-through helper given a call: the call starts new work',
      code: passThroughCall,
      errors: [{ messageId: 'floating', suggestions: [{ messageId: 'useSpawnDetached', output: `import { spawnDetached } from 'asyncsafe/tasks'\n${passThroughCall.replace('setPromise(this, recordApproval())', 'spawnDetached(() => setPromise(this, recordApproval()))')}` }] }],
    },
    {
      name: 'a helper that returns a new promise derived from its parameter',
      code: passThroughNew,
      errors: [{ messageId: 'floating', suggestions: [{ messageId: 'useSpawnDetached', output: `import { spawnDetached } from 'asyncsafe/tasks'\n${passThroughNew.replace('{ setPromise(this, value) }', '{ spawnDetached(() => setPromise(this, value)) }')}` }] }],
    },
    {
      name: 'a helper that reassigns the parameter it returns',
      code: passThroughReassigned,
      errors: [{ messageId: 'floating', suggestions: [{ messageId: 'useSpawnDetached', output: `import { spawnDetached } from 'asyncsafe/tasks'\n${passThroughReassigned.replace('{ setPromise(this, value) }', '{ spawnDetached(() => setPromise(this, value)) }')}` }] }],
    },
    {
      name: 'a stored promise continued by a handler that returns another promise (adopted, may reject)',
      code: thenAdopts,
      errors: [{ messageId: 'voided', suggestions: [{ messageId: 'useSpawnDetached', output: spawned(thenAdopts, "this.persist(['a'])") }] }],
    },
    {
      name: 'a private field also written through another instance',
      code: storedByOther,
      errors: [{ messageId: 'voided', suggestions: [{ messageId: 'useSpawnDetached', output: spawned(storedByOther, "this.persist(['a'])") }] }],
    },
    {
      name: 'an ambient variable (declare let: assigned elsewhere)',
      code: storedAmbient,
      errors: [{ messageId: 'voided', suggestions: [{ messageId: 'useSpawnDetached', output: spawned(storedAmbient, 'refresh()') }] }],
    },
    {
      name: 'lodash debounce of a function that may reject',
      code: debouncedUnsafe,
      errors: [{ messageId: 'voided', suggestions: [{ messageId: 'useSpawnDetached', output: spawned(debouncedUnsafe, 'flush()') }] }],
    },
    {
      name: 'a debounce that is not lodash (its wrapper may reject on its own)',
      code: debouncedElsewhere,
      errors: [{ messageId: 'voided', suggestions: [{ messageId: 'useSpawnDetached', output: spawned(debouncedElsewhere, 'flush()') }] }],
    },
    {
      name: 'an argument that awaits: no spawnDetached suggestion',
      code: `${head}declare function save(x: number): Promise<void>\nexport async function f(p: Promise<number>): Promise<void> {\n  void save(await p)\n}`,
      errors: [{ messageId: 'voided', suggestions: [] }],
    },
  ],
})

untypedTester.run('no-floating-detached (untyped)', noFloatingDetached as never, {
  valid: [
    { name: 'unknown callee: not known to return a promise', code: `export function f() { void something() }` },
    { name: 'local sync function', code: `function g() {}\nexport function f() { void g() }` },
    { name: 'a stored promise (a private field) awaited: every value stored there never rejects', code: storedField },
    { name: 'a stored promise (a module variable) returned: every value stored there never rejects', code: storedVariable },
  ],
  invalid: [
    {
      name: 'local async function',
      code: `async function g() {}\nexport function f() { void g() }`,
      errors: [{ messageId: 'voided', suggestions: [{ messageId: 'useSpawnDetached', output: `import { spawnDetached } from 'asyncsafe/tasks'\nasync function g() {}\nexport function f() { spawnDetached(() => g()) }` }] }],
    },
    {
      name: 'an async IIFE',
      code: `export function f() { void (async () => { await 1 })() }`,
      errors: [{ messageId: 'voided', suggestions: [{ messageId: 'useSpawnDetached', output: `import { spawnDetached } from 'asyncsafe/tasks'\nexport function f() { spawnDetached(() => (async () => { await 1 })()) }` }] }],
    },
  ],
})
