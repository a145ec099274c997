// One bad record never costs the others: a batch holding bodies nested 50,000 levels
// deep, a record nested that deep in a field of its own, and a plainly invalid record
// is answered 200, keeps every record that can be kept, and names the others.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, post, rec, stats } from '../collector/helpers.js';
import { startCollectorOnTempDb } from '../support/collector-on-temp-db.js';

const LEVELS = 50_000;
const deep = (leaf: string): string => '{"a":'.repeat(LEVELS) + leaf + '}'.repeat(LEVELS);
const deepArray = (leaf: string): string => '['.repeat(LEVELS) + leaf + ']'.repeat(LEVELS);

test('faults: a deeply nested record is judged on its own, the rest of the batch is kept', async (t) => {
  const { collector: c } = await startCollectorOnTempDb(t);
  const ownField = JSON.stringify(rec({ id: 'deep-field', role: 'production' })).replace(/}$/, `,"extra":${deepArray('1')}}`);
  const batch =
    '[' +
    [
      JSON.stringify(rec({ id: 'deep-body', role: 'production', response_body: deep('1') })),
      JSON.stringify(rec({ id: 'deep-body', role: 'shadow', response_body: deep('2') })),
      JSON.stringify(rec({ id: 'deep-same', role: 'production', response_body: deep('1') })),
      JSON.stringify(rec({ id: 'deep-same', role: 'shadow', response_body: deep('1') })),
      JSON.stringify(rec({ id: 'plain', role: 'production', response_body: '{"score":1}' })),
      JSON.stringify(rec({ id: 'plain', role: 'shadow', response_body: '{"score":2}' })),
      JSON.stringify({ ...rec({ id: 'invalid', role: 'production' }), status: 'two hundred' }),
      ownField,
    ].join(',') +
    ']';

  const r = await post(c.url, batch);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.accepted, 6);
  assert.equal(r.json.rejected, 2);
  assert.deepEqual(r.json.errors.map((e: { index: number }) => e.index), [6, 7]);
  assert.match(r.json.errors[0].error, /status/);
  assert.match(r.json.errors[1].error, /nests too deeply/);

  const deepPair = await get(c.url, '/v1/pairs/deep-body');
  assert.equal(deepPair.status, 200);
  assert.equal(deepPair.json.body_match, false);
  assert.match(deepPair.json.compare_note, /nests deeper than \d+ levels: compared byte for byte/);
  assert.equal(deepPair.json.diffs.length, 1);
  assert.equal(deepPair.json.diffs[0].kind, 'body');

  // Equal bytes are equal without any structural walk, so no note is needed.
  const same = await get(c.url, '/v1/pairs/deep-same');
  assert.equal(same.json.body_match, true);
  assert.equal(same.json.compare_note, null);

  // The ordinary pair in the same batch was compared structurally as always.
  const plain = await get(c.url, '/v1/pairs/plain');
  assert.equal(plain.json.compare_note, null);
  assert.deepEqual(plain.json.diffs.map((d: { path: string; kind: string }) => [d.path, d.kind]), [['/score', 'changed']]);

  const s = await stats(c.url);
  assert.equal(s.total.pairs, 3);
  assert.equal(s.total.production, 3);
  assert.equal((await get(c.url, '/v1/pairs/deep-field')).status, 404);

  // The pages of pairs show the note too.
  const page = await get(c.url, '/v1/pairs?mismatch=true');
  const listed = page.json.items.find((p: { id: string }) => p.id === 'deep-body');
  assert.match(listed.compare_note, /compared byte for byte/);

  // Nothing failed inside the collector, so nothing was logged as an internal error.
  assert.doesNotMatch(c.stderr(), /internal error/);
});

test('faults: a body too large to walk is compared byte for byte and says so', async (t) => {
  const { collector: c } = await startCollectorOnTempDb(t);
  const big = (v: number): string => JSON.stringify({ items: Array.from({ length: 200_000 }, (_, i) => i), v });
  const r = await post(c.url, [rec({ id: 'big', role: 'production', response_body: big(1) }), rec({ id: 'big', role: 'shadow', response_body: big(2) })]);
  assert.equal(r.status, 200);
  assert.equal(r.json.accepted, 2);
  const pair = await get(c.url, '/v1/pairs/big');
  assert.equal(pair.json.body_match, false);
  assert.match(pair.json.compare_note, /longer than \d+ characters: compared byte for byte/);
});
