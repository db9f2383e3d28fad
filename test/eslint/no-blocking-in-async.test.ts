import { noBlockingInAsync } from '../../src/eslint/rules/no-blocking-in-async.js'
import { untypedTester } from './tester.js'

untypedTester.run('no-blocking-in-async', noBlockingInAsync as never, {
  valid: [
    { name: 'sync calls in a sync function', code: `import { readFileSync } from 'node:fs'\nexport function load() { return readFileSync('x', 'utf8') }` },
    { name: 'module top level (startup)', code: `import { readFileSync } from 'node:fs'\nexport const config = readFileSync('x', 'utf8')` },
    { name: 'the promise API in an async function', code: `import { readFile } from 'node:fs/promises'\nexport async function load() { return readFile('x', 'utf8') }` },
    { name: 'a Sync-named function that is not a blocking module', code: `import { renderSync } from 'some-template'\nexport async function f() { return renderSync('x') }` },
    { name: 'a shadowed import', code: `import { execSync } from 'node:child_process'\nexport async function f(execSync) { return execSync('ls') }` },
    { name: 'allowed by option', code: `import fs from 'node:fs'\nexport async function f() { return fs.existsSync('x') }`, options: [{ allow: ['existsSync'] }] },
    { name: 'a deadline loop that does work', code: `export async function drain(queue) { const end = Date.now() + 5; while (Date.now() < end && queue.length) queue.shift()() }` },
    { name: 'a loop that awaits', code: `export async function poll(check) { const end = Date.now() + 500; while (Date.now() < end) { if (await check()) return } }` },
    { name: 'Atomics.waitAsync', code: `export async function f(view) { await Atomics.waitAsync(view, 0, 0, 10).value }` },
    { name: 'a sync callback that is not run inline', code: `import { readFileSync } from 'node:fs'\nexport async function f(emitter) { emitter.on('x', () => readFileSync('y')) }` },
    { name: 'a local Atomics object', code: `const Atomics = { wait() {} }\nexport async function f() { Atomics.wait() }` },
  ],
  invalid: [
    { name: 'execSync', code: `import { execSync } from 'node:child_process'\nexport async function f() { return execSync('ls') }`, errors: [{ messageId: 'syncCall', data: { name: 'execSync', alternative: 'exec / execFile with a callback or util.promisify' } }] },
    { name: 'spawnSync on a required namespace', code: `const cp = require('child_process')\nexport async function f() { cp.spawnSync('ls') }`, errors: [{ messageId: 'syncCall' }] },
    { name: 'fs namespace', code: `import * as fs from 'fs'\nexport const f = async () => fs.readFileSync('x')`, errors: [{ messageId: 'syncCall', data: { name: 'fs.readFileSync', alternative: 'fs/promises readFile' } }] },
    { name: 'default fs import in a method', code: `import fs from 'node:fs'\nexport class A { async load() { return fs.statSync('x') } }`, errors: [{ messageId: 'syncCall' }] },
    { name: 'inline require', code: `export async function f() { return require('fs').readFileSync('x') }`, errors: [{ messageId: 'syncCall' }] },
    { name: 'crypto', code: `import { pbkdf2Sync } from 'node:crypto'\nexport async function hash(p) { return pbkdf2Sync(p, 's', 1e5, 64, 'sha512') }`, errors: [{ messageId: 'syncCall' }] },
    { name: 'inside an array callback of an async function', code: `import { readFileSync } from 'fs'\nexport async function f(files) { return files.map((f) => readFileSync(f)) }`, errors: [{ messageId: 'syncCall' }] },
    { name: 'Atomics.wait', code: `export async function sleep(ms) { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms) }`, errors: [{ messageId: 'atomicsWait' }] },
    { name: 'busy-wait on Date.now()', code: `export async function retry(fn) { const end = Date.now() + 100; while (Date.now() < end) {} return fn() }`, errors: [{ messageId: 'busyWait' }] },
    { name: 'busy-wait on performance.now() with for', code: `export async function f() { for (const start = performance.now(); performance.now() - start < 50;) ; }`, errors: [{ messageId: 'busyWait' }] },
    {
      name: "the audit's sync retry: a helper that sleeps the thread, called from async code",
      code: `function sleepSync(ms) { const end = Date.now() + ms; while (Date.now() < end) {} }\nexport async function call(fn) { for (let i = 0; i < 5; i++) { try { return await fn() } catch { sleepSync(100 * 2 ** i) } } }`,
      errors: [{ messageId: 'blockingHelper', data: { name: 'sleepSync', line: 1, how: 'a busy-wait loop on the clock' } }],
    },
  ],
})
