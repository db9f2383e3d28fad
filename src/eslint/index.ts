/**
 * asyncsafe/eslint: an ESLint flat-config plugin whose rules find, in your code, the
 * hazards the asyncsafe primitives prevent: foreign code awaited under a lock, guards
 * never disposed, dropped promises, blocking calls on the event loop, and the
 * check-then-start race behind duplicate initialization.
 *
 * eslint (9) and typescript-eslint (8) are optional peer dependencies of asyncsafe:
 * nothing else of asyncsafe loads this module. The rules use type information when the
 * file is parsed by typescript-eslint with a program (`parserOptions.projectService`),
 * and fall back to names and imports (stated rule by rule) when it is not.
 *
 * @example
 * ```js
 * // eslint.config.js
 * import tseslint from 'typescript-eslint'
 * import asyncsafe from 'asyncsafe/eslint'
 *
 * export default tseslint.config(
 *   ...tseslint.configs.recommended,
 *   { languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } } },
 *   asyncsafe.configs.recommended,
 * )
 * ```
 *
 * @module asyncsafe/eslint
 */
import type { ESLint, Linter, Rule } from 'eslint'
import { noAwaitWhileHolding } from './rules/no-await-while-holding.js'
import { noBlockingInAsync } from './rules/no-blocking-in-async.js'
import { noCheckThenStart } from './rules/no-check-then-start.js'
import { noFloatingDetached } from './rules/no-floating-detached.js'
import { requireUsing } from './rules/require-using.js'

/** The names of the plugin's rules (without the `asyncsafe/` prefix). */
export type RuleName = 'no-await-while-holding' | 'require-using' | 'no-floating-detached' | 'no-blocking-in-async' | 'no-check-then-start'

/** The shape of {@link meta}. */
export interface PluginMeta {
  /** The plugin's name, `asyncsafe` (also the prefix of its rule ids). */
  readonly name: 'asyncsafe'
  /** The asyncsafe version the plugin ships with. */
  readonly version: string
}

/**
 * The plugin's name and version, as ESLint reports them (`meta` of a flat-config plugin).
 *
 * @example
 * ```js
 * import { meta } from 'asyncsafe/eslint'
 * console.log(meta.name, meta.version)   // asyncsafe 0.1.0
 * ```
 */
export const meta: PluginMeta = { name: 'asyncsafe', version: '0.1.0' }

/**
 * The rules, by name. Each is documented with its hazard, a bad and a good example in
 * the README's "Lint rules" section and docs/rules/.
 *
 * @example
 * ```js
 * // eslint.config.js: one rule on its own, with an option
 * import asyncsafe from 'asyncsafe/eslint'
 * export default [
 *   { plugins: { asyncsafe }, rules: { 'asyncsafe/no-blocking-in-async': ['error', { allow: ['existsSync'] }] } },
 * ]
 * ```
 */
export const rules: Readonly<Record<RuleName, Rule.RuleModule>> = {
  'no-await-while-holding': noAwaitWhileHolding as unknown as Rule.RuleModule,
  'require-using': requireUsing as unknown as Rule.RuleModule,
  'no-floating-detached': noFloatingDetached as unknown as Rule.RuleModule,
  'no-blocking-in-async': noBlockingInAsync as unknown as Rule.RuleModule,
  'no-check-then-start': noCheckThenStart as unknown as Rule.RuleModule,
}

/** The shape of {@link configs}: `recommended`, and ESLint's index signature for more. */
export interface AsyncsafeConfigs {
  /** Every rule at `error`, with the plugin registered as `asyncsafe`. */
  readonly recommended: Linter.Config
  /** ESLint's `Plugin.configs` is a record of configs. */
  readonly [name: string]: Linter.Config
}

/** The plugin object: what `import asyncsafe from 'asyncsafe/eslint'` gives. */
export interface AsyncsafePlugin extends ESLint.Plugin {
  /** Name and version ({@link meta}). */
  readonly meta: PluginMeta
  /** The five rules ({@link rules}). */
  readonly rules: typeof rules
  /** The shareable configs ({@link configs}). */
  readonly configs: AsyncsafeConfigs
}

const recommendedRules: Linter.RulesRecord = {
  'asyncsafe/no-await-while-holding': 'error',
  'asyncsafe/require-using': 'error',
  'asyncsafe/no-floating-detached': 'error',
  'asyncsafe/no-blocking-in-async': 'error',
  'asyncsafe/no-check-then-start': 'error',
}

const recommended: Linter.Config = { name: 'asyncsafe/recommended', plugins: {}, rules: recommendedRules }

/**
 * Shareable flat configs. `recommended` registers the plugin as `asyncsafe` and turns
 * every rule on; add it after the configs that set the parser (typescript-eslint's,
 * with `projectService` for type information).
 *
 * @example
 * ```js
 * // eslint.config.js
 * import tseslint from 'typescript-eslint'
 * import asyncsafe from 'asyncsafe/eslint'
 * export default tseslint.config(...tseslint.configs.recommendedTypeChecked, asyncsafe.configs.recommended)
 * ```
 */
export const configs: AsyncsafeConfigs = { recommended }

/**
 * The plugin: `{ meta, rules, configs }`. `require('asyncsafe/eslint')` returns an
 * object with the same three keys, so it works as the plugin as it is.
 *
 * @example
 * ```js
 * // eslint.config.js
 * import asyncsafe from 'asyncsafe/eslint'
 * export default [asyncsafe.configs.recommended]
 * ```
 */
const plugin: AsyncsafePlugin = { meta, rules, configs }
recommended.plugins = { asyncsafe: plugin }

export default plugin
