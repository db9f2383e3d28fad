/**
 * `npm run readme:check`: every ```ts block of README.md is a complete program, and it
 * does what the README says it prints.
 *
 * The convention a README code block follows:
 * - Every fenced block is tagged: ```ts for TypeScript programs, ```text for their
 *   output, ```sh / ```jsonc / ```js / ```diff for the rest (not checked).
 * - A ```ts block is a complete ES module (top-level await allowed) that imports only
 *   from the package's public specifiers (`asyncsafe`, `asyncsafe/locks`... as in
 *   package.json's `exports`), its peer dependencies (`ioredis`...), the libraries the
 *   migration notes compare with (`MIGRATED_FROM`) and `node:` built-ins, and defines
 *   every name it uses.
 * - A block that imports `asyncsafe/redis` runs against a real server: the check starts
 *   one (test/redis/server.ts, a random loopback port) and passes its URL as `REDIS_URL`.
 *   Without a server binary those blocks are only type-checked, with a note (with
 *   `ASYNCSAFE_REDIS_REQUIRED=1`, as in CI, that is a failure).
 * - The ```text block right after it (blank lines between are fine) is its exact
 *   standard output; in it, `…` matches any run of characters within a line (timings,
 *   pids). The program must exit 0 by itself (nothing left running) with nothing on
 *   standard error (a process warning there is a failure), within 20 s.
 * - A block that cannot run standalone (needs a network, a server, credentials) is
 *   marked on the line before its fence with `<!-- readme-check: typecheck-only (why) -->`:
 *   it is type-checked, not run, and has no output block.
 *
 * All blocks are type-checked together (strict, `lib` ES2023 + ESNext.Disposable,
 * @types/node), each block its own module. By default `asyncsafe/*` maps to the sources
 * (src/, through tsconfig `paths`, run with tsx); `--installed <project>` uses the
 * package installed in that project's node_modules instead (check:package runs it there
 * against the packed tarball).
 *
 * It also checks the Install section's import table against the real exports: each row
 * of a subpath lists exactly that subpath's runtime exports, and the `asyncsafe` row
 * lists what the root adds to the runtime-neutral subpaths.
 *
 * Sections listed in PENDING_SECTIONS are reported but not checked yet (their owners
 * convert them); remove a heading from the list once its blocks follow the convention.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { existsSync, symlinkSync } from 'node:fs'
import { Checks, root, run, specifier, subpaths } from './lib.js'
import { REDIS_REQUIRED, RedisServer, redisBinary } from '../test/redis/server.js'
import tsupConfig from '../tsup.config.js'

/** `## ` headings whose blocks are not converted yet (see the module comment). */
export const PENDING_SECTIONS: readonly string[] = []

const TAGS = new Set(['ts', 'text', 'sh', 'jsonc', 'js', 'diff'])
const MARKER = /^<!--\s*readme-check:\s*(.*?)\s*-->$/
const RUN_TIMEOUT_MS = 20_000

/** One ```ts block of the README. */
export interface Block {
  /** 1-based line of the opening fence. */
  readonly line: number
  /** `## Section › ### Subsection` it is in. */
  readonly where: string
  readonly section: string
  readonly code: string
  /** The ```text block after it, if any. */
  readonly expected: string | undefined
  readonly typecheckOnly: boolean
  /** Problems found while reading it (bad marker...). */
  readonly problems: string[]
}

/** Reads the README's fenced blocks; returns the ```ts ones and the problems of the others. */
export function readBlocks(text: string): { blocks: Block[]; problems: string[] } {
  const lines = text.split('\n')
  const blocks: Block[] = []
  const problems: string[] = []
  let section = ''
  let subsection = ''
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line.startsWith('## ')) {
      section = line
      subsection = ''
    } else if (line.startsWith('### ')) subsection = line
    const open = /^```(\S*)\s*$/.exec(line)
    if (open === null) continue
    const tag = open[1]!
    let end = i + 1
    while (end < lines.length && lines[end] !== '```') end++
    if (end === lines.length) {
      problems.push(`README.md:${i + 1}: unclosed code fence`)
      break
    }
    if (!TAGS.has(tag)) problems.push(`README.md:${i + 1}: code block tagged "${tag}"; tag it ${[...TAGS].join(', ')}`)
    if (tag === 'ts') {
      const own: string[] = []
      let previous = i - 1
      while (previous >= 0 && lines[previous]!.trim() === '') previous--
      const marker = previous >= 0 ? MARKER.exec(lines[previous]!.trim()) : null
      let typecheckOnly = false
      if (marker !== null) {
        if (/^typecheck-only\b/.test(marker[1]!)) typecheckOnly = true
        else own.push(`unknown marker "${marker[1]!}" (the only one is "typecheck-only (why)")`)
      }
      let next = end + 1
      while (next < lines.length && lines[next]!.trim() === '') next++
      let expected: string | undefined
      if (lines[next] === '```text') {
        let close = next + 1
        while (close < lines.length && lines[close] !== '```') close++
        expected = lines.slice(next + 1, close).join('\n')
      }
      if (typecheckOnly && expected !== undefined) own.push('a typecheck-only block has an output block')
      blocks.push({
        line: i + 1,
        where: [section.replace(/^## /, ''), subsection.replace(/^### /, '')].filter(Boolean).join(' › '),
        section,
        code: lines.slice(i + 1, end).join('\n'),
        expected,
        typecheckOnly,
        problems: own,
      })
    }
    i = end
  }
  return { blocks, problems }
}

/** Whether `actual` matches `expected`, where `…` in an expected line matches any run of characters. */
export function outputMatches(expected: string, actual: string): boolean {
  const norm = (s: string): string[] => s.replace(/\s+$/, '').split('\n').map((l) => l.replace(/\s+$/, ''))
  const want = norm(expected)
  const got = norm(actual)
  if (want.length !== got.length) return false
  return want.every((line, k) => {
    const pattern = line.split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')
    return new RegExp(`^${pattern}$`).test(got[k]!)
  })
}

/** The specifiers a block imports. */
function importsOf(code: string): string[] {
  const found: string[] = []
  for (const m of code.matchAll(/(?:^|[^\w$.])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[^\w$.])import\s*\(\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm)) {
    found.push(m[1] ?? m[2] ?? m[3]!)
  }
  return found
}

/** Libraries the migration notes show side by side with asyncsafe (devDependencies here). */
const MIGRATED_FROM = ['async-mutex', 'lru-cache', 'p-limit', 'p-queue', 'async-lock']

/** Packages a block may import besides asyncsafe: its peer dependencies and the libraries it migrates from, where installed. */
function installedPeers(): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { peerDependencies?: Record<string, string> }
  return [...Object.keys(pkg.peerDependencies ?? {}), ...MIGRATED_FROM].filter((name) => existsSync(join(root, 'node_modules', name, 'package.json')))
}

/** Whether a block needs a Redis server to run. */
function needsRedis(b: Block): boolean {
  return importsOf(b.code).includes('asyncsafe/redis')
}

/** The source file of each public specifier (from package.json exports and tsup's entries). */
function sourceOf(): Record<string, string> {
  // tsup's entries map each dist file to its source.
  const entries = (tsupConfig as { entry: Record<string, string> }).entry
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { import: { default: string } }> }
  const out: Record<string, string> = {}
  for (const subpath of subpaths()) {
    const dist = pkg.exports[subpath]!.import.default.replace(/^\.\/dist\//, '').replace(/\.js$/, '')
    const src = entries[dist]
    if (src === undefined) throw new Error(`readme-check: tsup.config.ts has no entry for ${subpath} (dist ${dist})`)
    out[specifier(subpath)] = join(root, src)
  }
  return out
}

interface Ran {
  status: number | null
  stdout: string
  stderr: string
  timedOut: boolean
}

function runProgram(file: string, cwd: string, tsx: string, extraEnv: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', tsx, file], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: undefined, FORCE_COLOR: '0', ...extraEnv } })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, RUN_TIMEOUT_MS)
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr, timedOut })
    })
  })
}

/** Runs `jobs` with at most `limit` at once. */
async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const k = next++
      results[k] = await jobs[k]!()
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker))
  return results
}

/** The import table: `| \`spec\` | what | runs on |` rows, names in backticks in the second column. */
function importTable(text: string): Map<string, string[]> {
  const rows = new Map<string, string[]>()
  const start = text.indexOf('| import | what | runs on |')
  if (start < 0) return rows
  for (const line of text.slice(start).split('\n').slice(2)) {
    if (!line.startsWith('|')) break
    const cells = line.split('|').map((c) => c.trim())
    const spec = /^`([^`]+)`$/.exec(cells[1] ?? '')?.[1]
    if (spec === undefined) continue
    rows.set(spec, [...(cells[2] ?? '').matchAll(/`([A-Za-z_$][\w$]*)`/g)].map((m) => m[1]!))
  }
  return rows
}

/** Compares the import table with the real runtime exports of each subpath. */
async function checkImportTable(checks: Checks, text: string, sources: Record<string, string>): Promise<void> {
  const table = importTable(text)
  checks.check(table.size > 0, 'README import table found (| import | what | runs on |)')
  const exportsOf = new Map<string, string[]>()
  for (const [spec, file] of Object.entries(sources)) {
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>
    exportsOf.set(spec, Object.keys(mod).sort())
  }
  const neutral = ['asyncsafe/locks', 'asyncsafe/cache', 'asyncsafe/guards', 'asyncsafe/tasks']
  for (const [spec, names] of exportsOf) {
    const listed = table.get(spec)
    if (listed === undefined) {
      checks.check(false, `import table has a row for ${spec}`)
      continue
    }
    // The root row lists what the root adds to the runtime-neutral subpaths (the errors).
    const covered = spec === 'asyncsafe' ? new Set(neutral.flatMap((s) => exportsOf.get(s) ?? [])) : new Set<string>()
    const expected = names.filter((n) => !covered.has(n))
    const missing = expected.filter((n) => !listed.includes(n))
    const extra = listed.filter((n) => !names.includes(n))
    checks.check(missing.length === 0 && extra.length === 0, `import table row ${spec} lists its ${expected.length} runtime exports${spec === 'asyncsafe' ? ' beyond the runtime-neutral subpaths' : ''}`, [missing.length > 0 ? `missing: ${missing.join(', ')}` : '', extra.length > 0 ? `not exported: ${extra.join(', ')}` : ''].filter(Boolean).join('\n'))
  }
  for (const spec of table.keys()) if (!exportsOf.has(spec)) checks.check(false, `import table row ${spec} is a public subpath`)
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const installedAt = args.includes('--installed') ? args[args.indexOf('--installed') + 1] : undefined
  const readmePath = join(root, 'README.md')
  const text = readFileSync(readmePath, 'utf8')
  const checks = new Checks()
  const { blocks, problems } = readBlocks(text)
  for (const p of problems) checks.check(false, p)
  const pending = blocks.filter((b) => PENDING_SECTIONS.some((s) => b.section.startsWith(s)))
  const checked = blocks.filter((b) => !pending.includes(b))
  const sources = sourceOf()
  const peers = installedPeers()
  const allowed = new Set([...Object.keys(sources), ...peers])

  const work = installedAt === undefined ? mkdtempSync(join(tmpdir(), 'asyncsafe-readme-')) : join(installedAt, 'readme-blocks')
  rmSync(work, { recursive: true, force: true })
  mkdirSync(work, { recursive: true })
  // Peer dependencies resolve from the work directory as from a user's project (their own
  // dependencies then resolve from the repository's node_modules, where the links point).
  for (const name of peers) {
    const link = join(work, 'node_modules', name)
    if (existsSync(link)) continue
    mkdirSync(join(link, '..'), { recursive: true })
    symlinkSync(join(root, 'node_modules', name), link, 'dir')
  }
  const fileOf = (b: Block): string => join(work, `readme-${String(b.line).padStart(4, '0')}.ts`)
  for (const b of checked) {
    for (const p of b.problems) checks.check(false, `README.md:${b.line} (${b.where}): ${p}`)
    const bad = importsOf(b.code).filter((s) => !allowed.has(s) && !s.startsWith('node:'))
    if (bad.length > 0) checks.check(false, `README.md:${b.line} (${b.where}) imports only public specifiers and node: built-ins`, `imports ${bad.join(', ')}`)
    if (!b.typecheckOnly && b.expected === undefined) checks.check(false, `README.md:${b.line} (${b.where}) is followed by a \`\`\`text block with its output (or marked typecheck-only)`)
    // `export {}` keeps a block without imports a module (top-level await, own scope).
    writeFileSync(fileOf(b), `${b.code}\nexport {}\n`)
  }

  const paths = installedAt === undefined ? Object.fromEntries(Object.entries(sources).map(([spec, file]) => [spec, [file]])) : undefined
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2023', 'ESNext.Disposable'],
      module: 'ESNext',
      moduleResolution: 'Bundler',
      types: ['node'],
      typeRoots: [join(root, 'node_modules', '@types')],
      strict: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: true,
      noEmit: true,
      isolatedModules: true,
      ...(paths === undefined ? {} : { paths }),
    },
    include: ['*.ts'],
  }
  writeFileSync(join(work, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`)
  // The blocks are ES modules (top-level await).
  writeFileSync(join(work, 'package.json'), '{ "private": true, "type": "module" }\n')

  console.log(`== README.md: ${blocks.length} \`\`\`ts blocks (${checked.length} checked, ${checked.filter((b) => b.typecheckOnly).length} of them typecheck-only), against ${installedAt === undefined ? 'src/' : relative(process.cwd(), join(installedAt, 'node_modules', 'asyncsafe'))}`)
  if (pending.length > 0) {
    const sections = [...new Set(pending.map((b) => b.section.replace(/^## /, '').replace(/:.*/, '')))]
    console.log(`  note  ${pending.length} blocks in sections awaiting conversion (${sections.join(', ')}) are not checked yet`)
  }

  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const typecheck = run(process.execPath, [tsc, '-p', join(work, 'tsconfig.json')], { cwd: work })
  // Map each error back to its README line.
  const byFile = new Map(checked.map((b) => [`readme-${String(b.line).padStart(4, '0')}.ts`, b]))
  const mapped = (typecheck.stdout + typecheck.stderr).split('\n').filter(Boolean).map((l) => {
    const m = /^(readme-\d+\.ts)\((\d+),(\d+)\): (.*)$/.exec(l.replace(`${work}/`, ''))
    const b = m ? byFile.get(m[1]!) : undefined
    return b && m ? `README.md:${b.line + Number(m[2])}:${m[3]} (${b.where}): ${m[4]}` : l
  })
  checks.check(typecheck.status === 0, `every checked block type-checks (strict, @types/node)`, mapped.join('\n'))

  const require = createRequire(import.meta.url)
  const tsx = pathToFileURL(require.resolve('tsx')).href
  let runnable = checked.filter((b) => !b.typecheckOnly && b.expected !== undefined)
  const redisBlocks = runnable.filter(needsRedis)
  let server: RedisServer | undefined
  if (redisBlocks.length > 0) {
    if (redisBinary() !== undefined) server = await RedisServer.start()
    else if (REDIS_REQUIRED) checks.check(false, `a redis-server for the ${redisBlocks.length} asyncsafe/redis blocks (ASYNCSAFE_REDIS_REQUIRED=1)`)
    else {
      console.log(`  note  ${redisBlocks.length} asyncsafe/redis blocks type-checked only: no redis-server or valkey-server on PATH`)
      runnable = runnable.filter((b) => !needsRedis(b))
    }
  }
  const env: Record<string, string> = server === undefined ? {} : { REDIS_URL: server.url }
  let results: Ran[]
  try {
    results = await pool(runnable.map((b) => () => runProgram(fileOf(b), work, tsx, needsRedis(b) ? env : {})), 2)
  } finally {
    await server?.stop()
  }
  runnable.forEach((b, k) => {
    const r = results[k]!
    const what = `README.md:${b.line} (${b.where}) runs and prints its output block`
    if (r.timedOut) checks.check(false, what, `still running after ${RUN_TIMEOUT_MS / 1000} s (something left running?)`)
    else if (r.status !== 0 || r.stderr.trim() !== '') checks.check(false, what, `exit ${r.status}\n--- stderr\n${r.stderr}\n--- stdout\n${r.stdout}`)
    else checks.check(outputMatches(b.expected!, r.stdout), what, `--- expected\n${b.expected!}\n--- printed\n${r.stdout}`)
  })

  await checkImportTable(checks, text, sources)
  if (installedAt === undefined) rmSync(work, { recursive: true, force: true })
  checks.finish('readme check')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main()
