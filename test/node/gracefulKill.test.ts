import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { gracefulKill, setProcfsForTesting } from '../../src/node/gracefulKill.js'
import { watchEventLoop, type StallEvent } from '../../src/node/watchEventLoop.js'
import { expectNoUnhandledRejections } from '../helpers.js'

expectNoUnhandledRejections()

const linux = process.platform === 'linux'

/** Child scripts, run with `node -e` (no fixture files to build or lint). Each prints "ready" once set up. */
const TERM_EXITS = `process.on('SIGTERM', () => { setTimeout(() => process.exit(0), 20) }); setInterval(() => {}, 1000); process.stdout.write('ready\\n')`
const IGNORES_TERM = `process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); process.stdout.write('ready\\n')`
/** A group leader that exits on SIGTERM with a grandchild in its group (argv[1] 'stubborn': the grandchild ignores SIGTERM). */
const WITH_GRANDCHILD = `
const { spawn } = require('node:child_process')
const code = process.argv[1] === 'stubborn' ? ${JSON.stringify(IGNORES_TERM)} : ${JSON.stringify(TERM_EXITS)}
const grandchild = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
grandchild.stdout.once('data', () => process.stdout.write('ready ' + grandchild.pid + '\\n'))
process.on('SIGTERM', () => process.exit(0))
setInterval(() => {}, 1000)
`
const scripts = { 'term-exits': TERM_EXITS, 'ignores-term': IGNORES_TERM, 'with-grandchild': WITH_GRANDCHILD }

/** Spawns a fixture (leading its own process group unless `detached: false`) and waits for its "ready" line. */
async function start(name: keyof typeof scripts, args: string[] = [], detached = true): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, ['-e', scripts[name], ...args], { detached, stdio: ['ignore', 'pipe', 'inherit'] })
  onTestFinished(() => {
    // Never leave a fixture behind, whatever the test did.
    for (const target of detached ? [-child.pid!, child.pid!] : [child.pid!]) {
      try {
        process.kill(target, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  })
  const line = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const nl = out.indexOf('\n')
      if (nl !== -1) resolve(out.slice(0, nl))
    })
    child.once('exit', (code) => reject(new Error(`fixture ${name} exited early (${code})`)))
  })
  return { child, line }
}

/** Gone = no /proc entry, or a zombie nobody reaps (this machine's PID 1 does not reap orphans). */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
    return state === 'Z' || state === 'X'
  } catch {
    return true
  }
}


/** An orphaned, killed grandchild: a zombie that answers kill(pid, 0) and that nobody reaps here. */
async function makeZombie(): Promise<number | undefined> {
  const { child, line } = await start('with-grandchild', ['stubborn'])
  const grandchild = Number(line.split(' ')[1])
  child.kill('SIGKILL') // the leader dies without reaping; the grandchild is orphaned
  await new Promise((r) => child.once('exit', r))
  process.kill(grandchild, 'SIGKILL')
  const deadline = performance.now() + 5_000
  while (performance.now() < deadline) {
    const state = (() => {
      try {
        const stat = readFileSync(`/proc/${grandchild}/stat`, 'utf8')
        return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
      } catch {
        return undefined
      }
    })()
    if (state === 'Z') return grandchild
    if (state === undefined) return undefined // reaped: this machine's PID 1 (or a subreaper) reaps
    await new Promise((r) => setTimeout(r, 10))
  }
  return undefined
}

describe.runIf(linux)('gracefulKill (real processes)', () => {
  it("a child that exits on SIGTERM: 'graceful', and the ChildProcess is reaped", async () => {
    const { child } = await start('term-exits')
    await expect(gracefulKill(child, { graceMs: 5_000 })).resolves.toBe('graceful')
    expect(child.exitCode).toBe(0)
    expect(gone(child.pid!)).toBe(true)
  })

  it("a child that ignores SIGTERM: 'forced' after the grace period", async () => {
    const { child } = await start('ignores-term')
    const t0 = performance.now()
    await expect(gracefulKill(child, { graceMs: 150 })).resolves.toBe('forced')
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140)
    expect(child.signalCode).toBe('SIGKILL')
  })

  it("a zombie nobody reaps counts as gone: 'already-exited', although kill(pid, 0) still answers", async (ctx) => {
    const zombie = await makeZombie()
    if (zombie === undefined) {
      ctx.skip()
      return
    }
    expect(() => process.kill(zombie, 0)).not.toThrow()
    await expect(gracefulKill(zombie, { graceMs: 50 })).resolves.toBe('already-exited')
  })

  it("graceMs: 0 goes straight to SIGKILL and still waits (bounded) for it: 'forced'", async () => {
    const { child } = await start('ignores-term')
    await expect(gracefulKill(child, { graceMs: 0 })).resolves.toBe('forced')
    expect(child.signalCode).toBe('SIGKILL')
  })

  it('a grandchild in the group that ignores SIGTERM is waited for and killed, although the leader exited', async () => {
    const { child, line } = await start('with-grandchild', ['stubborn'])
    const grandchild = Number(line.split(' ')[1])
    expect(gone(grandchild)).toBe(false)
    // A leader-only check would call this 'graceful' and leave the grandchild running.
    await expect(gracefulKill(child, { graceMs: 200 })).resolves.toBe('forced')
    expect(gone(grandchild)).toBe(true)
    expect(child.exitCode).toBe(0)
  })

  it("a grandchild that obeys SIGTERM: 'graceful' once the whole group is gone (pid target)", async () => {
    const { child, line } = await start('with-grandchild')
    const grandchild = Number(line.split(' ')[1])
    await expect(gracefulKill(child.pid!, { graceMs: 5_000 })).resolves.toBe('graceful')
    expect(gone(grandchild)).toBe(true)
  })

  it("a nonexistent pid is 'already-exited' (original test), as is a child that already exited", async () => {
    const { child } = await start('term-exits')
    const pid = child.pid!
    await gracefulKill(child, { graceMs: 5_000 })
    // The pid is reaped and nothing in its group is left.
    await expect(gracefulKill(pid)).resolves.toBe('already-exited')
    await expect(gracefulKill(child)).resolves.toBe('already-exited')
  })

  it('a target in our own process group is signalled alone: our group never', async () => {
    const { child } = await start('term-exits', [], false)
    // If the group were signalled, this test worker would receive SIGTERM too.
    await expect(gracefulKill(child, { graceMs: 5_000 })).resolves.toBe('graceful')
    expect(child.exitCode).toBe(0)
  })

  it('group: false signals the leader only and waits for it only', async () => {
    const { child, line } = await start('with-grandchild', ['stubborn'])
    const grandchild = Number(line.split(' ')[1])
    await expect(gracefulKill(child, { graceMs: 5_000, group: false })).resolves.toBe('graceful')
    expect(gone(grandchild)).toBe(false)
    process.kill(grandchild, 'SIGKILL')
  })

  it('polls with timers: the event loop shows no stall over 50 ms while gracefulKill waits', async () => {
    // A blocking wait would stall every attempt for ~graceMs; this shared, loaded 2-core
    // machine can starve one attempt on its own, so up to 3 attempts must include a clean one.
    const attempts: StallEvent[][] = []
    for (let attempt = 0; attempt < 3; attempt++) {
      const { child } = await start('ignores-term')
      const stalls: StallEvent[] = []
      const watch = watchEventLoop({ thresholdMs: 50, onStall: (e) => stalls.push(e) })
      try {
        await expect(gracefulKill(child, { graceMs: 300, pollMs: 5 })).resolves.toBe('forced')
      } finally {
        watch[Symbol.dispose]()
      }
      attempts.push(stalls)
      if (stalls.length === 0) break
    }
    expect(attempts.at(-1), `stalls in every attempt: ${JSON.stringify(attempts)}`).toEqual([])
  })
})

describe('gracefulKill portable fallback (no /proc: kill(pid, 0) on the leader)', () => {
  beforeAll(() => {
    setProcfsForTesting(false)
  })
  afterAll(() => {
    setProcfsForTesting(true)
  })

  it("'graceful', 'forced' and 'already-exited' from kill(pid, 0) checks", async () => {
    const a = await start('term-exits')
    await expect(gracefulKill(a.child, { graceMs: 5_000 })).resolves.toBe('graceful')
    expect(a.child.exitCode).toBe(0)
    const b = await start('ignores-term')
    await expect(gracefulKill(b.child, { graceMs: 100 })).resolves.toBe('forced')
    expect(b.child.signalCode).toBe('SIGKILL')
    await expect(gracefulKill(b.child.pid!)).resolves.toBe('already-exited')
    await expect(gracefulKill(b.child)).resolves.toBe('already-exited')
  })

  it('every wait after SIGKILL is bounded: a target that still answers kill(pid, 0) (a zombie, here) rejects', async (ctx) => {
    setProcfsForTesting(true)
    const zombie = linux ? await makeZombie() : undefined
    setProcfsForTesting(false)
    if (zombie === undefined) {
      ctx.skip()
      return
    }
    await expect(gracefulKill(zombie, { graceMs: 20, group: false })).rejects.toThrow(/survived SIGKILL for 100 ms/)
  })

  it('a ChildProcess target is still signalled as a group (kill(-pid)), though only the leader is verified', async () => {
    const { child, line } = await start('with-grandchild')
    const grandchild = Number(line.split(' ')[1])
    await expect(gracefulKill(child, { graceMs: 5_000 })).resolves.toBe('graceful')
    // The grandchild got SIGTERM too (it exits 20 ms after it); had only the leader been signalled it would live on.
    const deadline = performance.now() + 5_000
    while (!gone(grandchild) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    expect(gone(grandchild)).toBe(true)
  })
})

describe('gracefulKill validation', () => {
  it('rejects pid 0, negative, non-integer pids and the current process with RangeError; other targets with TypeError', async () => {
    for (const pid of [0, -1, -process.pid, 1.5, Number.NaN, Infinity, process.pid]) {
      await expect(gracefulKill(pid), String(pid)).rejects.toThrow(RangeError)
    }
    await expect(gracefulKill('123' as never)).rejects.toThrow(TypeError)
    await expect(gracefulKill({} as never)).rejects.toThrow(TypeError)
  })

  it('validates its options', async () => {
    await expect(gracefulKill(999_999, { signal: 'SIGNOPE' as never })).rejects.toThrow(RangeError)
    await expect(gracefulKill(999_999, { signal: {} as never })).rejects.toThrow(TypeError)
    await expect(gracefulKill(999_999, { graceMs: -1 })).rejects.toThrow(RangeError)
    await expect(gracefulKill(999_999, { pollMs: 0 })).rejects.toThrow(RangeError)
    await expect(gracefulKill(999_999, { group: 'yes' as never })).rejects.toThrow(TypeError)
  })
})
