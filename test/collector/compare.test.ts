// The comparison module on its own: examples and fast-check properties.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseConfig, type RouteRules } from '../../src/collector/config.js';
import { comparePair } from '../../src/collector/compare/compare-pair.js';
import { diffJson } from '../../src/collector/compare/json-diff.js';
import { IgnoreMatcher } from '../../src/collector/compare/ignore.js';
import { numbersEqual } from '../../src/collector/compare/tolerance.js';
import { childPath, parsePointer } from '../../src/collector/compare/pointer.js';
import type { Diff, ShadowRecord } from '../../src/collector/types.js';

const rules = (r: Partial<RouteRules> = {}): RouteRules => ({
  ignore: [],
  numeric_tolerance: { abs: 0, rel: 0 },
  compare_headers: [],
  ...r,
});

const side = (role: 'production' | 'shadow', body: unknown, extra: Partial<ShadowRecord> = {}): ShadowRecord => ({
  v: 1,
  id: 'x',
  role,
  route: 'r',
  method: 'GET',
  path: '/',
  status: 200,
  latency_ms: 1,
  ts_ms: 0,
  response_body: typeof body === 'string' ? body : JSON.stringify(body),
  ...extra,
});

const cmp = (p: unknown, s: unknown, r: Partial<RouteRules> = {}) => comparePair(side('production', p), side('shadow', s), rules(r));

test('key order never matters; values do', () => {
  assert.equal(cmp({ a: 1, b: { c: [1, 2], d: 'x' } }, { b: { d: 'x', c: [1, 2] }, a: 1 }).match, true);
  const c = cmp({ a: 1, b: [1, 2] }, { a: 1, b: [2, 1] });
  assert.equal(c.bodyMatch, false);
  assert.deepEqual(c.diffs.map((d) => d.path), ['/b/0', '/b/1']);
});

test('diff kinds: changed, added, removed, type, body', () => {
  const c = cmp({ keep: 1, gone: true, n: 1, t: '1' }, { keep: 1, n: 2, t: 1, fresh: null });
  const byPath = Object.fromEntries(c.diffs.map((d) => [d.path, d]));
  assert.deepEqual(byPath['/gone'], { path: '/gone', kind: 'removed', production: true });
  assert.deepEqual(byPath['/fresh'], { path: '/fresh', kind: 'added', shadow: null });
  assert.deepEqual(byPath['/n'], { path: '/n', kind: 'changed', production: 1, shadow: 2 });
  assert.deepEqual(byPath['/t'], { path: '/t', kind: 'type', production: '1', shadow: 1 });
  const body = cmp('plain text', 'plain text!');
  assert.equal(body.bodyMatch, false);
  assert.equal(body.diffs[0]!.kind, 'body');
  assert.equal(body.diffs[0]!.path, '');
  assert.equal(cmp('plain text', 'plain text').match, true);
  // One side JSON, the other not: compared as bytes.
  assert.equal(cmp('{"a":1}', 'oops').diffs[0]!.kind, 'body');
});

test('JSON Pointer escaping in diff paths and ignore patterns', () => {
  const c = cmp({ 'a/b': { '~k': 1 } }, { 'a/b': { '~k': 2 } });
  assert.equal(c.diffs[0]!.path, '/a~1b/~0k');
  assert.equal(cmp({ 'a/b': { '~k': 1 } }, { 'a/b': { '~k': 2 } }, { ignore: ['/a~1b/~0k'] }).match, true);
  assert.deepEqual(parsePointer('/a~1b/~0k'), ['a/b', '~k']);
});

test('ignore: subtree, * segments, path missing on either side, whole document', () => {
  const r = { ignore: ['/meta/request_id', '/trace/*', '/items/*/ts'] };
  assert.equal(
    cmp(
      { meta: { request_id: 'a' }, trace: { span: 1, deep: { x: 1 } }, items: [{ ts: 1, v: 1 }, { ts: 2, v: 2 }] },
      { meta: {}, trace: { span: 9, other: [1] }, items: [{ ts: 5, v: 1 }, { v: 2 }] },
      r,
    ).match,
    true,
  );
  const c = cmp({ meta: { request_id: 'a', other: 1 }, items: [{ ts: 1, v: 1 }] }, { meta: { request_id: 'b', other: 2 }, items: [{ ts: 3, v: 3 }] }, r);
  assert.deepEqual(c.diffs.map((d) => d.path).sort(), ['/items/0/v', '/meta/other']);
  assert.equal(cmp({ a: 1 }, { b: 2 }, { ignore: [''] }).match, true);
  // `/trace/*` covers what is below trace, not trace itself being absent vs present with a value.
  assert.equal(cmp({ trace: 1 }, { trace: 2 }, { ignore: ['/trace/*'] }).match, false);
});

test('numeric tolerance: abs and rel', () => {
  assert.equal(cmp({ s: 0.5 }, { s: 0.509 }, { numeric_tolerance: { abs: 0.01, rel: 0 } }).match, true);
  assert.equal(cmp({ s: 0.5 }, { s: 0.52 }, { numeric_tolerance: { abs: 0.01, rel: 0 } }).match, false);
  assert.equal(cmp({ s: 100 }, { s: 101 }, { numeric_tolerance: { abs: 0, rel: 0.01 } }).match, true);
  assert.equal(cmp({ s: 100 }, { s: 102 }, { numeric_tolerance: { abs: 0, rel: 0.01 } }).match, false);
});

test('numeric tolerance: a difference of exactly the bound passes despite rounding; zero tolerance stays exact', () => {
  // 0.856 - 0.851 evaluates to 0.0050000000000000044 in binary floating point.
  assert.ok(Math.abs(0.856 - 0.851) > 0.005);
  assert.equal(cmp({ s: 0.851 }, { s: 0.856 }, { numeric_tolerance: { abs: 0.005, rel: 0 } }).match, true);
  assert.equal(cmp({ s: 0.851 }, { s: 0.8561 }, { numeric_tolerance: { abs: 0.005, rel: 0 } }).match, false);
  assert.equal(cmp({ s: 0.3 }, { s: 0.1 + 0.2 }, { numeric_tolerance: { abs: 0, rel: 0 } }).match, false);
  assert.equal(cmp([1, 2], [1, 2.0000001]).match, false);
});

test('base64 and utf8 copies of the same bytes are equal; bytes compared exactly', () => {
  const text = '{"label":"cat","score":0.9}';
  const b64 = Buffer.from(text).toString('base64');
  const c = comparePair(side('production', text), side('shadow', b64, { body_encoding: 'base64' }), rules());
  assert.equal(c.match, true);
  const bin = Buffer.from([0, 255, 1, 2]).toString('base64');
  const bin2 = Buffer.from([0, 255, 1, 3]).toString('base64');
  const enc = { body_encoding: 'base64' as const };
  assert.equal(comparePair(side('production', bin, enc), side('shadow', bin, enc), rules()).match, true);
  assert.equal(comparePair(side('production', bin, enc), side('shadow', bin2, enc), rules()).diffs[0]!.kind, 'body');
  // Base64 JSON that differs is diffed structurally.
  const other = Buffer.from('{"score":0.8,"label":"cat"}').toString('base64');
  const d = comparePair(side('production', b64, enc), side('shadow', other, enc), rules());
  assert.deepEqual(d.diffs, [{ path: '/score', kind: 'changed', production: 0.9, shadow: 0.8 }]);
});

test('truncated bodies flag the pair and fall back to bytes', () => {
  const c = comparePair(side('production', '{"a":[1,2', { response_body_truncated: true }), side('shadow', '{"a":[1,3'), rules());
  assert.equal(c.truncated, true);
  assert.equal(c.diffs[0]!.kind, 'body');
});

test('compare_headers: a differing listed header makes a mismatch', () => {
  const h = (v: Record<string, string>) => ({ response_headers: v });
  const r = rules({ compare_headers: ['content-type', 'x-model'] });
  const same = comparePair(side('production', '1', h({ 'content-type': 'a', date: 'x' })), side('shadow', '1', h({ 'content-type': 'a', date: 'y' })), r);
  assert.equal(same.match, true);
  const diff = comparePair(side('production', '1', h({ 'content-type': 'a' })), side('shadow', '1', h({ 'content-type': 'b', 'x-model': 'v2' })), r);
  assert.equal(diff.match, false);
  assert.equal(diff.bodyMatch, true);
  assert.equal(diff.headersMatch, false);
  assert.deepEqual(diff.diffs, [
    { path: 'header:content-type', kind: 'changed', production: 'a', shadow: 'b' },
    { path: 'header:x-model', kind: 'added', shadow: 'v2' },
  ]);
});

test('route rules: a route entry overrides * key by key', () => {
  const cfg = parseConfig(
    JSON.stringify({
      routes: { '*': { ignore: ['/meta'], numeric_tolerance: { abs: 0.5 } }, predict: { compare_headers: ['Content-Type'] } },
    }),
  );
  assert.deepEqual(cfg.rulesFor('predict'), {
    ignore: ['/meta'], numeric_tolerance: { abs: 0.5, rel: 0 }, compare_headers: ['content-type'],
    noise: { min_triples: 20, min_rate: 0.05, relative: 0.2, absolute: 0.0003 },
  });
  assert.deepEqual(cfg.rulesFor('other').compare_headers, []);
  const own = parseConfig('routes:\n  "*": {ignore: ["/a"]}\n  x: {ignore: ["/b"]}\n');
  assert.deepEqual(own.rulesFor('x').ignore, ['/b']);
});

// ---- properties ----

const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
    fc.string(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;

function reorder(v: unknown, rnd: () => number): unknown {
  if (Array.isArray(v)) return v.map((x) => reorder(x, rnd));
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v).map(([k, x]) => [k, reorder(x, rnd)] as const);
    entries.sort(() => rnd() - 0.5);
    const o: Record<string, unknown> = {};
    for (const [k, x] of entries) Object.defineProperty(o, k, { value: x, enumerable: true, writable: true, configurable: true });
    return o;
  }
  return v;
}

/** Every path in a document, with its value. */
function paths(v: unknown, at = ''): [string, unknown][] {
  const out: [string, unknown][] = [[at, v]];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, childPath(at, i))));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, childPath(at, k)));
  return out;
}

function setAt(doc: unknown, path: string, value: unknown): unknown {
  if (path === '') return value;
  const copy = structuredClone(doc);
  const segs = parsePointer(path);
  let node = copy as Record<string, unknown>;
  for (const s of segs.slice(0, -1)) node = node[s] as Record<string, unknown>;
  node[segs[segs.length - 1]!] = value;
  return copy;
}

const noTolerance = { abs: 0, rel: 0 };

test('property: equal documents compare equal under any key reordering (and through JSON text)', () => {
  fc.assert(
    fc.property(json, fc.integer(), (doc, seed) => {
      let s = seed;
      const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
      const shuffled = reorder(JSON.parse(JSON.stringify(doc)), rnd);
      const out: Diff[] = [];
      assert.equal(diffJson(JSON.parse(JSON.stringify(doc)), shuffled, { ignore: new IgnoreMatcher([]), tolerance: noTolerance }, out), true);
      assert.deepEqual(out, []);
      assert.equal(cmp(JSON.stringify(doc), JSON.stringify(shuffled)).match, true);
    }),
    { numRuns: 300 },
  );
});

test('property: a change outside the ignore list is always reported at its path (or above it)', () => {
  fc.assert(
    fc.property(json, fc.nat(), fc.string(), fc.array(fc.string({ maxLength: 3 }).filter((k) => k !== '*'), { maxLength: 3 }), (raw, pick, marker, ignoreKeys) => {
      const doc = JSON.parse(JSON.stringify(raw)) as unknown;
      const all = paths(doc);
      const [path, old] = all[pick % all.length]!;
      const changed = { changed_marker: marker, was: old === undefined ? null : old };
      const ignore = ignoreKeys.map((k) => childPath('', k));
      // Literal keys only (a `*` segment is a wildcard); keep the cases the patterns do not cover.
      const covered = ignore.some((p) => path === p || path.startsWith(p + '/'));
      fc.pre(!covered);
      const other = setAt(doc, path, changed);
      const out: Diff[] = [];
      const equal = diffJson(doc, other, { ignore: new IgnoreMatcher(ignore), tolerance: noTolerance }, out);
      assert.equal(equal, false);
      assert.ok(
        out.some((d) => d.path === path || path.startsWith(d.path + '/') || d.path.startsWith(path + '/')),
        `no diff near ${path}: ${JSON.stringify(out)}`,
      );
    }),
    { numRuns: 300 },
  );
});

test('property: a change inside an ignored subtree is never reported', () => {
  fc.assert(
    fc.property(json, json, fc.string({ maxLength: 4 }), (base, changed, key) => {
      const p = { root: { [key]: base }, keep: 1 };
      const s = { root: { [key]: changed }, keep: 1 };
      const out: Diff[] = [];
      assert.equal(diffJson(p, s, { ignore: new IgnoreMatcher(['/root/*']), tolerance: noTolerance }, out), true);
    }),
    { numRuns: 200 },
  );
});

test('property: tolerance is symmetric', () => {
  const num = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });
  fc.assert(
    fc.property(num, num, fc.double({ min: 0, max: 10, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (a, b, abs, rel) => {
      const tol = { abs, rel };
      assert.equal(numbersEqual(a, b, tol), numbersEqual(b, a, tol));
      const docA = { x: [a] };
      const docB = { x: [b] };
      const o1: Diff[] = [];
      const o2: Diff[] = [];
      assert.equal(
        diffJson(docA, docB, { ignore: new IgnoreMatcher([]), tolerance: tol }, o1),
        diffJson(docB, docA, { ignore: new IgnoreMatcher([]), tolerance: tol }, o2),
      );
    }),
    { numRuns: 1000 },
  );
});

test('property: comparing is symmetric in which side has which diff kind', () => {
  fc.assert(
    fc.property(json, json, (a, b) => {
      const o1: Diff[] = [];
      const o2: Diff[] = [];
      const opts = { ignore: new IgnoreMatcher([]), tolerance: noTolerance };
      assert.equal(diffJson(a, b, opts, o1), diffJson(b, a, opts, o2));
      const flip = { added: 'removed', removed: 'added', changed: 'changed', type: 'type', body: 'body' } as const;
      assert.deepEqual(o1.map((d) => `${d.path} ${flip[d.kind]}`).sort(), o2.map((d) => `${d.path} ${d.kind}`).sort());
    }),
    { numRuns: 300 },
  );
});
