import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

describe('asyncsafe/otel on Node 20 diagnostics_channel', () => {
  it('a re-made bridge still receives events after the previous one was disposed and its channels collected', () => {
    const script = join(import.meta.dirname, 'gc-race.mts')
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', script], { encoding: 'utf8', timeout: 30_000 })
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual({ longHolds: 1, counted: 1 })
  })
})
