/**
 * The ESLint plugin as users get it (run by `npm run check:package` in the fresh project
 * that has the packed tarball installed):
 * - `asyncsafe/eslint` loads through `import` (eslint.config.mjs) and `require`
 *   (eslint.config.cjs), and each of its five rules reports its hazard in a sample file
 *   linted with type information (the lock rule's case needs it: the observer's method
 *   has no callback-like name);
 * - an `eslint.config.ts` that uses the plugin with eslint's `defineConfig` and with
 *   `tseslint.config` type checks against the published .d.ts.
 * eslint, typescript-eslint and typescript are linked from the repository's install
 * (they are optional peer dependencies: the runtime subpaths never load them).
 */
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { root, run } from './lib.js'
import type { CheckResult } from './consumer-test.js'

const HAZARDS = `import { Mutex } from 'async-mutex'
import { execSync } from 'node:child_process'
import { listen } from 'asyncsafe/guards'
import { EventEmitter } from 'node:events'

interface CacheObserver { evicted(key: string): Promise<void> }
const lock = new Mutex()

export async function set(o: CacheObserver, key: string): Promise<void> {
  await lock.runExclusive(async () => {
    await o.evicted(key)
  })
}

export function subscribe(emitter: EventEmitter): void {
  listen(emitter, 'data', () => {})
}

declare function record(): Promise<void>
export function approve(): void {
  void record()
}

export async function build(): Promise<string> {
  return execSync('ls').toString()
}

export class Client {
  conn?: { close(): void }
  async get(): Promise<{ close(): void }> {
    if (!this.conn) this.conn = await connect()
    return this.conn
  }
}
declare function connect(): Promise<{ close(): void }>
`

/** rule → line it must report in HAZARDS (and nothing else may be reported). */
const EXPECTED: Record<string, number> = {
  'asyncsafe/no-await-while-holding': 11,
  'asyncsafe/require-using': 16,
  'asyncsafe/no-floating-detached': 21,
  'asyncsafe/no-blocking-in-async': 25,
  'asyncsafe/no-check-then-start': 31,
}

const configBody = (pluginExpr: string, tseslintExpr: string, dirExpr: string): string => `[
  { files: ['src/**/*.ts'], languageOptions: { parser: ${tseslintExpr}.parser, parserOptions: { projectService: true, tsconfigRootDir: ${dirExpr} } } },
  ${pluginExpr}.configs.recommended,
]`

const CONFIG_TS = `import { defineConfig } from 'eslint/config'
import tseslint from 'typescript-eslint'
import asyncsafe, { configs, rules, type RuleName } from 'asyncsafe/eslint'

const name: RuleName = 'require-using'
export const viaDefineConfig = defineConfig(
  { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
  asyncsafe.configs.recommended,
  { plugins: { asyncsafe }, rules: { [\`asyncsafe/\${name}\`]: 'error', 'asyncsafe/no-blocking-in-async': ['error', { allow: ['existsSync'] }] } },
)
export const viaTseslint = tseslint.config(...tseslint.configs.recommended, configs.recommended, { plugins: { asyncsafe } })
export const ruleCount: number = Object.keys(rules).length
`

/** Runs the checks in `project` (asyncsafe installed there from the tarball). */
export function runEslintConsumerChecks(project: string): CheckResult[] {
  const results: CheckResult[] = []
  const modules = join(project, 'node_modules')
  for (const name of ['eslint', 'typescript-eslint', 'typescript', 'async-mutex', '@types']) {
    const target = join(modules, name)
    if (!existsSync(target)) symlinkSync(join(root, 'node_modules', name), target, 'dir')
  }
  const dir = join(project, 'eslint-consumer')
  mkdirSync(join(dir, 'src'), { recursive: true })
  writeFileSync(join(dir, 'src', 'hazards.ts'), HAZARDS)
  writeFileSync(
    join(dir, 'tsconfig.json'),
    `${JSON.stringify({ compilerOptions: { target: 'ES2022', lib: ['ES2023', 'ESNext.Disposable'], module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], strict: true, noEmit: true, skipLibCheck: true }, include: ['src', 'eslint.config.ts'] }, null, 2)}\n`,
  )
  writeFileSync(join(dir, 'package.json'), '{ "name": "eslint-consumer", "private": true, "type": "module" }\n')
  writeFileSync(join(dir, 'eslint.config.mjs'), `import tseslint from 'typescript-eslint'\nimport asyncsafe from 'asyncsafe/eslint'\nexport default ${configBody('asyncsafe', 'tseslint', 'import.meta.dirname')}\n`)
  writeFileSync(join(dir, 'eslint.config.cjs'), `const tseslint = require('typescript-eslint')\nconst asyncsafe = require('asyncsafe/eslint')\nmodule.exports = ${configBody('asyncsafe', 'tseslint', '__dirname')}\n`)
  const eslintBin = join(modules, 'eslint', 'bin', 'eslint.js')
  for (const config of ['eslint.config.mjs', 'eslint.config.cjs']) {
    const lint = run(process.execPath, [eslintBin, '-c', config, '-f', 'json', 'src'], { cwd: dir, timeoutMs: 180_000 })
    let found: string[] = []
    let detail = lint.stderr
    try {
      const report = JSON.parse(lint.stdout) as { messages: { ruleId: string | null; line: number; message: string }[] }[]
      found = report.flatMap((file) => file.messages.map((m) => `${m.ruleId ?? 'fatal'}:${m.line}`)).sort()
      detail += report.flatMap((file) => file.messages.map((m) => `${m.ruleId ?? 'fatal'}:${m.line} ${m.message}`)).join('\n')
    } catch {
      detail += lint.stdout.slice(0, 2000)
    }
    const expected = Object.entries(EXPECTED).map(([rule, line]) => `${rule}:${line}`).sort()
    results.push({ ok: found.join() === expected.join(), what: `asyncsafe/eslint through ${config}: each of the 5 rules reports its hazard (typed), nothing else`, detail: `expected ${expected.join(', ')}\nfound ${found.join(', ')}\n${detail}` })
  }
  writeFileSync(join(dir, 'eslint.config.ts'), CONFIG_TS)
  const tsc = run(process.execPath, [join(modules, 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: dir })
  results.push({ ok: tsc.status === 0, what: 'an eslint.config.ts using asyncsafe/eslint with defineConfig and tseslint.config type checks (NodeNext)', detail: tsc.stdout + tsc.stderr })
  return results
}
