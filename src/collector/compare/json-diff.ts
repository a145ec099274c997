// Structural diff of two parsed JSON documents. Key order never matters; paths
// covered by an ignore pattern are skipped (and may be missing on either side);
// numbers are equal within the route's tolerance.
import type { NumericTolerance } from '../config.js';
import type { Diff } from '../types.js';
import { IgnoreMatcher, type IgnoreState } from './ignore.js';
import { childPath } from './pointer.js';
import { numbersEqual } from './tolerance.js';

/** A pair with wildly different bodies keeps only this many diffs. */
export const MAX_DIFFS = 100;

type JsonType = 'null' | 'array' | 'object' | 'number' | 'string' | 'boolean';

function jsonType(v: unknown): JsonType {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as JsonType;
}

const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

export interface JsonDiffOptions {
  ignore: IgnoreMatcher;
  tolerance: NumericTolerance;
}

/** Returns true when the documents are equal under the rules; diffs go to `out`. */
export function diffJson(production: unknown, shadow: unknown, opts: JsonDiffOptions, out: Diff[]): boolean {
  const state = opts.ignore.start();
  if (IgnoreMatcher.covered(state)) return true;
  return walk(production, shadow, [], state, opts.tolerance, out);
}

// The walk carries the keys from the root on one stack and builds a path's text only
// for a diff it keeps: most nodes of a pair's bodies are equal, and building every
// node's pointer was most of the walk's cost.
type Keys = (string | number)[];

function pathOf(keys: Keys): string {
  let path = '';
  for (const k of keys) path = childPath(path, k);
  return path;
}

function push(out: Diff[], keys: Keys, d: Omit<Diff, 'path'>): void {
  if (out.length < MAX_DIFFS) out.push({ path: pathOf(keys), ...d });
}

function walk(a: unknown, b: unknown, keys: Keys, state: IgnoreState, tol: NumericTolerance, out: Diff[]): boolean {
  const ta = jsonType(a);
  const tb = jsonType(b);
  if (ta !== tb) {
    push(out, keys, { kind: 'type', production: a, shadow: b });
    return false;
  }
  switch (ta) {
    case 'number':
      if (numbersEqual(a as number, b as number, tol)) return true;
      push(out, keys, { kind: 'changed', production: a, shadow: b });
      return false;
    case 'array':
      return walkArray(a as unknown[], b as unknown[], keys, state, tol, out);
    case 'object':
      return walkObject(a as Record<string, unknown>, b as Record<string, unknown>, keys, state, tol, out);
    default:
      if (a === b) return true;
      push(out, keys, { kind: 'changed', production: a, shadow: b });
      return false;
  }
}

function walkArray(a: unknown[], b: unknown[], keys: Keys, state: IgnoreState, tol: NumericTolerance, out: Diff[]): boolean {
  let equal = true;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const next = state === null ? null : IgnoreMatcher.step(state, String(i));
    if (IgnoreMatcher.covered(next)) continue;
    keys.push(i);
    if (i >= a.length) {
      push(out, keys, { kind: 'added', shadow: b[i] });
      equal = false;
    } else if (i >= b.length) {
      push(out, keys, { kind: 'removed', production: a[i] });
      equal = false;
    } else if (!walk(a[i], b[i], keys, next, tol, out)) {
      equal = false;
    }
    keys.pop();
  }
  return equal;
}

function walkObject(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
  keys: Keys,
  state: IgnoreState,
  tol: NumericTolerance,
  out: Diff[],
): boolean {
  let equal = true;
  let shared = 0;
  for (const k of Object.keys(a)) {
    const inB = has(b, k);
    if (inB) shared++;
    const next = IgnoreMatcher.step(state, k);
    if (IgnoreMatcher.covered(next)) continue;
    keys.push(k);
    if (!inB) {
      push(out, keys, { kind: 'removed', production: a[k] });
      equal = false;
    } else if (!walk(a[k], b[k], keys, next, tol, out)) {
      equal = false;
    }
    keys.pop();
  }
  // Every key of b was met above unless b has more keys than the two share.
  const bKeys = Object.keys(b);
  if (bKeys.length === shared) return equal;
  for (const k of bKeys) {
    if (has(a, k)) continue;
    const next = IgnoreMatcher.step(state, k);
    if (IgnoreMatcher.covered(next)) continue;
    keys.push(k);
    push(out, keys, { kind: 'added', shadow: b[k] });
    keys.pop();
    equal = false;
  }
  return equal;
}
