/**
 * Type information, when the file was parsed by typescript-eslint with a program
 * (`parserOptions.projectService` or `project`). TypeScript itself is loaded lazily,
 * only then, so the plugin loads (and its syntactic rules run) without it.
 */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type * as TS from 'typescript'
import type { TSESTree } from '@typescript-eslint/utils'
import type { Context } from './ast.js'

/** What the rules use of a typed parse. */
export interface Typed {
  ts: typeof TS
  checker: TS.TypeChecker
  program: TS.Program
  /** The TypeScript node of an ESTree node. */
  tsNode(node: TSESTree.Node): TS.Node
  /** The ESTree node of a TypeScript node of the file being linted, if it has one. */
  esNode(node: TS.Node): TSESTree.Node | undefined
}

let typescriptModule: typeof TS | undefined
const cache = new WeakMap<object, Typed | null>()

/** The typed view of the file being linted, or undefined when it has no type information. */
export function typed(context: Context): Typed | undefined {
  const services = context.sourceCode.parserServices as
    | { program?: TS.Program | null; esTreeNodeToTSNodeMap?: WeakMap<TSESTree.Node, TS.Node>; tsNodeToESTreeNodeMap?: WeakMap<TS.Node, TSESTree.Node> }
    | undefined
  if (!services?.program || !services.esTreeNodeToTSNodeMap || !services.tsNodeToESTreeNodeMap) return undefined
  const known = cache.get(services)
  if (known !== undefined) return known ?? undefined
  const program = services.program
  const toTs = services.esTreeNodeToTSNodeMap
  const toEs = services.tsNodeToESTreeNodeMap
  let value: Typed | null = null
  try {
    // In the CJS build import.meta.url is defined as __filename (tsup.config.ts).
    typescriptModule ??= createRequire(import.meta.url)('typescript') as typeof TS
    value = {
      ts: typescriptModule,
      checker: program.getTypeChecker(),
      program,
      tsNode: (node) => toTs.get(node)!,
      esNode: (node) => toEs.get(node),
    }
  } catch {
    value = null
  }
  cache.set(services, value)
  return value ?? undefined
}

const packageNames = new Map<string, string | undefined>()

/**
 * The `name` of the package.json nearest to `file` (cached per directory). This is how
 * a declaration is recognised as asyncsafe's or async-mutex's, whether it comes from
 * node_modules, a workspace link, or asyncsafe's own sources.
 */
export function packageOf(file: string): string | undefined {
  const start = dirname(file)
  const visited: string[] = []
  let dir = start
  let name: string | undefined
  for (;;) {
    if (packageNames.has(dir)) {
      name = packageNames.get(dir)
      break
    }
    visited.push(dir)
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest)) {
      try {
        name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name as string | undefined
      } catch {
        name = undefined
      }
      if (typeof name === 'string' || dir.endsWith('node_modules')) break
    }
    const parent = dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  for (const d of visited) packageNames.set(d, name)
  return name
}

/** The package a symbol is declared in (its first declaration's file). */
export function symbolPackage(symbol: TS.Symbol | undefined): string | undefined {
  const file = symbol?.declarations?.[0]?.getSourceFile().fileName
  return file === undefined ? undefined : packageOf(file)
}

/** True when the declaration is in a declaration file or under node_modules (library code, not the project's). */
export function isLibraryDeclaration(declaration: TS.Declaration): boolean {
  const file = declaration.getSourceFile()
  return file.isDeclarationFile || file.fileName.includes('/node_modules/')
}

/** The constituents of a union (or the type itself). */
export function constituents(type: TS.Type): TS.Type[] {
  return type.isUnion() ? type.types : [type]
}

/** The symbol that names a type: its alias, else its own symbol. */
export function typeSymbol(type: TS.Type): TS.Symbol | undefined {
  return type.aliasSymbol ?? type.getSymbol()
}

/** True if some constituent of `type` is named one of `names` and declared in one of `packages`. */
export function isNamedType(type: TS.Type, names: ReadonlySet<string>, packages: ReadonlySet<string>): boolean {
  return constituents(type).some((part) => {
    const symbol = typeSymbol(part)
    if (!symbol || !names.has(symbol.getName())) return false
    const pkg = symbolPackage(symbol)
    return pkg !== undefined && packages.has(pkg)
  })
}

/** True for `any`, `unknown` and unresolved (error) types: nothing is known. */
export function isUnknownType(typedInfo: Typed, type: TS.Type): boolean {
  const { TypeFlags } = typedInfo.ts
  return (type.flags & (TypeFlags.Any | TypeFlags.Unknown)) !== 0
}

/** True if some constituent of `type` has a callable `then` (a promise or another thenable). */
export function isThenable(typedInfo: Typed, type: TS.Type, at: TS.Node): boolean {
  return constituents(type).some((part) => {
    const then = part.getProperty('then')
    if (!then) return false
    return typedInfo.checker.getTypeOfSymbolAtLocation(then, at).getCallSignatures().length > 0
  })
}

/** The type of an ESTree expression. */
export function typeOf(typedInfo: Typed, node: TSESTree.Node): TS.Type {
  return typedInfo.checker.getTypeAtLocation(typedInfo.tsNode(node))
}

/**
 * The symbol an ESTree expression refers to (for `a.b`, the property `b`). Import
 * aliases are resolved unless `keepAlias` is set.
 */
export function symbolOf(typedInfo: Typed, node: TSESTree.Node, keepAlias = false): TS.Symbol | undefined {
  const tsNode = typedInfo.tsNode(node)
  const { ts } = typedInfo
  const target = ts.isPropertyAccessExpression(tsNode) ? tsNode.name : ts.isElementAccessExpression(tsNode) ? tsNode.argumentExpression : tsNode
  let symbol = typedInfo.checker.getSymbolAtLocation(target)
  if (!keepAlias && symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = typedInfo.checker.getAliasedSymbol(symbol)
  return symbol
}
