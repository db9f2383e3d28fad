import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import plugin, { configs, meta, rules } from '../../src/eslint/index.js'
import { fixtures } from './tester.js'

const root = join(fixtures, '..', '..', '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
const names = ['no-await-while-holding', 'require-using', 'no-floating-detached', 'no-blocking-in-async', 'no-check-then-start']

describe('asyncsafe/eslint plugin object', () => {
  it('is { meta, rules, configs } with the package version', () => {
    expect(Object.keys(plugin).sort()).toEqual(['configs', 'meta', 'rules'])
    expect(plugin.rules).toBe(rules)
    expect(plugin.configs).toBe(configs)
    expect(meta).toEqual({ name: 'asyncsafe', version: pkg.version })
  })

  it('has exactly the five rules, each documented with messages and a schema', () => {
    expect(Object.keys(rules).sort()).toEqual([...names].sort())
    for (const name of names) {
      const rule = rules[name as keyof typeof rules]
      expect(rule.meta?.docs?.description, name).toMatch(/^Disallow .{20}|^Require .{20}/)
      expect(rule.meta?.type, name).toBe('problem')
      expect(Object.keys(rule.meta?.messages ?? {}).length, name).toBeGreaterThan(0)
      expect(rule.meta?.schema, name).toBeDefined()
    }
  })

  it('recommended registers the plugin itself and turns every rule on at error', () => {
    const recommended = configs.recommended
    expect(recommended.plugins?.asyncsafe).toBe(plugin)
    expect(recommended.rules).toEqual(Object.fromEntries(names.map((n) => [`asyncsafe/${n}`, 'error'])))
  })

  it('is documented in the README, one section per rule', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    for (const name of names) expect(readme, name).toContain(`asyncsafe/${name}`)
  })
})
