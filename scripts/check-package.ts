/**
 * `npm run check:package`: checks the package the way users receive it.
 *
 * 1. builds dist with tsup and checks it: no raw `using` declarations (Node 20 cannot
 *    parse them), and no static `node:` import reachable from a runtime-neutral entry;
 * 2. packs the tarball into a temporary directory and checks its file list;
 * 3. publint --strict and @arethetypeswrong/cli (profile strict: node10 through
 *    typesVersions, node16 ESM, node16 CJS and bundler resolution for every subpath) on
 *    that tarball, no error or warning;
 * 4. a size budget per subpath (.size-limit.json, min+gzip; see scripts/size.ts);
 * 5. installs the tarball into a fresh project and `import()`s and `require()`s every
 *    subpath (on Node 20, and on 22/24 when .ci/run has installed them), checking that
 *    ESM and CJS export the same names and that subpaths share one class identity;
 * 6. the consumer type test (scripts/consumer-test.ts) against the published .d.ts;
 * 7. the README's programs (scripts/readme-check.ts --installed) against the tarball.
 * 8. the ESLint plugin from the tarball: loaded by import and require, each rule
 *    reporting its hazard, an eslint.config.ts type checking (scripts/eslint-consumer.ts).
 * 9. asyncsafe/otel from the tarball, without and with @opentelemetry/api installed, by
 *    import and require (scripts/otel-consumer.ts).
 * Step 1 also proves that no runtime entry reaches the plugin or eslint/typescript, and
 * that no entry but asyncsafe/otel reaches dist/otel or @opentelemetry/api.
 *
 * Options: `--no-build` reuses dist; `--no-consumer` skips step 6; `--keep` leaves the
 * temporary directory in place.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { transformSync } from 'esbuild'
import { Checks, indent, root, run, specifier, subpaths } from './lib.js'
import { runConsumerTests } from './consumer-test.js'
import { runEslintConsumerChecks } from './eslint-consumer.js'
import { runOtelConsumerChecks } from './otel-consumer.js'
import { kB, measureSizes } from './size.js'

const args = new Set(process.argv.slice(2))
const checks = new Checks()
const bin = (name: string): string => join(root, 'node_modules', '.bin', name)
const started = performance.now()
const step = (title: string): void => {
  console.log(`\n== ${title} (${((performance.now() - started) / 1000).toFixed(1)} s)`)
}

// ---------------------------------------------------------------- 1. build and dist
step('build (tsup)')
if (!args.has('--no-build')) {
  const build = run(bin('tsup'), [])
  checks.check(build.status === 0, 'tsup build', build.stdout + build.stderr)
}
const dist = join(root, 'dist')
const distFiles = existsSync(dist) ? listFiles(dist) : []
const codeFiles = distFiles.filter((f) => /\.(c|m)?js$/.test(f))
checks.check(codeFiles.length > 0, `dist has ${codeFiles.length} .js/.cjs files`)

// A `using` / `await using` declaration: the keyword followed by a binding and `=`.
// tsup (target node20) must have lowered all of them. Comments are removed first (the
// JSDoc examples are full of `using`), by esbuild's whitespace minifier; then every file
// must also pass `node --check`, which on Node 20 and 22 rejects the syntax outright.
const usingDeclaration = /(?:^|[^\w$.])(?:await\s+)?using\s+[A-Za-z_$][\w$]*\s*=(?!=)/
const rawUsing: string[] = []
for (const file of codeFiles) {
  const code = transformSync(readFileSync(file, 'utf8'), { minifyWhitespace: true, format: file.endsWith('.cjs') ? 'cjs' : 'esm', loader: 'js' }).code
  if (usingDeclaration.test(stripStrings(code))) rawUsing.push(relative(root, file))
}
checks.check(rawUsing.length === 0, 'dist contains no raw `using`/`await using` declarations', rawUsing.join('\n'))
const unparsable = codeFiles.map((file) => [file, run(process.execPath, ['--check', file])] as const).filter(([, r]) => r.status !== 0)
checks.check(unparsable.length === 0, `every dist file parses on node ${process.version} (node --check)`, unparsable.map(([f, r]) => `${relative(root, f)}: ${r.stderr.slice(0, 500)}`).join('\n'))

// Runtime-neutral entries must not reach a static node: import (DESIGN.md: they run on
// any runtime with promises, AbortController and Symbol.dispose).
// tsup writes built-ins without the `node:` prefix, so match both spellings. The one
// sanctioned way to reach a built-in is a guarded runtime lookup: process.getBuiltinModule,
// through src/internal/builtin.ts's loadBuiltin.
const builtinNames = builtinModules.map((m) => m.replace(/[/\\^$*+?.()|[\]{}]/g, '\\$&')).join('|')
const staticBuiltin = new RegExp(`(?:from\\s*|import\\s*\\(\\s*|require\\s*\\(\\s*|import\\s+)["'](?:node:)?(?:${builtinNames})["']`)
const neutralEntries = ['index', 'locks/index', 'cache/index', 'guards/index', 'tasks/index', 'compat/async-mutex']
for (const ext of ['js', 'cjs']) {
  const offenders: string[] = []
  for (const entry of neutralEntries) {
    const file = join(dist, `${entry}.${ext}`)
    if (!existsSync(file)) {
      offenders.push(`${entry}.${ext}: missing`)
      continue
    }
    for (const reached of reachable(file)) {
      const code = readFileSync(reached, 'utf8')
      if (staticBuiltin.test(code) || /["']node:[\w/]+["']/.test(code.replace(/(?:getBuiltinModule\?*\.?|loadBuiltin)\(\s*["']node:[\w/]+["']/g, ''))) {
        offenders.push(`${entry}.${ext} reaches ${relative(dist, reached)}`)
      }
    }
  }
  checks.check(offenders.length === 0, `runtime-neutral ${ext.toUpperCase()} entries import no node: module statically`, offenders.join('\n'))
}

// asyncsafe/redis takes the user's client instance: no dist file may load a Redis client
// (ioredis, node-redis), so importing any subpath, asyncsafe/redis included, never does
// (step 5 also imports asyncsafe/redis in a project that has no client installed).
const clientImport = /(?:from\s*|import\s*\(\s*|require\s*\(\s*|import\s+)["'](?:ioredis|redis|@redis\/[\w-]+)(?:\/[^"']*)?["']/
const clientOffenders = codeFiles.filter((file) => clientImport.test(readFileSync(file, 'utf8'))).map((file) => relative(root, file))
checks.check(clientOffenders.length === 0, 'no dist file imports a Redis client (asyncsafe/redis uses the instance it is given)', clientOffenders.join('\n'))
// The ESLint plugin is never bundled into a runtime entry, and no runtime entry loads
// eslint, typescript-eslint or typescript (DESIGN.md: optional peers of the plugin only).
const lintTooling = /(?:from\s*|import\s*\(\s*|require\s*\(\s*|import\s+)["'](?:eslint|typescript|typescript-eslint|@typescript-eslint\/[\w-]+)(?:\/[\w./-]*)?["']/
for (const ext of ['js', 'cjs']) {
  const offenders: string[] = []
  for (const entry of [...neutralEntries, 'node/index']) {
    const file = join(dist, `${entry}.${ext}`)
    if (!existsSync(file)) continue
    for (const reached of reachable(file)) {
      if (relative(dist, reached).startsWith('eslint')) offenders.push(`${entry}.${ext} reaches ${relative(dist, reached)}`)
      else if (lintTooling.test(readFileSync(reached, 'utf8'))) offenders.push(`${entry}.${ext} reaches ${relative(dist, reached)}, which imports lint tooling`)
    }
  }
  checks.check(offenders.length === 0, `runtime ${ext.toUpperCase()} entries reach neither dist/eslint nor eslint/typescript`, offenders.join('\n'))
}

// The OpenTelemetry bridge is never bundled into another entry, and only dist/otel loads
// @opentelemetry/api (DESIGN.md: an optional peer of asyncsafe/otel alone): importing
// `asyncsafe` or any other subpath never loads it.
const otelApi = /(?:from\s*|import\s*\(\s*|require\s*\(\s*|import\s+|\)\s*\(\s*)["']@opentelemetry\/[\w-]+(?:\/[\w./-]*)?["']/
for (const ext of ['js', 'cjs']) {
  const offenders: string[] = []
  for (const entry of [...neutralEntries, 'node/index', 'redis/index', 'eslint/index']) {
    const file = join(dist, `${entry}.${ext}`)
    if (!existsSync(file)) continue
    for (const reached of reachable(file)) {
      if (relative(dist, reached).startsWith('otel')) offenders.push(`${entry}.${ext} reaches ${relative(dist, reached)}`)
      else if (otelApi.test(readFileSync(reached, 'utf8'))) offenders.push(`${entry}.${ext} reaches ${relative(dist, reached)}, which loads @opentelemetry/api`)
    }
  }
  checks.check(offenders.length === 0, `no ${ext.toUpperCase()} entry but asyncsafe/otel reaches dist/otel or @opentelemetry/api`, offenders.join('\n'))
  const own = join(dist, `otel/index.${ext}`)
  checks.check(existsSync(own) && otelApi.test(readFileSync(own, 'utf8')), `the check above would see it: dist/otel/index.${ext} loads @opentelemetry/api`)
}

// ---------------------------------------------------------------- 2. pack
step('npm pack')
const work = mkdtempSync(join(tmpdir(), 'asyncsafe-package-'))
const packed = run('npm', ['pack', '--json', '--pack-destination', work])
let tarball = ''
let packedFiles: string[] = []
try {
  const info = (JSON.parse(packed.stdout) as { filename: string; files: { path: string }[]; size: number; unpackedSize: number }[])[0]!
  tarball = join(work, info.filename)
  packedFiles = info.files.map((f) => f.path).sort()
  console.log(`  ${info.filename}: ${packedFiles.length} files, ${(info.size / 1024).toFixed(1)} kB packed, ${(info.unpackedSize / 1024).toFixed(1)} kB unpacked`)
} catch {
  /* reported below */
}
if (checks.check(packed.status === 0 && existsSync(tarball), 'npm pack', packed.stderr)) {
  const unexpected = packedFiles.filter((f) => !/^(dist\/.+\.(js|cjs|d\.ts|d\.cts)|package\.json|README\.md|LICENSE)$/.test(f))
  checks.check(unexpected.length === 0, 'tarball holds only dist, README.md, LICENSE and package.json', unexpected.join('\n'))
  checks.check(packedFiles.includes('README.md') && packedFiles.includes('LICENSE'), 'tarball includes README.md and LICENSE')
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, Record<string, string>>> }
  const targets = Object.values(pkg.exports).flatMap((entry) => (typeof entry === 'string' ? [] : Object.values(entry).flatMap((c) => Object.values(c))))
  const missing = targets.map((t) => t.replace(/^\.\//, '')).filter((t) => !packedFiles.includes(t))
  checks.check(missing.length === 0, `every exports target (${targets.length}) is in the tarball`, missing.join('\n'))
}

// ---------------------------------------------------------------- 3. publint, attw
if (tarball) {
  step('publint --strict')
  const lint = run(bin('publint'), ['--strict', tarball])
  console.log(indent(lint.stdout.trim()))
  checks.check(lint.status === 0 && lint.stdout.includes('All good!'), 'publint --strict: no errors, warnings or suggestions', lint.stderr)

  step('@arethetypeswrong/cli --profile strict')
  const attw = run(bin('attw'), [tarball, '--profile', 'strict', '--format', 'json'])
  try {
    const report = JSON.parse(attw.stdout) as AttwReport
    const analysis = report.analysis
    const grouped = report.problems ?? analysis.problems ?? []
    const problems = Array.isArray(grouped) ? grouped : Object.values(grouped).flat()
    checks.check(problems.length === 0, `attw: no problems (${problems.length})`, JSON.stringify(problems, null, 2).slice(0, 4000))
    for (const subpath of subpaths()) {
      const entry = analysis.entrypoints[subpath]
      const modes = ['node10', 'node16-cjs', 'node16-esm', 'bundler'] as const
      const bad = modes.filter((mode) => {
        const res = entry?.resolutions[mode]?.resolution
        return !res?.isTypeScript || !res.fileName
      })
      checks.check(entry !== undefined && bad.length === 0, `attw: ${specifier(subpath)} resolves to types for node10, node16 CJS, node16 ESM and bundler`, `unresolved: ${bad.join(', ')}`)
    }
  } catch (error) {
    checks.check(false, 'attw ran and printed JSON', `${String(error)}\n${attw.stdout.slice(0, 2000)}\n${attw.stderr.slice(0, 2000)}`)
  }
}

// ---------------------------------------------------------------- 4. size budgets
step('size budgets (.size-limit.json, esbuild min + gzip)')
try {
  for (const r of await measureSizes()) checks.check(r.passed, `${r.name}: ${kB(r.size)} min+gzip (${kB(r.minified)} min), budget ${r.limit}`)
} catch (error) {
  checks.check(false, 'size measurement ran', String(error))
}

// ---------------------------------------------------------------- 5. fresh project
if (tarball) {
  step('fresh project: npm install <tarball>; import() and require() of every subpath')
  const project = join(work, 'consumer')
  mkdirSync(project, { recursive: true })
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'asyncsafe-consumer', version: '0.0.0', private: true }, null, 2)}\n`)
  const install = run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', '--offline', tarball], { cwd: project })
  if (checks.check(install.status === 0 && existsSync(join(project, 'node_modules', 'asyncsafe', 'package.json')), 'npm install of the tarball in a fresh project', install.stderr)) {
    writeFileSync(join(project, 'smoke.mjs'), smokeScript('esm'))
    writeFileSync(join(project, 'smoke.cjs'), smokeScript('cjs'))
    const nodes: [string, string][] = [['node', process.execPath]]
    for (const major of [22, 24]) {
      const candidate = join(root, '.tmp', `node${major}`, 'node_modules', '.bin', 'node')
      if (existsSync(candidate)) nodes.push([`node${major}`, candidate])
    }
    for (const [label, node] of nodes) {
      const version = run(node, ['--version']).stdout.trim()
      const esm = run(node, ['smoke.mjs'], { cwd: project })
      const cjs = run(node, ['smoke.cjs'], { cwd: project })
      const ok = checks.check(esm.status === 0, `${label} ${version}: import() of every subpath`, esm.stdout + esm.stderr)
      const okCjs = checks.check(cjs.status === 0, `${label} ${version}: require() of every subpath`, cjs.stdout + cjs.stderr)
      if (ok && okCjs) {
        const esmNames = JSON.parse(esm.stdout) as Record<string, string[]>
        const cjsNames = JSON.parse(cjs.stdout) as Record<string, string[]>
        const differ = Object.keys(esmNames).filter((s) => esmNames[s]!.join() !== cjsNames[s]?.join())
        checks.check(differ.length === 0, `${label}: ESM and CJS export the same names on every subpath`, differ.map((s) => `${s}: esm [${esmNames[s]!.join()}] cjs [${cjsNames[s]?.join() ?? ''}]`).join('\n'))
        if (label === 'node') {
          console.log(indent(Object.entries(esmNames).map(([s, names]) => `${s}: ${names.length} exports`).join('\n')))
        }
      }
    }

    if (args.has('--no-consumer')) console.log('\n== consumer type test skipped (--no-consumer)')
    else {
      step('consumer type test against the published .d.ts')
      for (const c of runConsumerTests(project)) checks.check(c.ok, c.what, c.detail)
      step('ESLint plugin from the tarball (import, require, rules, eslint.config.ts types)')
      for (const c of runEslintConsumerChecks(project)) checks.check(c.ok, c.what, c.detail)
      step('asyncsafe/otel from the tarball, without and with @opentelemetry/api')
      for (const c of runOtelConsumerChecks(project)) checks.check(c.ok, c.what, c.detail)
    }
    step("README programs against the installed tarball (readme-check --installed)")
    const readme = run(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'readme-check.ts'), '--installed', project], { timeoutMs: 600_000 })
    checks.check(readme.status === 0, "README's ts blocks type-check against the published .d.ts and run on dist, printing their output blocks", readme.stdout.split('\n').filter((l) => !l.startsWith('  ok')).join('\n'))
  }
}

if (!args.has('--keep')) rmSync(work, { recursive: true, force: true })
else console.log(`\nkept ${work}`)
checks.finish(`check:package (${((performance.now() - started) / 1000).toFixed(1)} s)`)

// ---------------------------------------------------------------- helpers

interface AttwResolution {
  resolution?: { fileName?: string; isTypeScript?: boolean }
}
interface AttwReport {
  problems?: unknown[] | Record<string, unknown[]>
  analysis: { problems?: unknown[] | Record<string, unknown[]>; entrypoints: Record<string, { resolutions: Partial<Record<'node10' | 'node16-cjs' | 'node16-esm' | 'bundler', AttwResolution>> } | undefined> }
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? listFiles(join(dir, d.name)) : [join(dir, d.name)]))
}

/** Blanks out string literal contents so that `"using x = "` in a message is not matched. */
function stripStrings(code: string): string {
  return code.replace(/(["'`])(?:\\.|(?!\1)[^\\\n])*\1/g, '""')
}

/** The files a dist file reaches through its relative static imports and requires. */
function reachable(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen
  seen.add(file)
  const code = readFileSync(file, 'utf8')
  for (const match of code.matchAll(/(?:from\s*|import\s*|require\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g)) {
    const target = join(file, '..', match[1]!)
    if (existsSync(target)) reachable(target, seen)
  }
  return seen
}

/**
 * A script for the fresh project that loads every subpath and prints its export names
 * as JSON; it also checks that the root barrel and the module subpaths hand out the same
 * classes (tsup's shared chunks).
 */
function smokeScript(kind: 'esm' | 'cjs'): string {
  const specs = subpaths().map(specifier)
  const load = kind === 'esm' ? 'await import(spec)' : 'require(spec)'
  const body = `
const specs = ${JSON.stringify(specs)}
const modules = {}
for (const spec of specs) modules[spec] = ${load}
const names = {}
for (const [spec, mod] of Object.entries(modules)) names[spec] = Object.keys(mod).filter((k) => k !== 'default' && k !== '__esModule').sort()
const root = modules['asyncsafe']
const problems = []
for (const sub of ['asyncsafe/locks', 'asyncsafe/cache', 'asyncsafe/guards', 'asyncsafe/tasks']) {
  for (const name of names[sub]) {
    if (!(name in root)) problems.push(sub + ': ' + name + ' missing from asyncsafe')
    else if (root[name] !== modules[sub][name]) problems.push(sub + ': ' + name + ' is a different object than asyncsafe.' + name)
  }
}
// A class or function is named as it is exported (a bundler must not ship \`_TaskGuard\`): users see
// the name in stack traces, logs and util.inspect. The ponyfills carry their own name.
for (const [spec, mod] of Object.entries(modules)) {
  for (const name of names[spec]) {
    const value = mod[name]
    if (typeof value === 'function' && value.name !== name && value.name !== 'Ponyfill' + name) problems.push(spec + ': ' + name + ' is named ' + JSON.stringify(value.name))
  }
}
if (problems.length > 0) { console.error(problems.join('\\n')); process.exit(1) }
console.log(JSON.stringify(names))
`
  return kind === 'esm' ? body : `'use strict'\n;(() => {${body}})()\n`
}
