/**
 * RuleTester wired to vitest, with two parsers: typed (a program over the fixture
 * project, where `asyncsafe/*` resolves to src and async-mutex to node_modules) and
 * untyped (no program: the rules' name-based fallbacks).
 *
 * The test files pass each rule `as never`: the rule tester bundles its own (older)
 * @typescript-eslint/utils, whose RuleModule type is nominally different from the one
 * the rules are written against; RuleTester still checks message ids at run time.
 */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RuleTester } from '@typescript-eslint/rule-tester'
import { afterAll, describe, it } from 'vitest'

RuleTester.afterAll = afterAll
RuleTester.describe = describe
RuleTester.it = it
RuleTester.itOnly = it.only

/** The fixture project's directory. */
export const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures')

/** Cases linted with type information. */
export const typedTester = new RuleTester({ languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: fixtures } } })

/** Cases linted without type information. */
export const untypedTester = new RuleTester()
