import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { gracefulKill } from '../../src/node/gracefulKill.js'
import { expectNoUnhandledRejections } from '../helpers.js'

// Counts the full scans of /proc (one file read per host process each).
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>()
  return { ...fs, readdirSync: vi.fn(fs.readdirSync) }
})

expectNoUnhandledRejections()

const IGNORES_TERM = `process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); process.stdout.write('ready\\n')`
/** A group leader that exits on SIGTERM, leaving a grandchild in its group that ignores SIGTERM. */
const WITH_STUBBORN_GRANDCHILD = `
const { spawn } = require('node:child_process')
const grandchild = spawn(process.execPath, ['-e', ${JSON.stringify(IGNORES_TERM)}], { stdio: ['ignore', 'pipe', 'inherit'] })
grandchild.stdout.once('data', () => process.stdout.write('ready ' + grandchild.pid + '\\n'))
process.on('SIGTERM', () => process.exit(0))
setInterval(() => {}, 1000)
`

describe.runIf(process.platform === 'linux')('gracefulKill: polling cost', () => {
  it('once the leader is gone, polls the members it found instead of scanning /proc on every poll', async () => {
    const child = spawn(process.execPath, ['-e', WITH_STUBBORN_GRANDCHILD], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] })
    onTestFinished(() => {
      for (const target of [-child.pid!, child.pid!]) {
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
      child.once('exit', (code) => reject(new Error(`fixture exited early (${code})`)))
    })
    const grandchild = Number(line.split(' ')[1])
    const scans = vi.mocked(readdirSync)
    scans.mockClear()
    // ~60 polls with the leader gone and the grandchild alive during the grace period.
    await expect(gracefulKill(child, { graceMs: 300, pollMs: 5 })).resolves.toBe('forced')
    const procScans = scans.mock.calls.filter(([path]) => path === '/proc').length
    expect(procScans).toBeGreaterThanOrEqual(2) // found the member, then confirmed the group empty
    expect(procScans).toBeLessThanOrEqual(4)
    // gone: no /proc entry, or a zombie nobody reaps (PID 1 here does not reap orphans)
    let state: string | undefined
    try {
      const stat = readFileSync(`/proc/${grandchild}/stat`, 'utf8')
      state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
    } catch {
      state = undefined
    }
    expect([undefined, 'Z', 'X']).toContain(state)
  })
})
