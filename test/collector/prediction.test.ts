// Model metrics (`prediction` in S) for a route whose config names label and score pointers.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { scoreShift } from '../../src/collector/stats/score-distributions.js';
import { get, post, rec, startCollector, stats, tempDir } from './helpers.js';

// Straightforward definitions, written independently of the module's sweep.
function bruteKs(a: number[], b: number[]): number {
  const cdf = (xs: number[], x: number) => xs.filter((v) => v <= x).length / xs.length;
  let d = 0;
  for (const x of [...a, ...b]) d = Math.max(d, Math.abs(cdf(a, x) - cdf(b, x)));
  return d;
}

function brutePsi(a: number[], b: number[]): number {
  const sorted = [...a].sort((x, y) => x - y);
  const cuts = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => sorted[Math.ceil((k * sorted.length) / 10) - 1]!);
  const bin = (v: number) => cuts.filter((c) => v > c).length;
  const frac = (xs: number[], k: number) => xs.filter((v) => bin(v) === k).length / xs.length || 0.0001;
  let psi = 0;
  for (let k = 0; k < 10; k++) psi += (frac(b, k) - frac(a, k)) * Math.log(frac(b, k) / frac(a, k));
  return psi;
}

test('scoreShift matches the textbook definitions', () => {
  const sample = fc.array(fc.oneof(fc.double({ min: -5, max: 5, noNaN: true }), fc.constantFrom(0, 0.5, 1)), { minLength: 1, maxLength: 60 });
  fc.assert(
    fc.property(sample, sample, (a, b) => {
      const r = scoreShift(Float64Array.from(a), Float64Array.from(b));
      assert.ok(Math.abs(r.ks! - bruteKs(a, b)) < 1e-12, `ks ${r.ks} vs ${bruteKs(a, b)}`);
      assert.ok(Math.abs(r.psi! - brutePsi(a, b)) < 1e-9, `psi ${r.psi} vs ${brutePsi(a, b)}`);
    }),
    { numRuns: 300 },
  );
  assert.deepEqual(scoreShift(new Float64Array(0), Float64Array.from([1])), { psi: null, ks: null });
  assert.equal(scoreShift(Float64Array.from([1, 2, 3]), Float64Array.from([1, 2, 3])).ks, 0);
});

test('prediction metrics over HTTP, and equal after kill -9', async (t) => {
  const dir = tempDir(t);
  const cfg = join(dir, 'rules.json');
  writeFileSync(cfg, JSON.stringify({ routes: { '*': { ignore: ['/trace'] }, predict: { prediction: { label: '/label', score: '/score' } } } }));
  const db = join(dir, 'c.db');
  const args = ['--db', db, '--config', cfg, '--join-window-ms', '600000'];
  const c = await startCollector(args, t);

  const labels = ['cat', 'dog', 1];
  const prodScores: number[] = [];
  const shadowScores: number[] = [];
  const expectedConfusion: Record<string, Record<string, number>> = {};
  let agree = 0;
  const batch = [];
  for (let i = 0; i < 120; i++) {
    const pl = labels[i % 3]!;
    const sl = i % 7 === 0 ? labels[(i + 1) % 3]! : pl;
    const ps = ((i * 37) % 100) / 100;
    const ss = Math.round((ps + (i % 5 === 0 ? 0.2 : 0.01 * (i % 3))) * 1000) / 1000;
    prodScores.push(ps);
    shadowScores.push(ss);
    if (JSON.stringify(pl) === JSON.stringify(sl)) agree++;
    const row = (expectedConfusion[JSON.stringify(pl)] ??= {});
    row[JSON.stringify(sl)] = (row[JSON.stringify(sl)] ?? 0) + 1;
    batch.push(rec({ id: `m${i}`, role: 'production', response_body: JSON.stringify({ label: pl, score: ps }) }));
    batch.push(rec({ id: `m${i}`, role: 'shadow', response_body: JSON.stringify({ score: ss, label: sl, trace: i }) }));
  }
  // Left out: a score missing on one side, a non-JSON body, a non-numeric score.
  batch.push(rec({ id: 'x1', role: 'production', response_body: '{"label":"cat","score":0.5}' }), rec({ id: 'x1', role: 'shadow', response_body: '{"label":"cat"}' }));
  batch.push(rec({ id: 'x2', role: 'production', response_body: 'oops' }), rec({ id: 'x2', role: 'shadow', response_body: '{"label":"cat","score":0.5}' }));
  batch.push(rec({ id: 'x3', role: 'production', response_body: '{"label":"cat","score":"0.5"}' }), rec({ id: 'x3', role: 'shadow', response_body: '{"label":"cat","score":0.5}' }));
  // Another route has no prediction rule.
  batch.push(rec({ id: 'o1', role: 'production', route: 'other', response_body: '{"label":"cat","score":0.5}' }), rec({ id: 'o1', role: 'shadow', route: 'other', response_body: '{"label":"dog","score":0.1}' }));
  assert.equal((await post(c.url, batch)).json.accepted, batch.length);

  const s = await stats(c.url);
  assert.equal('prediction' in s.routes.other, false);
  assert.equal('prediction' in s.total, false);
  const p = s.routes.predict.prediction;
  assert.equal(p.pairs, 120);
  assert.equal(p.label_agreement, agree / 120);
  assert.deepEqual(p.confusion, expectedConfusion);
  const deltas = prodScores.map((v, i) => Math.abs(shadowScores[i]! - v));
  assert.ok(Math.abs(p.score_delta.mean_abs - deltas.reduce((x, y) => x + y, 0) / 120) < 1e-12);
  assert.equal(p.score_delta.max_abs, Math.max(...deltas));
  const sortedD = [...deltas].sort((x, y) => x - y);
  const p95 = sortedD[Math.floor(0.95 * (sortedD.length - 1))]!;
  assert.ok(Math.abs(p.score_delta.p95_abs - p95) <= 0.01 * p95 + 1e-9, `p95 ${p.score_delta.p95_abs} vs ${p95}`);
  assert.ok(Math.abs(p.ks - bruteKs(prodScores, shadowScores)) < 1e-12);
  assert.ok(Math.abs(p.psi - brutePsi(prodScores, shadowScores)) < 1e-9);
  assert.equal(p.feedback, null);
  assert.deepEqual((await stats(c.url, 'predict')).total.prediction, p);

  await c.kill9();
  const again = await startCollector(args, t);
  assert.deepEqual(await stats(again.url), s);
  assert.equal((await get(again.url, '/v1/pairs/m3')).json.match, true);
  assert.equal(await again.stop(), 0);
});
