/**
 * One live instance of each class on a hot path, held for the life of the module.
 *
 * V8 holds the hidden classes (maps) of instances only weakly: once no instance of a class
 * is alive (pools made and dropped per request or per benchmark batch), a full GC frees the
 * maps and deoptimizes every optimized function built on them ("deoptimization, reason:
 * weak objects"), and the next instance runs unoptimized until V8 recompiles (measured 3-8x
 * slower for a 10k-task burst). Holding one instance of each keeps that code.
 *
 * Call it after the class, at module level, not from a static initializer: a class body
 * that names its own class makes esbuild emit `var X = class _X`, and `X.name` then
 * reads `'_X'` in the published build.
 */

const kept: object[] = []

/** Keeps `instances` alive for the life of the process (see the module comment). */
export function keepShapes(...instances: object[]): void {
  kept.push(...instances)
}
