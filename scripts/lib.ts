/**
 * Small helpers shared by the package scripts (check-package, consumer-test, example
 * load driver, soak): running commands with a visible status, and the list of subpaths
 * read from package.json's `exports`.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root (scripts/..). */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** What `run` returns: exit status and the captured output. */
export interface RunResult {
  status: number
  stdout: string
  stderr: string
}

/** Runs a command synchronously, capturing its output; never throws on a non-zero exit. */
export function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): RunResult {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? root,
    env: options.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: options.timeoutMs ?? 300_000,
  })
  if (result.error) return { status: 1, stdout: result.stdout, stderr: `${result.stderr}\n${String(result.error)}` }
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr }
}

/** The package's subpaths from `exports`, e.g. `['.', './locks', ...]` (without `./package.json`). */
export function subpaths(): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> }
  return Object.keys(pkg.exports).filter((key) => !key.endsWith('.json'))
}

/** The specifier a user writes for a subpath: `.` → `asyncsafe`, `./locks` → `asyncsafe/locks`. */
export function specifier(subpath: string): string {
  return subpath === '.' ? 'asyncsafe' : `asyncsafe/${subpath.slice(2)}`
}

/** Collects check results and prints a summary. */
export class Checks {
  readonly failures: string[] = []

  /** Records one check; prints a line either way. */
  check(ok: boolean, what: string, detail = ''): boolean {
    if (ok) console.log(`  ok    ${what}`)
    else {
      console.log(`  FAIL  ${what}${detail ? `\n${indent(detail)}` : ''}`)
      this.failures.push(what)
    }
    return ok
  }

  /** Prints the summary and sets the exit code. */
  finish(title: string): void {
    if (this.failures.length === 0) console.log(`\n${title}: all checks passed`)
    else {
      console.log(`\n${title}: ${this.failures.length} check(s) failed:\n${this.failures.map((f) => `  - ${f}`).join('\n')}`)
      process.exitCode = 1
    }
  }
}

/** Indents every line of `text` by four spaces (for failure details). */
export function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n')
}
