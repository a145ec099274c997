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
  return walk(production, shadow, '', state, opts.tolerance, out);
}

function push(out: Diff[], d: Diff): void {
  if (out.length < MAX_DIFFS) out.push(d);
}

function walk(a: unknown, b: unknown, path: string, state: IgnoreState, tol: NumericTolerance, out: Diff[]): boolean {
  const ta = jsonType(a);
  const tb = jsonType(b);
  if (ta !== tb) {
    push(out, { path, kind: 'type', production: a, shadow: b });
    return false;
  }
  switch (ta) {
    case 'number':
      if (numbersEqual(a as number, b as number, tol)) return true;
      push(out, { path, kind: 'changed', production: a, shadow: b });
      return false;
    case 'array':
      return walkArray(a as unknown[], b as unknown[], path, state, tol, out);
    case 'object':
      return walkObject(a as Record<string, unknown>, b as Record<string, unknown>, path, state, tol, out);
    default:
      if (a === b) return true;
      push(out, { path, kind: 'changed', production: a, shadow: b });
      return false;
  }
}

function walkArray(a: unknown[], b: unknown[], path: string, state: IgnoreState, tol: NumericTolerance, out: Diff[]): boolean {
  let equal = true;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const next = IgnoreMatcher.step(state, String(i));
    if (IgnoreMatcher.covered(next)) continue;
    const p = childPath(path, i);
    if (i >= a.length) {
      push(out, { path: p, kind: 'added', shadow: b[i] });
      equal = false;
    } else if (i >= b.length) {
      push(out, { path: p, kind: 'removed', production: a[i] });
      equal = false;
    } else if (!walk(a[i], b[i], p, next, tol, out)) {
      equal = false;
    }
  }
  return equal;
}

function walkObject(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
  path: string,
  state: IgnoreState,
  tol: NumericTolerance,
  out: Diff[],
): boolean {
  let equal = true;
  for (const k of Object.keys(a)) {
    const next = IgnoreMatcher.step(state, k);
    if (IgnoreMatcher.covered(next)) continue;
    const p = childPath(path, k);
    if (!has(b, k)) {
      push(out, { path: p, kind: 'removed', production: a[k] });
      equal = false;
    } else if (!walk(a[k], b[k], p, next, tol, out)) {
      equal = false;
    }
  }
  for (const k of Object.keys(b)) {
    if (has(a, k)) continue;
    const next = IgnoreMatcher.step(state, k);
    if (IgnoreMatcher.covered(next)) continue;
    push(out, { path: childPath(path, k), kind: 'added', shadow: b[k] });
    equal = false;
  }
  return equal;
}
