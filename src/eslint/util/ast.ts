/**
 * AST helpers shared by the rules: a generic walker that can stop at nested
 * functions, and small predicates over ESTree nodes. Type-only imports: the plugin
 * loads without @typescript-eslint at run time.
 */
import type { TSESLint, TSESTree } from '@typescript-eslint/utils'

/** A function node: declaration, expression or arrow. */
export type FunctionNode = TSESTree.ArrowFunctionExpression | TSESTree.FunctionDeclaration | TSESTree.FunctionExpression

/** The rule context every rule of this plugin receives (no options type needed here). */
export type Context = Readonly<TSESLint.RuleContext<string, readonly unknown[]>>

/** True for the three function node types. */
export function isFunction(node: TSESTree.Node | null | undefined): node is FunctionNode {
  return node?.type === 'ArrowFunctionExpression' || node?.type === 'FunctionDeclaration' || node?.type === 'FunctionExpression'
}

/** The nearest enclosing function of `node` (not `node` itself), or undefined at module level. */
export function enclosingFunction(node: TSESTree.Node): FunctionNode | undefined {
  for (let current = node.parent; current; current = current.parent) if (isFunction(current)) return current
  return undefined
}

/**
 * Visits `root` and its descendants depth first, in source order. The visitor returns
 * `false` to skip a node's children. Nested functions are entered only when
 * `intoFunctions` is true (the root itself is always entered).
 */
export function walk(root: TSESTree.Node, visit: (node: TSESTree.Node) => boolean | void, intoFunctions = false): void {
  const stack: TSESTree.Node[] = [root]
  while (stack.length > 0) {
    const node = stack.pop()!
    if (node !== root && !intoFunctions && isFunction(node)) continue
    if (visit(node) === false) continue
    const children: TSESTree.Node[] = []
    for (const key of Object.keys(node)) {
      if (key === 'parent' || key === 'loc' || key === 'range' || key === 'type') continue
      const value = (node as unknown as Record<string, unknown>)[key]
      if (Array.isArray(value)) {
        for (const item of value) if (isNode(item)) children.push(item)
      } else if (isNode(value)) children.push(value)
    }
    children.sort((a, b) => b.range[0] - a.range[0])
    stack.push(...children)
  }
}

function isNode(value: unknown): value is TSESTree.Node {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string' && Array.isArray((value as { range?: unknown }).range)
}

/** True if `inner` lies within `outer` (inclusive). */
export function contains(outer: TSESTree.Node, inner: TSESTree.Node): boolean {
  return outer.range[0] <= inner.range[0] && inner.range[1] <= outer.range[1]
}

/** Removes parentheses-free wrappers that do not change the value: `x!`, `x as T`, `<T>x`, `x satisfies T`, `a?.b` chains. */
export function unwrap(node: TSESTree.Node): TSESTree.Node {
  let current = node
  for (;;) {
    if (current.type === 'TSNonNullExpression' || current.type === 'TSAsExpression' || current.type === 'TSTypeAssertion' || current.type === 'TSSatisfiesExpression' || current.type === 'ChainExpression') {
      current = current.expression
    } else return current
  }
}

/**
 * The node whose parent decides what happens to `node`'s value: climbs through the
 * wrappers `unwrap` removes.
 */
export function valueSite(node: TSESTree.Node): TSESTree.Node {
  let current = node
  while (current.parent && (current.parent.type === 'TSNonNullExpression' || current.parent.type === 'TSAsExpression' || current.parent.type === 'TSTypeAssertion' || current.parent.type === 'TSSatisfiesExpression' || current.parent.type === 'ChainExpression')) {
    current = current.parent
  }
  return current
}

/** The property name of a non-computed member expression (or a computed one with a string literal), else undefined. */
export function propertyName(member: TSESTree.MemberExpression): string | undefined {
  if (!member.computed) return member.property.type === 'PrivateIdentifier' ? `#${member.property.name}` : member.property.name
  if (member.property.type === 'Literal' && typeof member.property.value === 'string') return member.property.value
  return undefined
}

/** `Symbol.dispose` / `Symbol.asyncDispose` as a computed key or member property. */
export function isDisposeSymbol(node: TSESTree.Node): boolean {
  return node.type === 'MemberExpression' && !node.computed && node.object.type === 'Identifier' && node.object.name === 'Symbol' && node.property.type === 'Identifier' && (node.property.name === 'dispose' || node.property.name === 'asyncDispose')
}

/** The last identifier-like name of an expression: `this.#mutex` → `#mutex`, `a.b.lock` → `lock`, `sem` → `sem`. */
export function terminalName(node: TSESTree.Node): string | undefined {
  const target = unwrap(node)
  if (target.type === 'Identifier') return target.name
  if (target.type === 'MemberExpression') return propertyName(target)
  if (target.type === 'ThisExpression') return 'this'
  return undefined
}

/** Source text of a node, shortened to `max` characters for messages. */
export function shortText(context: Context, node: TSESTree.Node, max = 60): string {
  const text = context.sourceCode.getText(node).replace(/\s+/g, ' ')
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

/**
 * A stable key for a storage location read or written by a check-then-start:
 * `this.x`, `this.#x`, `this.a.b`, `name`, `state.x` (optional chains folded).
 */
export function locationKey(context: Context, node: TSESTree.Node): string | undefined {
  const target = unwrap(node)
  if (target.type === 'Identifier') return target.name
  if (target.type === 'MemberExpression' && !target.computed) {
    const object = unwrap(target.object)
    const base = object.type === 'ThisExpression' ? 'this' : locationKey(context, object)
    if (base === undefined) return undefined
    return `${base}.${propertyName(target) ?? ''}`
  }
  return undefined
}

/** The statement list a statement belongs to (block, program, switch case or static block body). */
export function statementList(statement: TSESTree.Node): TSESTree.Node[] | undefined {
  const parent = statement.parent
  if (!parent) return undefined
  if (parent.type === 'BlockStatement' || parent.type === 'Program' || parent.type === 'StaticBlock') return parent.body
  if (parent.type === 'SwitchCase') return parent.consequent
  return undefined
}

/** True for `undefined`, `null`, `false`, `0`, `''` and `void 0`: the values that reset a slot. */
export function isFalsyLiteral(node: TSESTree.Node): boolean {
  const target = unwrap(node)
  if (target.type === 'Identifier') return target.name === 'undefined'
  if (target.type === 'Literal') return target.value === null || target.value === false || target.value === 0 || target.value === ''
  if (target.type === 'UnaryExpression') return target.operator === 'void'
  return false
}

/** The line of a node, for messages. */
export function line(node: TSESTree.Node): number {
  return node.loc.start.line
}
