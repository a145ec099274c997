// Ground truth: POST /v1/feedback, per-route accuracy and the exact McNemar test.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { mcnemarExactP } from '../../src/collector/feedback/mcnemar.js';
import { post, rec, startCollector, stats, tempDir } from './helpers.js';
import { feedback, writeConfig } from './decision-helpers.js';

test('exact McNemar p-values worked out by hand', () => {
  // b = 8, c = 0: 2 · (1/2)^8
  assert.equal(mcnemarExactP(8, 0), 2 / 256);
  assert.equal(mcnemarExactP(0, 8), 2 / 256);
  // b = 6, c = 1: 2 · (C(7,0) + C(7,1)) / 2^7
  assert.ok(Math.abs(mcnemarExactP(6, 1) - 16 / 128) < 1e-12);
  // b = 9, c = 1: 2 · (1 + 10) / 2^10
  assert.ok(Math.abs(mcnemarExactP(9, 1) - 22 / 1024) < 1e-12);
  assert.equal(mcnemarExactP(3, 3), 1);
  assert.equal(mcnemarExactP(0, 0), 1);
});

const body = (label: unknown) => JSON.stringify({ label, score: 0.5 });

test('feedback before and after its pair, first label wins, any JSON label, kept across kill -9', async (t) => {
  const dir = tempDir(t);
  const cfg = writeConfig(dir, {
    routes: { predict: { prediction: { label: '/label' } }, second: { prediction: { label: '/label' } } },
    verdict: { confidence: 0.95 },
  });
  const args = ['--db', join(dir, 'c.db'), '--config', cfg, '--token', 'w', '--max-body-bytes', '65536'];
  const c = await startCollector(args, t);

  // Route predict: f0–f7 production right, shadow wrong (b = 8); f8 both right with
  // an object label whose keys come in another order; f9 both wrong.
  const pairs: [unknown, unknown, unknown][] = [];
  for (let i = 0; i < 8; i++) pairs.push(['cat', 'dog', 'cat']);
  pairs.push([{ a: 1, b: [2] }, { b: [2], a: 1 }, { b: [2], a: 1 }]);
  pairs.push([1, 1, 2]);
  const labels = pairs.map(([, , truth], i) => ({ id: `f${i}`, label: truth }));

  // Half of the labels arrive before their pair, with one unknown id and one bad item.
  const early = await feedback(c.url, [...labels.slice(0, 5), { id: 'ghost', label: true }, { id: 'x' }, { id: 'bad id!', label: 1 }], { token: 'w' });
  assert.equal(early.status, 200);
  assert.equal(early.json.accepted, 6);
  assert.equal(early.json.rejected, 2);
  assert.deepEqual(early.json.errors.map((e: { index: number }) => e.index), [6, 7]);
  assert.match(early.json.errors[0].error, /label/);
  assert.match(early.json.errors[1].error, /\/id/);

  const records = [];
  for (const [i, [p, s]] of pairs.entries()) {
    records.push(rec({ id: `f${i}`, role: 'production', response_body: body(p) }));
    records.push(rec({ id: `f${i}`, role: 'shadow', response_body: body(s) }));
  }
  // A pair without a label, and route second: c = 6, b = 1.
  records.push(rec({ id: 'nolabel', role: 'production', response_body: body('cat') }), rec({ id: 'nolabel', role: 'shadow', response_body: body('cat') }));
  const second = [];
  for (let i = 0; i < 7; i++) {
    const prodRight = i === 6;
    records.push(rec({ id: `g${i}`, route: 'second', role: 'production', response_body: body(prodRight ? 'y' : 'n') }));
    records.push(rec({ id: `g${i}`, route: 'second', role: 'shadow', response_body: body(prodRight ? 'n' : 'y') }));
    second.push({ id: `g${i}`, label: 'y' });
  }
  assert.equal((await post(c.url, records, { token: 'w' })).json.accepted, records.length);

  // The rest after the pairs, as NDJSON; a second label for f0 does not replace the first.
  const late = [...labels.slice(5), { id: 'f0', label: 'dog' }, ...second].map((x) => JSON.stringify(x)).join('\n') + '\nnot json\n';
  const answer = await feedback(c.url, late, { token: 'w', contentType: 'application/x-ndjson' });
  assert.equal(answer.json.accepted, 13);
  assert.deepEqual(answer.json.errors.map((e: { index: number }) => e.index), [13]);

  const s = await stats(c.url);
  assert.deepEqual(s.routes.predict.prediction.feedback, {
    labelled: 10,
    production_accuracy: 0.9,
    shadow_accuracy: 0.1,
    mcnemar_p: 2 / 256,
    conclusion: 'shadow_worse',
    production_only_correct: 8,
    shadow_only_correct: 0,
  });
  const f2 = s.routes.second.prediction.feedback;
  assert.equal(f2.labelled, 7);
  assert.equal(f2.production_accuracy, 1 / 7);
  assert.equal(f2.shadow_accuracy, 6 / 7);
  assert.ok(Math.abs(f2.mcnemar_p - 0.125) < 1e-12);
  assert.equal(f2.conclusion, 'no_significant_difference');

  // The same clear errors as /v1/records.
  assert.equal((await feedback(c.url, [labels[0]])).status, 401);
  assert.equal((await feedback(c.url, [labels[0]], { token: 'nope' })).status, 401);
  const notJson = await feedback(c.url, '{oops', { token: 'w' });
  assert.equal(notJson.status, 400);
  assert.match(notJson.json.error, /not valid JSON/);
  const notArray = await feedback(c.url, { id: 'f1', label: 1 }, { token: 'w' });
  assert.equal(notArray.status, 400);
  assert.match(notArray.json.error, /array/);
  const tooLarge = await feedback(c.url, [{ id: 'big', label: 'x'.repeat(70_000) }], { token: 'w' });
  assert.equal(tooLarge.status, 413);

  await c.kill9();
  const again = await startCollector(args, t);
  assert.deepEqual(await stats(again.url), s);
  // A label that waited for its pair across the restart still counts when the pair comes.
  await post(again.url, [rec({ id: 'ghost', role: 'production', response_body: body(true) }), rec({ id: 'ghost', role: 'shadow', response_body: body(false) })], { token: 'w' });
  const f = (await stats(again.url, 'predict')).total.prediction.feedback;
  assert.equal(f.labelled, 11);
  assert.equal(f.production_only_correct, 9);
  assert.equal(await again.stop(), 0);
});
