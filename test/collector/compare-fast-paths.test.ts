// The comparison's fast paths give the slow path's answer: the walk that builds a
// path only for the diffs it keeps, the bracket count that settles the nesting
// limit, and identical bytes that skip parsing. The oracle is a plain reference
// walk written the obvious way (every node's pointer built on the way down).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { RouteRules } from '../../src/collector/config.js';
import { comparePair } from '../../src/collector/compare/compare-pair.js';
import { IgnoreMatcher, type IgnoreState } from '../../src/collector/compare/ignore.js';
import { MAX_DIFFS, diffJson } from '../../src/collector/compare/json-diff.js';
import { childPath } from '../../src/collector/compare/pointer.js';
import { nestsDeeperThan } from '../../src/collector/compare/structural-limits.js';
import { numbersEqual } from '../../src/collector/compare/tolerance.js';
import type { Diff, ShadowRecord } from '../../src/collector/types.js';

function referenceDiff(a: unknown, b: unknown, rules: RouteRules): { equal: boolean; diffs: Diff[] } {
  const out: Diff[] = [];
  const push = (d: Diff): void => void (out.length < MAX_DIFFS && out.push(d));
  const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  const walk = (x: unknown, y: unknown, path: string, st: IgnoreState): boolean => {
    if (kind(x) !== kind(y)) return push({ path, kind: 'type', production: x, shadow: y }), false;
    if (Array.isArray(x)) {
      const ys = y as unknown[];
      let eq = true;
      for (let i = 0; i < Math.max(x.length, ys.length); i++) {
        const next = IgnoreMatcher.step(st, String(i));
        if (IgnoreMatcher.covered(next)) continue;
        const p = childPath(path, i);
        if (i >= x.length) (push({ path: p, kind: 'added', shadow: ys[i] }), (eq = false));
        else if (i >= ys.length) (push({ path: p, kind: 'removed', production: x[i] }), (eq = false));
        else if (!walk(x[i], ys[i], p, next)) eq = false;
      }
      return eq;
    }
    if (kind(x) === 'object') {
      const xo = x as Record<string, unknown>;
      const yo = y as Record<string, unknown>;
      let eq = true;
      for (const k of Object.keys(xo)) {
        const next = IgnoreMatcher.step(st, k);
        if (IgnoreMatcher.covered(next)) continue;
        const p = childPath(path, k);
        if (!Object.hasOwn(yo, k)) (push({ path: p, kind: 'removed', production: xo[k] }), (eq = false));
        else if (!walk(xo[k], yo[k], p, next)) eq = false;
      }
      for (const k of Object.keys(yo)) {
        if (Object.hasOwn(xo, k)) continue;
        const next = IgnoreMatcher.step(st, k);
        if (IgnoreMatcher.covered(next)) continue;
        push({ path: childPath(path, k), kind: 'added', shadow: yo[k] });
        eq = false;
      }
      return eq;
    }
    if (typeof x === 'number' ? numbersEqual(x, y as number, rules.numeric_tolerance) : x === y) return true;
    push({ path, kind: 'changed', production: x, shadow: y });
    return false;
  };
  const root = new IgnoreMatcher(rules.ignore).start();
  const equal = IgnoreMatcher.covered(root) ? true : walk(a, b, '', root);
  return { equal, diffs: out };
}

// Keys with the characters a JSON Pointer escapes, and few enough names that two
// documents share most keys.
const key = fc.constantFrom('a', 'b', 'c', 'items', 'x/y', 'm~n', '0', '');
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.integer({ min: -5, max: 5 }),
    fc.double({ min: -2, max: 2, noNaN: true }),
    fc.constantFrom('s', 't', true, false, null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  ),
})).value;
const ruleSet = fc.record({
  ignore: fc.array(fc.constantFrom('/a', '/items/*/b', '/*/c', '/x~1y', '/m~0n/a', '/0', ''), { maxLength: 2 }),
  numeric_tolerance: fc.record({ abs: fc.constantFrom(0, 0.01, 0.5), rel: fc.constantFrom(0, 0.1) }),
  compare_headers: fc.constant([] as string[]),
});
// A document and a second one that is often a small edit of it.
const pairOf = fc.tuple(json, json, fc.boolean()).map(([a, other, edit]) => [a, edit ? other : structuredClone(a)] as const);

test('the walk finds the same diffs, in the same order, as the reference walk', () => {
  fc.assert(
    fc.property(pairOf, ruleSet, ([a, b], r) => {
      const out: Diff[] = [];
      const equal = diffJson(a, b, { ignore: new IgnoreMatcher(r.ignore), tolerance: r.numeric_tolerance }, out);
      assert.deepEqual({ equal, diffs: out }, referenceDiff(a, b, r));
    }),
    { numRuns: 2000 },
  );
});

test('the walk keeps only the first MAX_DIFFS diffs, with their full paths', () => {
  const a = { deep: { list: Array.from({ length: 300 }, (_, i) => ({ v: i })) } };
  const b = { deep: { list: Array.from({ length: 300 }, (_, i) => ({ v: -i - 1 })) } };
  const out: Diff[] = [];
  assert.equal(diffJson(a, b, { ignore: new IgnoreMatcher([]), tolerance: { abs: 0, rel: 0 } }, out), false);
  assert.equal(out.length, MAX_DIFFS);
  assert.equal(out[99]!.path, '/deep/list/99/v');
});

test('the bracket count settles the nesting limit as the character scan does', () => {
  // The character scan alone (brackets inside strings do not count), as the reference.
  const scan = (text: string, max: number): boolean => {
    let depth = 0;
    let inString = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{' || c === '[') {
        if (++depth > max) return true;
      } else if (c === '}' || c === ']') depth--;
    }
    return false;
  };
  fc.assert(
    fc.property(json, fc.integer({ min: 0, max: 6 }), fc.constantFrom('', '"[[[{{{"', '"\\"[{"'), (v, max, noise) => {
      const text = JSON.stringify({ v, noise: noise === '' ? null : JSON.parse(noise) });
      assert.equal(nestsDeeperThan(text, max), scan(text, max));
    }),
    { numRuns: 2000 },
  );
  // Many brackets inside strings, none nesting: the count is over, the scan says no.
  assert.equal(nestsDeeperThan(JSON.stringify({ s: '['.repeat(500) }), 256), false);
  assert.equal(nestsDeeperThan('['.repeat(257) + ']'.repeat(257), 256), true);
});

const side = (role: 'production' | 'shadow', body: string, extra: Partial<ShadowRecord> = {}): ShadowRecord => ({
  v: 1, id: 'x', role, route: 'r', method: 'GET', path: '/', status: 200, latency_ms: 1, ts_ms: 0, response_body: body, ...extra,
});

test('identical bytes skip parsing and give the answer the parse-and-walk would give, under any rules', () => {
  fc.assert(
    fc.property(json, ruleSet, fc.boolean(), fc.boolean(), (v, r, truncatedP, truncatedS) => {
      const body = JSON.stringify(v);
      const c = comparePair(side('production', body, { response_body_truncated: truncatedP }), side('shadow', body, { response_body_truncated: truncatedS }), r);
      const slow = referenceDiff(JSON.parse(body), JSON.parse(body), r);
      assert.equal(c.bodyMatch, slow.equal);
      assert.deepEqual(c.diffs, slow.diffs);
      assert.equal(c.truncated, truncatedP || truncatedS);
    }),
    { numRuns: 500 },
  );
});
