// What docs/collector.md promises about the values a `prediction` rule reads from a
// pair, checked on the module itself: a pair counts only when every configured value
// is on both sides (and a score is a number); labels are kept as their JSON text;
// pointers follow RFC 6901 (array indexes in canonical form, own keys only).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PredictionRule } from '../../src/collector/config.js';
import { predictionSample } from '../../src/collector/compare/prediction.js';
import { MAX_STRUCTURAL_DEPTH } from '../../src/collector/compare/structural-limits.js';
import type { ShadowRecord } from '../../src/collector/types.js';

const side = (role: 'production' | 'shadow', body: unknown, extra: Partial<ShadowRecord> = {}): ShadowRecord => ({
  v: 1, id: 'x', role, route: 'r', method: 'POST', path: '/', status: 200, latency_ms: 1, ts_ms: 0,
  response_body: typeof body === 'string' ? body : JSON.stringify(body), ...extra,
});
const sample = (rule: PredictionRule, p: unknown, s: unknown) => predictionSample(rule, side('production', p), side('shadow', s));

test('label and score read at their pointers on both sides', () => {
  assert.deepEqual(sample({ label: '/label', score: '/score' }, { label: 'cat', score: 0.9 }, { label: 'dog', score: 0.25 }), {
    productionLabel: '"cat"', shadowLabel: '"dog"', productionScore: 0.9, shadowScore: 0.25,
  });
  // Either may be left out; the other stays null.
  assert.deepEqual(sample({ label: '/l' }, { l: 1 }, { l: 2 }), { productionLabel: '1', shadowLabel: '2', productionScore: null, shadowScore: null });
  assert.deepEqual(sample({ score: '/s' }, { s: 0 }, { s: -1.5 }), { productionLabel: null, shadowLabel: null, productionScore: 0, shadowScore: -1.5 });
  assert.equal(sample({}, { l: 1 }, { l: 1 }), null, 'a rule with neither reads nothing');
});

test('labels are their JSON text: 1 and "1" differ; false, 0, null and objects are labels too', () => {
  const r = sample({ label: '/l' }, { l: 1 }, { l: '1' })!;
  assert.deepEqual([r.productionLabel, r.shadowLabel], ['1', '"1"']);
  assert.deepEqual(sample({ label: '/l' }, { l: false }, { l: 0 }), { productionLabel: 'false', shadowLabel: '0', productionScore: null, shadowScore: null });
  assert.equal(sample({ label: '/l' }, { l: null }, { l: null })!.productionLabel, 'null');
  assert.equal(sample({ label: '/l' }, { l: { b: [1, 'x'] } }, { l: 2 })!.productionLabel, '{"b":[1,"x"]}');
  // The whole document is a label too (pointer "").
  assert.equal(sample({ label: '' }, [1], [2])!.shadowLabel, '[2]');
});

test('a value missing on either side, or a score that is not a number, leaves the pair out', () => {
  const both = { label: '/l', score: '/s' };
  assert.notEqual(sample(both, { l: 1, s: 1 }, { l: 1, s: 1 }), null);
  assert.equal(sample(both, { s: 1 }, { l: 1, s: 1 }), null, 'label missing in production');
  assert.equal(sample(both, { l: 1, s: 1 }, { s: 1 }), null, 'label missing in the shadow');
  assert.equal(sample(both, { l: 1 }, { l: 1, s: 1 }), null, 'score missing in production');
  assert.equal(sample(both, { l: 1, s: 1 }, { l: 1 }), null, 'score missing in the shadow');
  assert.equal(sample({ score: '/s' }, { s: '0.5' }, { s: 0.5 }), null, 'a string is not a score');
  assert.equal(sample({ score: '/s' }, { s: 0.5 }, { s: null }), null, 'null is not a score');
  // Below a leaf, or below null, nothing is found.
  assert.equal(sample({ label: '/l/x' }, { l: 1 }, { l: 1 }), null);
  assert.equal(sample({ label: '/l/x' }, { l: null }, { l: null }), null);
  assert.equal(sample({ label: '/l/x' }, { l: 'abc' }, { l: 'abc' }), null);
});

test('pointers: array indexes in canonical form only, own keys only, ~0 and ~1 unescaped', () => {
  const p = { preds: [{ label: 'a' }, { label: 'b' }] };
  assert.equal(sample({ label: '/preds/1/label' }, p, p)!.productionLabel, '"b"');
  assert.equal(sample({ label: '/preds/0/label' }, p, p)!.productionLabel, '"a"');
  for (const bad of ['/preds/01/label', '/preds/-/label', '/preds/2/label', '/preds/1.0/label', '/preds//label', '/preds/x/label']) {
    assert.equal(sample({ label: bad }, p, p), null, bad);
  }
  // Ten and more elements: a multi-digit index.
  const ten = { v: Array.from({ length: 12 }, (_, i) => i * 10) };
  assert.equal(sample({ score: '/v/10' }, ten, ten)!.productionScore, 100);
  // Inherited properties are not keys of the document.
  assert.equal(sample({ label: '/toString' }, {}, {}), null);
  assert.equal(sample({ label: '/a/constructor' }, { a: {} }, { a: {} }), null);
  assert.equal(sample({ label: '/a~1b/~0c' }, { 'a/b': { '~c': 7 } }, { 'a/b': { '~c': 8 } })!.shadowLabel, '8');
});

test('bodies: base64 is decoded; non-JSON, empty or too deeply nested bodies leave the pair out', () => {
  const b64 = { body_encoding: 'base64' as const };
  const json = JSON.stringify({ l: 'cat', s: 0.5 });
  const r = predictionSample({ label: '/l', score: '/s' }, side('production', Buffer.from(json).toString('base64'), b64), side('shadow', json));
  assert.deepEqual(r, { productionLabel: '"cat"', shadowLabel: '"cat"', productionScore: 0.5, shadowScore: 0.5 });
  assert.equal(sample({ label: '' }, 'not json', { l: 1 }), null);
  assert.equal(sample({ label: '' }, { l: 1 }, 'not json'), null);
  assert.equal(sample({ label: '' }, '', '1'), null);
  // At the structural limit a label is still read; one level deeper it is not.
  const nest = (d: number) => '['.repeat(d) + '1' + ']'.repeat(d);
  const at = sample({ label: '/0' }, nest(MAX_STRUCTURAL_DEPTH), nest(MAX_STRUCTURAL_DEPTH));
  assert.equal(at!.productionLabel, nest(MAX_STRUCTURAL_DEPTH - 1));
  assert.equal(sample({ label: '/0' }, nest(MAX_STRUCTURAL_DEPTH + 1), nest(MAX_STRUCTURAL_DEPTH)), null);
  assert.equal(sample({ label: '/0' }, nest(MAX_STRUCTURAL_DEPTH), nest(MAX_STRUCTURAL_DEPTH + 1)), null);
});
