// How often a pair's bodies are parsed where the prepare thread compares it: the
// comparison, the model outputs (a `prediction` rule) and the noise paths all read
// both bodies, and each body is parsed once for all three. Counted by wrapping
// JSON.parse around the one call that does the work (PreComparer.find of the second
// side), so a fourth reader that parses again fails here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/collector/config.js';
import { MAX_STRUCTURAL_DEPTH } from '../../src/collector/compare/structural-limits.js';
import { bodyView } from '../../src/collector/compare/body-view.js';
import { PreComparer } from '../../src/collector/ingest/pre-compare.js';
import type { ShadowRecord } from '../../src/collector/types.js';

const config = parseConfig('routes:\n  predict:\n    prediction: { label: "/label", score: "/score" }\n');
const side = (role: 'production' | 'shadow', body: string): ShadowRecord => ({
  v: 1,
  id: 'x',
  role,
  route: 'predict',
  method: 'POST',
  path: '/p',
  status: 200,
  latency_ms: 1,
  ts_ms: 0,
  response_body: body,
});

/** The pair PreComparer makes when `shadow` joins `production`, and the JSON.parse calls of that step. */
function compared(production: string, shadow: string) {
  const pre = new PreComparer(config);
  pre.find(side('production', production));
  const parse = JSON.parse;
  const texts: string[] = [];
  JSON.parse = ((text: string, reviver?: Parameters<typeof parse>[1]) => {
    texts.push(text);
    return parse(text, reviver);
  }) as typeof JSON.parse;
  try {
    const found = pre.find(side('shadow', shadow));
    assert.ok(found.pair, 'the preparer compared the pair');
    return { pair: found.pair, parsed: texts };
  } finally {
    JSON.parse = parse;
  }
}

test('a differing JSON pair on a route with a prediction rule: each body parsed once for comparison, sample and noise paths', () => {
  const production = '{"label":"cat","score":0.9,"items":[{"p":1}]}';
  const shadow = '{"score":0.7,"label":"dog","items":[{"p":2}]}';
  const { pair, parsed } = compared(production, shadow);
  assert.deepEqual(parsed.sort(), [production, shadow].sort());
  assert.equal(pair.match, false);
  assert.deepEqual(JSON.parse(pair.diffs).map((d: { path: string }) => d.path).sort(), ['/items/0/p', '/label', '/score']);
  assert.deepEqual(pair.sample, { productionLabel: '"cat"', shadowLabel: '"dog"', productionScore: 0.9, shadowScore: 0.7 });
  assert.deepEqual(pair.excusable, ['/items/*/p', '/label', '/score']);
});

test('a body that is not JSON is tried once; the pair is compared byte for byte and has no sample', () => {
  const { pair, parsed } = compared('{"label":"cat","score":1}', 'not json');
  assert.equal(parsed.filter((t) => t === 'not json').length, 1);
  assert.equal(parsed.length, 2);
  assert.equal(pair.bodyMatch, false);
  assert.equal(JSON.parse(pair.diffs)[0].kind, 'body');
  assert.equal(pair.sample, null);
});

test('a body nesting too deep is never parsed (its depth is scanned, not walked); byte for byte, with the note', () => {
  const deep = '{"label":"cat","score":1,"x":' + '['.repeat(MAX_STRUCTURAL_DEPTH + 1) + ']'.repeat(MAX_STRUCTURAL_DEPTH + 1) + '}';
  const { pair, parsed } = compared('{"label":"cat","score":1}', deep);
  assert.deepEqual(parsed, [], 'neither body parsed: the comparison and the sample both stop at the depth');
  assert.equal(pair.compareNote, `response body nests deeper than ${MAX_STRUCTURAL_DEPTH} levels: compared byte for byte`);
  assert.equal(pair.sample, null);
});

test('equal bytes are equal without parsing; the sample still reads both outputs, once each', () => {
  const body = '{"label":"cat","score":0.5}';
  const { pair, parsed } = compared(body, body);
  assert.equal(pair.match, true);
  assert.deepEqual(parsed, [body, body]);
  assert.deepEqual(pair.sample, { productionLabel: '"cat"', shadowLabel: '"cat"', productionScore: 0.5, shadowScore: 0.5 });
});

test('the view kept on a record is invisible to what stores, sends or lists the record', () => {
  const r = side('production', '{"label":"cat","score":0.9}');
  const before = { json: JSON.stringify(r), keys: Object.keys(r), clone: structuredClone(r) };
  const v = bodyView(r);
  assert.deepEqual(v.json, { value: { label: 'cat', score: 0.9 } });
  assert.equal(bodyView(r), v, 'one view per record');
  assert.equal(JSON.stringify(r), before.json);
  assert.deepEqual(Object.keys(r), before.keys);
  assert.deepEqual(structuredClone(r), before.clone);
  assert.deepEqual({ ...r }, { ...before.clone }, 'a spread copy carries no view');
});
