/**
 * Consumer type test driver (run by `npm run check:package`, or alone with
 * `npm run test:consumer`, which packs and installs the current dist itself).
 *
 * In a fresh project that has the packed tarball installed, it compiles the files of
 * test/consumer/ against the published .d.ts with each supported TypeScript: 5.2 (the
 * stated minimum), the repository's own (5.9) and the latest release (7.x, the native
 * compiler). 5.2 and the latest are installed at test time into `.tmp/typescript/<version>`
 * (not devDependencies: TypeScript 7 ships its binary in per-platform optional
 * dependencies, which a lock file would carry for every platform). Per compiler:
 * - `module: node16` + @types/node: usage.ts and signals.ts as ESM (.mts) and CJS (.cts),
 *   node.ts too; then the emitted ESM and CJS programs run (TypeScript's own `using`
 *   lowering over the library's guards);
 * - `moduleResolution: bundler` with only the DOM lib and no @types/node: usage.ts and
 *   signals.ts (the runtime-neutral subpaths need nothing from Node);
 * - no host types at all (`lib: ["ES2022", "ESNext.Disposable"]`, `types: []`,
 *   `skipLibCheck: false`): neutral.ts over every runtime-neutral subpath;
 * - the published .d.ts without skipLibCheck under node16 + @types/node (no DOM lib);
 * - legacy `moduleResolution: node10` (subpaths through typesVersions), which TypeScript 7
 *   no longer supports: there it must fail with that message (the README says so);
 * - the async-mutex adapter against async-mutex's interfaces, and `listen` with host
 *   EventTargets and EventEmitters.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Checks, root, run } from './lib.js'

/** One check's outcome. */
export interface CheckResult {
  ok: boolean
  what: string
  detail: string
}

/** A TypeScript compiler to run the consumer test with. */
interface Compiler {
  /** `TypeScript 5.2.2` and so on. */
  readonly label: string
  /** Path of its `bin/tsc` (run with node). */
  readonly tsc: string
  readonly major: number
}

/** The minimum TypeScript the README states. */
const MINIMUM_TYPESCRIPT = '5.2'
const sources = join(root, 'test', 'consumer')
const cacheDir = join(root, '.tmp', 'typescript')

/** `typescript@spec` installed under .tmp/typescript/<dir> (reused when already there). */
function installTypeScript(spec: string, dir: string): string | string[] {
  const prefix = join(cacheDir, dir)
  const tsc = join(prefix, 'node_modules', 'typescript', 'bin', 'tsc')
  if (existsSync(tsc)) return tsc
  rmSync(prefix, { recursive: true, force: true })
  mkdirSync(prefix, { recursive: true })
  const install = run('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `typescript@${spec}`], { timeoutMs: 300_000 })
  if (install.status !== 0 || !existsSync(tsc)) return [`npm install typescript@${spec} failed`, install.stderr.slice(-2000)]
  return tsc
}

/** The compilers to test with; an install that failed is a failed check. */
function compilers(results: CheckResult[]): Compiler[] {
  const found: string[] = [join(root, 'node_modules', 'typescript', 'bin', 'tsc')]
  const minimum = installTypeScript(MINIMUM_TYPESCRIPT, MINIMUM_TYPESCRIPT)
  const view = run('npm', ['view', 'typescript@latest', 'version'], { timeoutMs: 60_000 })
  const latestVersion = view.status === 0 ? view.stdout.trim() : ''
  let latest: string | string[]
  if (/^\d+\.\d+\.\d+$/.test(latestVersion)) latest = installTypeScript(latestVersion, latestVersion)
  else {
    // Offline: the newest release installed by an earlier run, if any (named in the label).
    const cached = existsSync(cacheDir) ? readdirSync(cacheDir).filter((d) => /^\d+\.\d+\.\d+$/.test(d)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })) : []
    latest = cached.length > 0 ? join(cacheDir, cached.at(-1)!, 'node_modules', 'typescript', 'bin', 'tsc') : ['npm view typescript@latest version failed and no release is cached', view.stderr]
  }
  for (const [what, tsc] of [[`TypeScript ${MINIMUM_TYPESCRIPT} (stated minimum)`, minimum], ['latest TypeScript', latest]] as const) {
    if (typeof tsc === 'string') found.push(tsc)
    else results.push({ ok: false, what: `${what} installed for the consumer test`, detail: tsc.join('\n') })
  }
  return found.map((tsc) => {
    const label = run(process.execPath, [tsc, '--version']).stdout.trim().replace(/^Version/, 'TypeScript')
    return { label, tsc, major: Number(/(\d+)\./.exec(label)?.[1] ?? 0) }
  })
}

function write(file: string, text: string): void {
  mkdirSync(join(file, '..'), { recursive: true })
  writeFileSync(file, text)
}

/** Lays out the consumer sources and tsconfigs in `project`. */
function prepare(project: string): void {
  const src = join(project, 'src')
  rmSync(src, { recursive: true, force: true })
  const read = (name: string): string => readFileSync(join(sources, name), 'utf8')
  const usage = read('usage.ts')
  const node = read('node.ts')
  const signals = read('signals.ts')
  write(join(src, 'esm', 'usage.mts'), usage)
  write(join(src, 'esm', 'node.mts'), node)
  write(join(src, 'esm', 'signals.mts'), signals)
  write(join(src, 'esm', 'main.mts'), "import { main } from './usage.mjs'\nimport { nodeOnly } from './node.mjs'\nawait main()\nawait nodeOnly()\nconsole.log('consumer esm: ok')\n")
  write(join(src, 'cjs', 'usage.cts'), usage)
  write(join(src, 'cjs', 'node.cts'), node)
  write(join(src, 'cjs', 'signals.cts'), signals)
  write(join(src, 'cjs', 'main.cts'), "import { main } from './usage.cjs'\nimport { nodeOnly } from './node.cjs'\nvoid main().then(nodeOnly).then(() => console.log('consumer cjs: ok'), (error: unknown) => { console.error(error); process.exitCode = 1 })\n")
  write(join(src, 'bundler', 'usage.ts'), usage)
  write(join(src, 'bundler', 'signals.ts'), signals)
  write(join(src, 'neutral', 'neutral.ts'), read('neutral.ts'))
  write(join(src, 'node10', 'usage.ts'), usage)
  write(join(src, 'node10', 'node.ts'), node)
  const listen = read('listen.ts')
  write(join(src, 'listen-esm', 'listen.mts'), listen)
  write(join(src, 'listen-esm', 'listen-emitter.mts'), read('listen-emitter.ts'))
  write(join(src, 'listen-bundler', 'listen.ts'), listen)
  write(join(src, 'compat', 'compat.mts'), read('compat.ts'))
  write(join(src, 'compat', 'compat.cts'), read('compat.ts'))
  for (const config of ['tsconfig.node16.json', 'tsconfig.bundler.json', 'tsconfig.node10.json', 'tsconfig.neutral.json']) cpSync(join(sources, config), join(project, config))
  const derived: Record<string, object> = {
    'tsconfig.compat.json': { extends: './tsconfig.node16.json', compilerOptions: { noEmit: true }, include: ['src/compat'] },
    'tsconfig.listen-node16.json': { extends: './tsconfig.node16.json', compilerOptions: { noEmit: true }, include: ['src/listen-esm'] },
    'tsconfig.listen-bundler.json': { extends: './tsconfig.bundler.json', compilerOptions: { noEmit: true }, include: ['src/listen-bundler'] },
  }
  for (const [name, config] of Object.entries(derived)) writeFileSync(join(project, name), `${JSON.stringify(config, null, 2)}\n`)

  // @types/node for the node16 configuration, linked from the repository's own install
  // (TypeScript follows the link to its real path, so undici-types resolves there too).
  // async-mutex likewise, for the adapter's assignability to async-mutex's interfaces.
  const typesDir = join(project, 'node_modules', '@types')
  if (!existsSync(join(typesDir, 'node'))) {
    mkdirSync(typesDir, { recursive: true })
    symlinkSync(join(root, 'node_modules', '@types', 'node'), join(typesDir, 'node'), 'dir')
  }
  if (!existsSync(join(project, 'node_modules', 'async-mutex'))) symlinkSync(join(root, 'node_modules', 'async-mutex'), join(project, 'node_modules', 'async-mutex'), 'dir')
}

/** The first compiler errors of a failed run, for the report. */
function firstErrors(output: string, count = 8): string {
  const lines = output.split('\n').filter((line) => /error TS\d+/.test(line))
  return (lines.length > 0 ? lines.slice(0, count) : output.split('\n').slice(0, count)).join('\n')
}

/** Runs the consumer test with one compiler. */
function runWith(project: string, compiler: Compiler, results: CheckResult[]): void {
  const tsc = (...args: string[]) => {
    const r = run(process.execPath, [compiler.tsc, ...args], { cwd: project })
    return { ok: r.status === 0, output: r.stdout + r.stderr }
  }
  const v = compiler.label
  const checks: [string, string[]][] = [
    ['module node16 + @types/node: ESM (.mts) and CJS (.cts) consumers compile, host AbortSignals interoperate', ['-p', 'tsconfig.node16.json', '--noEmit']],
    ['moduleResolution bundler, DOM lib, no @types/node: runtime-neutral consumer compiles, DOM AbortSignals interoperate', ['-p', 'tsconfig.bundler.json']],
    ['no host types (lib ES2022 + ESNext.Disposable, types [], skipLibCheck false): every runtime-neutral subpath compiles', ['-p', 'tsconfig.neutral.json']],
    ['published .d.ts compile without skipLibCheck (node16 + @types/node, no DOM lib)', ['-p', 'tsconfig.node16.json', '--noEmit', '--skipLibCheck', 'false']],
    ['compat adapter assignable to async-mutex 0.5 MutexInterface/SemaphoreInterface (node16 ESM and CJS)', ['-p', 'tsconfig.compat.json']],
    ['listen(new EventTarget() / new EventEmitter(), ...) compiles (node16 ESM + @types/node)', ['-p', 'tsconfig.listen-node16.json']],
    ['listen(new EventTarget(), ...) compiles (bundler, DOM lib)', ['-p', 'tsconfig.listen-bundler.json']],
  ]
  for (const [what, args] of checks) {
    const r = tsc(...args)
    results.push({ ok: r.ok, what: `${v}, ${what}`, detail: r.ok ? '' : firstErrors(r.output) })
  }

  // TypeScript 7 removed moduleResolution node10; the README states it.
  const node10 = tsc('-p', 'tsconfig.node10.json')
  if (compiler.major >= 7) {
    const refused = !node10.ok && /node10/i.test(node10.output)
    results.push({ ok: refused, what: `${v}, legacy moduleResolution node10 is refused by the compiler (README: unsupported from TypeScript 7)`, detail: refused ? '' : node10.ok ? 'it compiles now: update the README and this check' : firstErrors(node10.output) })
  } else {
    results.push({ ok: node10.ok, what: `${v}, legacy moduleResolution node10 (subpaths through typesVersions): consumer compiles`, detail: node10.ok ? '' : firstErrors(node10.output) })
  }

  const outDir = join('out', compiler.label.replace(/\W+/g, '-'))
  const emit = tsc('-p', 'tsconfig.node16.json', '--outDir', outDir)
  if (!emit.ok) {
    results.push({ ok: false, what: `${v}, node16 consumer emits`, detail: firstErrors(emit.output) })
    return
  }
  for (const [kind, file] of [['ESM', join(outDir, 'esm', 'main.mjs')], ['CJS', join(outDir, 'cjs', 'main.cjs')]] as const) {
    const ran = run(process.execPath, [file], { cwd: project, timeoutMs: 60_000 })
    results.push({ ok: ran.status === 0 && ran.stderr.trim() === '', what: `${v}, compiled ${kind} consumer runs (TypeScript-lowered using/await using over the guards)`, detail: ran.stdout + ran.stderr })
  }
}

/** Runs the consumer type test in `project` (which has asyncsafe installed). */
export function runConsumerTests(project: string): CheckResult[] {
  const results: CheckResult[] = []
  prepare(project)
  for (const compiler of compilers(results)) runWith(project, compiler, results)
  return results
}

// Standalone: pack the current dist, install it in a temporary project, run the test.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const checks = new Checks()
  const work = mkdtempSync(join(tmpdir(), 'asyncsafe-consumer-'))
  try {
    if (!existsSync(join(root, 'dist', 'index.js'))) checks.check(run(join(root, 'node_modules', '.bin', 'tsup'), []).status === 0, 'tsup build')
    const packed = run('npm', ['pack', '--json', '--pack-destination', work])
    const tarball = join(work, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename)
    const project = join(work, 'consumer')
    mkdirSync(project)
    writeFileSync(join(project, 'package.json'), '{ "name": "asyncsafe-consumer", "private": true }\n')
    const install = run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', '--offline', tarball], { cwd: project })
    if (checks.check(install.status === 0, 'npm install of the tarball', install.stderr)) {
      for (const r of runConsumerTests(project)) checks.check(r.ok, r.what, r.detail)
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  checks.finish('consumer type test')
}
