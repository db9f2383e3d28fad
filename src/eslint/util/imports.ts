/**
 * What a file imports, by local name: ES imports, `import x = require()` and top-level
 * `const x = require()` / `const { a } = require()`. Used by the rules that need no
 * type information (blocking calls) and by the name-based fallbacks.
 */
import type { TSESTree } from '@typescript-eslint/utils'
import type { Context } from './ast.js'

/** One imported binding: the module and the name it has there (`default`, `*` or the export name). */
export interface ImportedBinding {
  source: string
  imported: string
}

const cache = new WeakMap<TSESTree.Program, Map<string, ImportedBinding>>()

/** The imported bindings of the file, by local name (computed once per file). */
export function importsOf(context: Context): Map<string, ImportedBinding> {
  const program = context.sourceCode.ast
  const known = cache.get(program)
  if (known) return known
  const bindings = new Map<string, ImportedBinding>()
  for (const statement of program.body) {
    if (statement.type === 'ImportDeclaration') {
      if (statement.importKind === 'type') continue
      const source = statement.source.value
      for (const spec of statement.specifiers) {
        if (spec.type === 'ImportSpecifier') {
          if (spec.importKind === 'type') continue
          const imported = spec.imported.type === 'Identifier' ? spec.imported.name : spec.imported.value
          bindings.set(spec.local.name, { source, imported })
        } else if (spec.type === 'ImportDefaultSpecifier') bindings.set(spec.local.name, { source, imported: 'default' })
        else bindings.set(spec.local.name, { source, imported: '*' })
      }
    } else if (statement.type === 'TSImportEqualsDeclaration') {
      const ref = statement.moduleReference
      if (ref.type === 'TSExternalModuleReference' && ref.expression.type === 'Literal' && typeof ref.expression.value === 'string') {
        bindings.set(statement.id.name, { source: ref.expression.value, imported: '*' })
      }
    } else {
      const declaration = statement.type === 'VariableDeclaration' ? statement : statement.type === 'ExportNamedDeclaration' && statement.declaration?.type === 'VariableDeclaration' ? statement.declaration : undefined
      for (const declarator of declaration?.declarations ?? []) {
        const source = requireSource(declarator.init)
        if (source === undefined) continue
        if (declarator.id.type === 'Identifier') bindings.set(declarator.id.name, { source, imported: '*' })
        else if (declarator.id.type === 'ObjectPattern') {
          for (const property of declarator.id.properties) {
            if (property.type !== 'Property' || property.key.type !== 'Identifier') continue
            const local = property.value.type === 'Identifier' ? property.value : property.value.type === 'AssignmentPattern' && property.value.left.type === 'Identifier' ? property.value.left : undefined
            if (local) bindings.set(local.name, { source, imported: property.key.name })
          }
        }
      }
    }
  }
  cache.set(program, bindings)
  return bindings
}

/** `require('m')` (or `require('m').promises`-free): the module name, else undefined. */
export function requireSource(node: TSESTree.Node | null | undefined): string | undefined {
  if (node?.type !== 'CallExpression' || node.callee.type !== 'Identifier' || node.callee.name !== 'require') return undefined
  const arg = node.arguments[0]
  return arg?.type === 'Literal' && typeof arg.value === 'string' ? arg.value : undefined
}

/**
 * The imported binding an identifier refers to, if it is one and is not shadowed by a
 * local declaration of the same name.
 */
export function importedAt(context: Context, identifier: TSESTree.Identifier): ImportedBinding | undefined {
  const binding = importsOf(context).get(identifier.name)
  if (!binding) return undefined
  for (let scope: ReturnType<Context['sourceCode']['getScope']> | null = context.sourceCode.getScope(identifier); scope; scope = scope.upper) {
    const variable = scope.set.get(identifier.name)
    if (variable) return scope.type === 'module' || scope.type === 'global' ? binding : undefined
  }
  return binding
}

/** The module name without a `node:` prefix. */
export function bareModule(source: string): string {
  return source.startsWith('node:') ? source.slice(5) : source
}

/** True for asyncsafe itself or one of its subpaths. */
export function isAsyncsafeModule(source: string): boolean {
  return source === 'asyncsafe' || source.startsWith('asyncsafe/')
}
