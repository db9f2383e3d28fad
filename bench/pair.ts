/**
 * Child process of {@link runIsolatedPairs} (bench/harness.ts): runs one ratio of a group
 * (its two cases only, paired per repetition) and prints the group result as JSON.
 *
 * Args: <module url> <export name> <group key> <ratio spec JSON> <wall|cpu>
 */
import { runGroup, type GroupSpec, type RatioSpec, type TimeSource } from './harness.js'

const [moduleUrl, exportName, groupKey, ratioJson, source] = process.argv.slice(2) as [string, string, string, string, TimeSource]
const mod = (await import(moduleUrl)) as Record<string, () => Record<string, GroupSpec>>
const groups = mod[exportName]!()
const group = groups[groupKey]
if (group === undefined) throw new Error(`no group ${groupKey} in ${exportName}()`)
const ratio = JSON.parse(ratioJson) as RatioSpec
const cases = group.cases.filter((c) => c.name === ratio.case || c.name === ratio.base)
if (cases.length !== 2) throw new Error(`ratio ${ratio.case} / ${ratio.base}: cases not found in ${groupKey}`)
const result = await runGroup({ ...group, cases, ratios: [ratio] }, source)
process.stdout.write(`${JSON.stringify(result)}\n`)
