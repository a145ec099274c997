// Two and three collector processes on one PostgreSQL database behind a round-robin
// balancer: the single-collector scenarios (out of order, duplicates, late partners,
// feedback before pairs, restart) with the sides spread over replicas, and every
// replica giving the same stats, pairs pages, verdict and /metrics.
// Skipped, with the reason, where PostgreSQL cannot be started.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startReplicas } from '../support/collector-replicas.js';
import { pgClusterPerFile, pgSkip } from '../support/pg-test-cluster.js';
import { feedback, writeConfig } from './decision-helpers.js';
import { get, post, rec } from './helpers.js';
import { agreed, allPairs, postOnce, sharedSeries, stats, statsEverywhere } from './pg-helpers.js';

const cluster = pgClusterPerFile();

const pair = (url: string, id: string) => get(url, `/v1/pairs/${id}`).then((r) => ({ status: r.status, json: r.json }));
const complete = (p: { status: number; json: any }) => p.status === 200 && p.json.production !== null && p.json.shadow !== null;

for (const count of [2, 3]) {
  test(`${count} replicas on one database: either side to any replica, in any order, the same answers from all`, { skip: pgSkip }, async (t) => {
    const db = await cluster().createDatabase(`replicas_${count}`);
    const r = await startReplicas(t, { count, db, args: ['--join-window-ms', '600000'] });
    const urls = r.urls();
    const [A, B] = [urls[0]!, urls[count - 1]!];

    await t.test('out of order: the shadow side to one replica, production to another, one pair', async () => {
      assert.equal((await post(B, [rec({ id: 'o1', role: 'shadow', route: 'order' })])).json.accepted, 1);
      let s = await statsEverywhere(urls, (x) => x.routes.order?.pending === 1, 'order');
      assert.equal(s.total.unmatched_shadow, 0);
      assert.equal(s.total.pairs, 0);
      assert.equal((await post(A, [rec({ id: 'o1', role: 'production', route: 'order' })])).json.accepted, 1);
      s = await statsEverywhere(urls, (x) => x.total.pairs === 1, 'order');
      assert.equal(s.total.pending, 0);
      assert.equal(s.total.late, 0);
      assert.equal(s.total.match_rate, 1);
      const p = await agreed(urls, (u) => pair(u, 'o1'), complete);
      assert.equal(p.json.match, true);
    });

    await t.test('both sides in one batch through the balancer: the pair belongs to the production side\'s route', async () => {
      const ans = await post(r.url, [rec({ id: 'o2', role: 'production', route: 'prod-route' }), rec({ id: 'o2', role: 'shadow', route: 'shadow-route', status: 500 })]);
      assert.equal(ans.json.accepted, 2);
      const s = await statsEverywhere(urls, (x) => x.routes['prod-route']?.pairs === 1);
      assert.equal(s.routes['prod-route'].production, 1);
      assert.equal(s.routes['shadow-route'].shadow, 1);
      assert.equal(s.routes['shadow-route'].pairs, 0);
      assert.equal(s.routes['shadow-route'].pending, 0);
      assert.equal(s.total.shadow_errors, 1, 'the only 500 so far');
      const p = await agreed(urls, (u) => pair(u, 'o2'), complete);
      assert.equal(p.json.route, 'prod-route');
      assert.equal(p.json.status_match, false);
    });

    await t.test('duplicates: the same sides sent to every replica at once are stored, counted and paired once', async () => {
      const sends = urls.flatMap((u) => [post(u, [rec({ id: 'd1', role: 'production', route: 'dup' })]), post(u, [rec({ id: 'd1', role: 'shadow', route: 'dup' })])]);
      for (const ans of await Promise.all(sends)) assert.equal(ans.json.accepted, 1, 'a repeat counts as accepted');
      // The first copy wins: a second copy with another status, acknowledged later elsewhere, changes nothing.
      await post(A, [rec({ id: 'd2', role: 'production', route: 'dup', status: 200 })]);
      await post(B, [rec({ id: 'd2', role: 'production', route: 'dup', status: 503 }), rec({ id: 'd2', role: 'shadow', route: 'dup' })]);
      const s = await statsEverywhere(urls, (x) => x.total.pairs === 2, 'dup');
      assert.equal(s.total.production, 2);
      assert.equal(s.total.shadow, 2);
      assert.equal(s.total.pending, 0);
      assert.equal(s.total.production_errors, 0);
      const d2 = await agreed(urls, (u) => pair(u, 'd2'), complete);
      assert.equal(d2.json.production.status, 200);
      const pages = await agreed(urls, (u) => allPairs(u, 'route=dup'));
      assert.deepEqual(pages.map((x) => x.id).sort(), ['d1', 'd2']);
    });

    await t.test('the balancer spreads batches over every replica; any replica pairs what another holds', async () => {
      const before = r.balancer.served();
      const batch = [];
      for (let i = 0; i < 4 * count; i++) batch.push(post(r.url, [rec({ id: `b${i}`, role: i % 2 ? 'shadow' : 'production', route: 'spread' })]));
      await Promise.all(batch);
      for (let i = 0; i < 4 * count; i++) batch.push(postOnce(r.url, '/v1/records', [rec({ id: `b${i}`, role: i % 2 ? 'production' : 'shadow', route: 'spread' })]));
      await Promise.all(batch);
      const served = r.balancer.served().map((n, i) => n - (before[i] ?? 0));
      assert.ok(served.every((n) => n >= 2), `every replica took batches: ${served.join(', ')}`);
      const s = await statsEverywhere(urls, (x) => x.total.pairs === 4 * count, 'spread');
      assert.equal(s.total.pending, 0);
      assert.equal(s.total.production, 4 * count);
    });

    await t.test('pairs pages, /metrics series and the verdict are the same on every replica', async () => {
      const pages = await agreed(urls, (u) => allPairs(u));
      assert.equal(pages.length, 1 + 1 + 2 + 4 * count);
      assert.equal(new Set(pages.map((p) => p.id)).size, pages.length);
      const mismatched = await agreed(urls, (u) => allPairs(u, 'mismatch=true'));
      assert.deepEqual(mismatched.map((p) => p.id), ['o2']);
      const series = await agreed(urls, sharedSeries, (x) => x.length > 0);
      assert.ok(series.some((l) => l.startsWith('shadowmesh_pairs_total[["route","spread"]]') && l.endsWith(` ${4 * count}`)), series.join('\n'));
      const verdict = await agreed(urls, (u) => get(u, '/v1/verdict').then((v) => ({ ...v.json, evaluated_at: undefined })));
      assert.equal(verdict.decision, 'hold');
    });

    await t.test('a replica started later knows everything the others do', async () => {
      const s = await statsEverywhere(urls, () => true);
      const pages = await agreed(urls, (u) => allPairs(u));
      const late = await r.add();
      assert.deepEqual(await stats(late.url), s);
      assert.deepEqual(await allPairs(late.url), pages);
      assert.deepEqual(await sharedSeries(late.url), await sharedSeries(A));
      // And it takes part at once: its side pairs with one another replica holds.
      await post(A, [rec({ id: 'late1', role: 'production', route: 'later' })]);
      await post(late.url, [rec({ id: 'late1', role: 'shadow', route: 'later' })]);
      const all = r.urls();
      assert.equal(all.length, count + 1);
      const joined = await statsEverywhere(all, (x) => x.total.pairs === 1, 'later');
      assert.equal(joined.total.pending, 0);
    });

    await t.test('SIGKILL of a replica with pending sides: the others answer the same, it comes back knowing them, they join anywhere', async () => {
      const sides = Array.from({ length: 6 }, (_, i) => rec({ id: `k${i}`, role: i % 2 ? 'shadow' : 'production', route: 'restart', latency_ms: 10 + i }));
      assert.equal((await post(A, sides)).json.accepted, 6);
      const s = await statsEverywhere(r.urls(), (x) => x.total.pending === 6, 'restart');
      await r.kill9(0);
      const others = r.urls().slice(1);
      assert.deepEqual(await statsEverywhere(others, () => true, 'restart'), s);
      const back = await r.restart(0);
      assert.deepEqual(await stats(back.url, 'restart'), s);
      const partners = Array.from({ length: 6 }, (_, i) => rec({ id: `k${i}`, role: i % 2 ? 'production' : 'shadow', route: 'restart' }));
      assert.equal((await post(others[0]!, partners.slice(0, 3))).json.accepted, 3);
      assert.equal((await post(back.url, partners.slice(3))).json.accepted, 3);
      const joined = await statsEverywhere(r.urls(), (x) => x.total.pairs === 6, 'restart');
      assert.equal(joined.total.pending, 0);
      assert.equal(joined.total.late, 0);
      assert.equal(joined.total.unmatched_production + joined.total.unmatched_shadow, 0);
    });

    assert.deepEqual(await r.stop(), r.replicas.map(() => 0), 'every replica stops cleanly on SIGTERM');
  });
}

test('join window across replicas: sides alone past the window are unmatched on every replica, then late partners arrive at another', { skip: pgSkip }, async (t) => {
  const db = await cluster().createDatabase('replicas_join_window');
  const r = await startReplicas(t, { count: 2, db, args: ['--join-window-ms', '300'] });
  const [A, B] = r.urls() as [string, string];
  await post(A, [rec({ id: 'l1', role: 'production' }), rec({ id: 'l2', role: 'shadow' }), rec({ id: 'l3', role: 'shadow' })]);
  const s1 = await statsEverywhere(r.urls(), (x) => x.total.pending === 0 && x.total.production === 1);
  assert.equal(s1.total.unmatched_production, 1);
  assert.equal(s1.total.unmatched_shadow, 2);
  assert.equal(s1.total.pairs, 0);
  assert.equal(s1.total.match_rate, null);

  await post(B, [rec({ id: 'l1', role: 'shadow' }), rec({ id: 'l2', role: 'production' })]);
  const s2 = await statsEverywhere(r.urls(), (x) => x.total.pairs === 2);
  assert.equal(s2.total.late, 2);
  assert.equal(s2.total.unmatched_production, 0);
  assert.equal(s2.total.unmatched_shadow, 1);
  const l1 = await agreed(r.urls(), (u) => pair(u, 'l1'), complete);
  assert.equal(l1.json.late, true);
  assert.deepEqual(await r.stop(), [0, 0]);
});

const body = (label: unknown) => JSON.stringify({ label, score: 0.5 });

test('feedback before and after its pairs, on different replicas: the same accuracy and McNemar test everywhere, across a SIGKILL', { skip: pgSkip }, async (t) => {
  const db = await cluster().createDatabase('replicas_feedback');
  const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-pg-feedback-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = writeConfig(dir, { routes: { predict: { prediction: { label: '/label' } } }, verdict: { confidence: 0.95, min_pairs: 5 } });
  const r = await startReplicas(t, { count: 2, db, args: ['--config', cfg, '--token', 'w', '--join-window-ms', '600000'] });
  const [A, B] = r.urls() as [string, string];

  // f0–f7: production right, shadow wrong (b = 8); f8 both right; f9 both wrong.
  const truth: [unknown, unknown, unknown][] = [];
  for (let i = 0; i < 8; i++) truth.push(['cat', 'dog', 'cat']);
  truth.push(['cat', 'cat', 'cat'], [1, 1, 2]);
  const labels = truth.map(([, , label], i) => ({ id: `f${i}`, label }));
  // Half the labels, and one for a pair that comes only after the restart, before any pair, to A.
  const early = await feedback(A, [...labels.slice(0, 5), { id: 'ghost', label: true }], { token: 'w' });
  assert.equal(early.status, 200);
  assert.equal(early.json.accepted, 6);
  // The pairs through the balancer, production and shadow in separate batches.
  for (const role of ['production', 'shadow'] as const) {
    const recs = truth.map(([p, s], i) => rec({ id: `f${i}`, role, response_body: body(role === 'production' ? p : s) }));
    assert.equal((await post(r.url, recs, { token: 'w' })).json.accepted, 10);
  }
  // The rest of the labels after the pairs, to B; a second label for f0 does not replace the first.
  const lateLabels = await feedback(B, [...labels.slice(5), { id: 'f0', label: 'dog' }], { token: 'w' });
  assert.equal(lateLabels.json.accepted, 6);

  const expected = {
    labelled: 10,
    production_accuracy: 0.9,
    shadow_accuracy: 0.1,
    mcnemar_p: 2 / 256,
    conclusion: 'shadow_worse',
    production_only_correct: 8,
    shadow_only_correct: 0,
  };
  const s = await statsEverywhere(r.urls(), (x) => x.routes.predict?.prediction?.feedback?.labelled === 10);
  assert.deepEqual(s.routes.predict.prediction.feedback, expected);
  const verdict = await agreed(r.urls(), (u) => get(u, '/v1/verdict?route=predict').then((v) => ({ ...v.json, evaluated_at: undefined })));
  assert.equal(verdict.decision, 'reject', 'the shadow is significantly worse on feedback');

  await r.kill9(1);
  const back = await r.restart(1);
  assert.deepEqual(await stats(back.url), s);
  await post(back.url, [rec({ id: 'ghost', role: 'production', response_body: body(true) })], { token: 'w' });
  await post(A, [rec({ id: 'ghost', role: 'shadow', response_body: body(false) })], { token: 'w' });
  const f = await statsEverywhere(r.urls(), (x) => x.total.prediction?.feedback?.labelled === 11, 'predict');
  assert.equal(f.total.prediction.feedback.production_only_correct, 9);
  assert.deepEqual(await r.stop(), [0, 0]);
});
