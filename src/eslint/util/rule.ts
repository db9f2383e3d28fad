/**
 * The shape of this plugin's rules: typescript-eslint's RuleModule, created without
 * @typescript-eslint/utils at run time. Each rule's documentation is
 * docs/rules/<name>.md in the repository and the README's "Lint rules" section.
 */
import type { TSESLint } from '@typescript-eslint/utils'

/** Extra `meta.docs` fields of this plugin's rules. */
export interface AsyncsafeDocs {
  /** Whether `configs.recommended` turns the rule on. */
  recommended: boolean
  /** Whether the rule uses type information when it is available. */
  requiresTypeChecking: boolean
}

/** A rule of this plugin. */
export type AsyncsafeRule<MessageIds extends string, Options extends readonly unknown[]> = TSESLint.RuleModule<MessageIds, Options, AsyncsafeDocs> & { name: string }

/** Declares a rule; `create` receives the options merged over the defaults. */
export function createRule<MessageIds extends string, Options extends readonly unknown[]>(rule: {
  name: string
  meta: Omit<TSESLint.RuleMetaData<MessageIds, AsyncsafeDocs, Options>, 'docs'> & { docs: TSESLint.RuleMetaDataDocs & AsyncsafeDocs }
  defaultOptions: Options
  create: (context: Readonly<TSESLint.RuleContext<MessageIds, Options>>, options: Options) => TSESLint.RuleListener
}): AsyncsafeRule<MessageIds, Options> {
  return {
    name: rule.name,
    meta: { ...rule.meta, defaultOptions: rule.defaultOptions },
    create(context) {
      const options = rule.defaultOptions.map((value, i) => {
        const given = (context.options as readonly unknown[])[i]
        return given !== undefined && typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...value, ...(given as object) } : (given ?? value)
      }) as unknown as Options
      return rule.create(context, options)
    },
  }
}
