// GET /v1/stats: every field of S, quantiles within 1%, errors, fields order.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { post, rec, startCollector, stats, tempDir } from './helpers.js';

const S_KEYS = [
  'production', 'shadow', 'baseline', 'pairs', 'pending', 'unmatched_production', 'unmatched_shadow', 'late',
  'status_match', 'body_match', 'match_rate', 'production_errors', 'shadow_errors', 'latency_ms', 'fields',
];

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

test('stats: fields of S, quantiles, errors, fields order, route filter', async (t) => {
  const dir = tempDir(t);
  const c = await startCollector(['--db', join(dir, 'c.db')], t);

  const empty = await stats(c.url);
  assert.deepEqual(empty.routes, {});
  for (const k of S_KEYS) assert.ok(k in empty.total, `total lacks ${k}`);
  assert.equal(empty.total.match_rate, null);
  assert.deepEqual(empty.total.latency_ms.production, { p50: null, p95: null, p99: null });

  // Latencies spread over three decades, in a shuffled order.
  const prodLat: number[] = [];
  const shadowLat: number[] = [];
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const batch = [];
  for (let i = 0; i < 2000; i++) {
    const p = Math.round(1000 * Math.exp(rnd() * 7)) / 1000; // 1 … 1100 ms
    const s = p * 1.3 + rnd();
    prodLat.push(p);
    shadowLat.push(s);
    const status = i % 100 === 0 ? 0 : i % 50 === 0 ? 503 : i % 25 === 0 ? 499 : 200;
    const sStatus = i % 40 === 0 ? 500 : 200;
    const route = i % 4 === 0 ? 'b' : 'a';
    const body = JSON.stringify({ score: i % 3 === 0 ? 1 : 0, label: 'x', n: i % 7 === 0 ? 1 : 0 });
    const sBody = JSON.stringify({ score: 0, label: 'x', n: 0 });
    batch.push(rec({ id: `s${i}`, role: 'production', route, status, latency_ms: p, response_body: body }));
    batch.push(rec({ id: `s${i}`, role: 'shadow', route, status: sStatus, latency_ms: s, response_body: sBody }));
  }
  for (let i = 0; i < batch.length; i += 500) assert.equal((await post(c.url, batch.slice(i, i + 500))).json.accepted, 500);

  const all = await stats(c.url);
  assert.deepEqual(Object.keys(all.routes), ['a', 'b']);
  const tot = all.total;
  for (const k of S_KEYS) assert.ok(k in tot, `total lacks ${k}`);
  for (const k of S_KEYS) assert.ok(k in all.routes.a, `route a lacks ${k}`);
  assert.equal(tot.production, 2000);
  assert.equal(tot.shadow, 2000);
  assert.equal(tot.pairs, 2000);
  assert.equal(tot.production_errors, 20 + 20); // status 0 every 100, 503 every 50 but not 100
  assert.equal(tot.shadow_errors, 50);
  assert.equal(all.routes.a.pairs + all.routes.b.pairs, 2000);
  assert.equal(all.routes.a.production_errors + all.routes.b.production_errors, tot.production_errors);

  let statusMatch = 0;
  let match = 0;
  for (let i = 0; i < 2000; i++) {
    const status = i % 100 === 0 ? 0 : i % 50 === 0 ? 503 : i % 25 === 0 ? 499 : 200;
    const sm = status === (i % 40 === 0 ? 500 : 200);
    if (sm) statusMatch++;
    if (sm && i % 3 !== 0 && i % 7 !== 0) match++;
  }
  assert.equal(tot.status_match, statusMatch);
  assert.equal(tot.match_rate, match / 2000);

  // score differs in a third of the pairs, n in a seventh: most first.
  assert.deepEqual(tot.fields.map((f: { path: string }) => f.path), ['/score', '/n']);
  assert.equal(tot.fields[0].diffs, 667);
  assert.equal(tot.fields[1].diffs, 286);

  for (const [name, values] of [['production', prodLat], ['shadow', shadowLat]] as const) {
    const sorted = [...values].sort((x, y) => x - y);
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = exactQuantile(sorted, q);
      const est = tot.latency_ms[name][`p${Math.round(q * 100)}`];
      assert.ok(Math.abs(est - exact) <= 0.01 * exact + 0.001, `${name} p${q * 100}: ${est} vs exact ${exact}`);
    }
  }

  const onlyB = await stats(c.url, 'b');
  assert.deepEqual(Object.keys(onlyB.routes), ['b']);
  assert.deepEqual(onlyB.total, onlyB.routes.b);
  assert.equal(onlyB.total.pairs, 500);
  assert.equal((await stats(c.url, 'unknown')).total.pairs, 0);
  assert.equal(await c.stop(), 0);
});
