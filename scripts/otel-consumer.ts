/**
 * `asyncsafe/otel` as users get it (run by `npm run check:package` in the fresh project
 * that has the packed tarball installed, after the smoke test has imported every subpath):
 * - without `@opentelemetry/api` installed (it is an optional peer): the subpath loads
 *   through `import` and `require`; `instrument()` without providers throws a TypeError
 *   that says to install it; with a provider passed it records a Mutex's wait and hold
 *   and leaves nothing subscribed once disposed;
 * - with the API installed (linked from the repository's install): `instrument()` takes
 *   the global providers (the API's no-op ones here) through `import` and `require`.
 */
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { root, run } from './lib.js'
import type { CheckResult } from './consumer-test.js'

/** A program (ESM or CJS) that checks the bridge; prints `ok` on success. */
function program(kind: 'esm' | 'cjs', apiInstalled: boolean): string {
  const load = kind === 'esm' ? "await import('asyncsafe/otel')" : "require('asyncsafe/otel')"
  const locks = kind === 'esm' ? "await import('asyncsafe/locks')" : "require('asyncsafe/locks')"
  const body = `
const assert = require_('node:assert')
const dc = require_('node:diagnostics_channel')
const { instrument } = ${load}
const { Mutex } = ${locks}
const recorded = []
const instrumentFor = (name) => ({ record: (v, a) => recorded.push([name, v, a]), add: (v, a) => recorded.push([name, v, a]), addCallback() {}, removeCallback() {} })
const meter = { createHistogram: instrumentFor, createCounter: instrumentFor, createObservableGauge: instrumentFor }
const meterProvider = { getMeter: () => meter }
${apiInstalled
  ? `{
  // Plain JavaScript on Node 20 has no \`using\`: dispose by hand.
  const bridge = instrument()
  assert.equal(bridge.spans, false)
  const traced = instrument({ spans: true, modules: ['locks'] })
  assert.equal(traced.spans, true)
  assert.equal(await new Mutex().runExclusive(() => 1), 1)
  traced[Symbol.dispose]()
  bridge[Symbol.dispose]()
}`
  : `assert.throws(() => instrument(), (e) => e instanceof TypeError && /@opentelemetry\\/api is not installed/.test(e.message))`}
const bridge = instrument({ meterProvider, modules: ['locks'] })
let t = 0
const m = new Mutex({ name: 'm', clock: () => t })
await m.runExclusive(() => { t = 3 })
assert.deepEqual(recorded, [['asyncsafe.lock.wait', 0, { 'asyncsafe.lock.name': 'm', 'asyncsafe.lock.kind': 'Mutex' }], ['asyncsafe.lock.hold', 3, { 'asyncsafe.lock.name': 'm', 'asyncsafe.lock.kind': 'Mutex' }]])
const names = bridge.channels
assert.ok(names.length > 0 && names.every((n) => dc.channel(n).hasSubscribers))
bridge[Symbol.dispose]()
assert.deepEqual(names.filter((n) => dc.channel(n).hasSubscribers), [])
console.log('ok')
`
  if (kind === 'esm') return `import { createRequire } from 'node:module'\nconst require_ = createRequire(import.meta.url)\n${body}`
  return `'use strict'\nconst require_ = require\n;(async () => {${body}})().catch((e) => { console.error(e); process.exitCode = 1 })\n`
}

/** Runs the checks in `project` (a fresh install of the tarball). */
export function runOtelConsumerChecks(project: string): CheckResult[] {
  const results: CheckResult[] = []
  const dir = join(project, 'otel')
  mkdirSync(dir, { recursive: true })
  const api = join(project, 'node_modules', '@opentelemetry', 'api')
  const present = existsSync(api)
  results.push({ ok: !present, what: 'the fresh project has no @opentelemetry/api (an optional peer is not installed with the package)', detail: api })
  for (const apiInstalled of [false, true]) {
    if (apiInstalled && !existsSync(api)) {
      mkdirSync(join(project, 'node_modules', '@opentelemetry'), { recursive: true })
      symlinkSync(join(root, 'node_modules', '@opentelemetry', 'api'), api, 'dir')
    }
    for (const kind of ['esm', 'cjs'] as const) {
      const file = join(dir, `check-${apiInstalled ? 'with' : 'without'}-api.${kind === 'esm' ? 'mjs' : 'cjs'}`)
      writeFileSync(file, program(kind, apiInstalled))
      const r = run(process.execPath, [file], { cwd: project })
      const ok = r.status === 0 && r.stdout.trim() === 'ok' && r.stderr.trim() === ''
      const what = apiInstalled
        ? `asyncsafe/otel (${kind === 'esm' ? 'import' : 'require'}) with @opentelemetry/api installed: instrument() uses the global providers`
        : `asyncsafe/otel (${kind === 'esm' ? 'import' : 'require'}) without @opentelemetry/api: loads, instrument() asks for the API, a passed provider records a Mutex, dispose unsubscribes`
      results.push({ ok, what, detail: r.stdout + r.stderr })
    }
  }
  return results
}
