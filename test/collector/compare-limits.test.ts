// What docs/collector.md promises about comparing, pinned where a small change
// to the code would otherwise pass: ignore with a literal key and `*` at the same
// level, the relative bound's scale, exact ties, and the size limits of diffs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RouteRules } from '../../src/collector/config.js';
import { comparePair } from '../../src/collector/compare/compare-pair.js';
import { numbersEqual } from '../../src/collector/compare/tolerance.js';
import { MAX_FIELDS, RouteStats, fieldPaths } from '../../src/collector/stats/route-stats.js';
import type { ShadowRecord } from '../../src/collector/types.js';

const rules = (r: Partial<RouteRules> = {}): RouteRules => ({ ignore: [], numeric_tolerance: { abs: 0, rel: 0 }, compare_headers: [], ...r });
const side = (role: 'production' | 'shadow', body: string, extra: Partial<ShadowRecord> = {}): ShadowRecord => ({
  v: 1, id: 'x', role, route: 'r', method: 'GET', path: '/', status: 200, latency_ms: 1, ts_ms: 0, response_body: body, ...extra,
});
const cmp = (p: unknown, s: unknown, r: Partial<RouteRules> = {}) => comparePair(side('production', JSON.stringify(p)), side('shadow', JSON.stringify(s)), rules(r));

test('ignore: a literal key and * at the same level both apply', () => {
  const r = { ignore: ['/items/0/id', '/items/*/ts'] };
  const c = cmp({ items: [{ id: 1, ts: 1, v: 1 }, { id: 1, ts: 1 }] }, { items: [{ id: 2, ts: 2, v: 1 }, { id: 2, ts: 2 }] }, r);
  assert.deepEqual(c.diffs.map((d) => d.path), ['/items/1/id']);
  // The same with the patterns in the other order, and on object keys.
  const c2 = cmp({ a: { k: 1, j: 1 } }, { a: { k: 2, j: 2 } }, { ignore: ['/a/*', '/a/k/x'] });
  assert.equal(c2.match, true);
  const c3 = cmp({ a: { k: { x: 1, y: 1 }, j: { y: 1 } } }, { a: { k: { x: 2, y: 2 }, j: { y: 2 } } }, { ignore: ['/a/k/x', '/a/*/y'] });
  assert.equal(c3.match, true, JSON.stringify(c3.diffs));
});

test('ignore: an added or removed key under an ignored path is not reported; elsewhere it is', () => {
  const c = cmp({ a: { t: 1 }, b: [1] }, { a: {}, b: [1, 2], c: 3 }, { ignore: ['/a/t', '/b/1', '/c'] });
  assert.equal(c.match, true, JSON.stringify(c.diffs));
  const d = cmp({ a: {} }, { a: { t: 1 }, b: 1 }, { ignore: ['/a/u'] });
  assert.deepEqual(d.diffs.map((x) => [x.path, x.kind]), [['/a/t', 'added'], ['/b', 'added']]);
});

test('tolerance: the relative bound scales with the larger magnitude', () => {
  // 1.005 ≤ 0.01 × 101.005 (max) but not ≤ 0.01 × 100 (min).
  assert.equal(numbersEqual(100, 101.005, { abs: 0, rel: 0.01 }), true);
  assert.equal(numbersEqual(101.005, 100, { abs: 0, rel: 0.01 }), true);
  assert.equal(numbersEqual(-100, -101.005, { abs: 0, rel: 0.01 }), true);
  assert.equal(numbersEqual(100, 101.03, { abs: 0, rel: 0.01 }), false);
});

test('tolerance: an exact tie at the relative bound passes despite rounding; just past it fails', () => {
  // 1 − 0.7 is 0.30000000000000004 while 0.3 × 1 is 0.3: equal only with the slack.
  assert.ok(Math.abs(1 - 0.7) > 0.3 * 1);
  assert.equal(numbersEqual(0.7, 1, { abs: 0, rel: 0.3 }), true);
  assert.equal(numbersEqual(0.69, 1, { abs: 0, rel: 0.3 }), false);
  // abs: 0.856 − 0.851 = 0.0050000000000000044
  assert.equal(numbersEqual(0.851, 0.856, { abs: 0.005, rel: 0 }), true);
  assert.equal(numbersEqual(0.851, 0.85601, { abs: 0.005, rel: 0 }), false);
  // Either bound suffices; a zero bound is exact (no slack applies to it).
  assert.equal(numbersEqual(1000, 1005, { abs: 10, rel: 0.001 }), true);
  assert.equal(numbersEqual(1000, 1005, { abs: 1, rel: 0.01 }), true);
  assert.equal(numbersEqual(1000, 1005, { abs: 1, rel: 0.001 }), false);
  assert.equal(numbersEqual(1, 1 + Number.EPSILON, { abs: 0, rel: 0 }), false);
  assert.equal(numbersEqual(0, 0, { abs: 0, rel: 0 }), true);
});

test('a pair keeps at most 100 body diffs, the first 100 in document order', () => {
  const n = 150;
  const a = Array.from({ length: n }, (_, i) => i);
  const b = a.map((x) => x + 1);
  const c = cmp(a, b);
  assert.equal(c.match, false);
  assert.equal(c.diffs.length, 100);
  assert.deepEqual(c.diffs.map((d) => d.path), a.slice(0, 100).map((i) => `/${i}`));
  assert.equal(cmp(a.slice(0, 100), b.slice(0, 100)).diffs.length, 100);
  assert.equal(cmp(a.slice(0, 99), b.slice(0, 99)).diffs.length, 99);
});

test('a non-JSON body diff previews 256 characters of each side', () => {
  const p = 'p'.repeat(300);
  const s = 's'.repeat(257);
  const c = comparePair(side('production', p), side('shadow', s), rules());
  assert.deepEqual(c.diffs, [{ path: '', kind: 'body', production: 'p'.repeat(256), shadow: 's'.repeat(256) }]);
  const short = comparePair(side('production', 'abc'), side('shadow', 'abd'), rules());
  assert.deepEqual(short.diffs, [{ path: '', kind: 'body', production: 'abc', shadow: 'abd' }]);
  // base64 bodies are previewed as the record carried them.
  const b = comparePair(side('production', Buffer.from('x').toString('base64'), { body_encoding: 'base64' }), side('shadow', 'y'), rules());
  assert.deepEqual(b.diffs, [{ path: '', kind: 'body', production: 'eA==', shadow: 'y' }]);
});

test('stats fields: at most 50 paths, most diffs first, ties by path', () => {
  assert.equal(MAX_FIELDS, 50);
  const stats = new RouteStats();
  const total = 60;
  for (let i = 0; i < total; i++) {
    // Path /fNN differs in NN + 1 pairs, so the order is known.
    for (let k = 0; k <= i; k++) stats.countPair({ statusMatch: true, bodyMatch: false, match: false }, false, [`/f${String(i).padStart(2, '0')}`]);
  }
  const fields = stats.snapshot().fields;
  assert.equal(fields.length, 50);
  assert.deepEqual(fields[0], { path: '/f59', diffs: 60 });
  assert.deepEqual(fields[49], { path: '/f10', diffs: 11 });
  assert.deepEqual([...fieldPaths([{ path: 'header:x', kind: 'changed' }, { path: '', kind: 'body' }, { path: '/a', kind: 'added' }])], ['/a']);
});
