// Nothing is lost across a crash: kill -9, start again on the same file.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually, get, post, rec, startCollector, stats, tempDir } from './helpers.js';

test('kill -9 with pending sides: same stats after restart, pending sides still join', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'c.db');
  const args = ['--db', db, '--join-window-ms', '600000', '--max-pending', '3'];
  const first = await startCollector(args, t);
  const batch = [];
  for (let i = 0; i < 20; i++) {
    const route = i % 2 ? 'a' : 'b';
    batch.push(rec({ id: `k${i}`, role: 'production', route, latency_ms: 5 + i, status: i === 3 ? 503 : 200, response_body: JSON.stringify({ s: i % 4, t: 'x' }) }));
    batch.push(rec({ id: `k${i}`, role: 'shadow', route, latency_ms: 7 + i * 1.5, response_body: JSON.stringify({ s: i % 5, t: 'x' }) }));
  }
  for (let i = 0; i < 6; i++) batch.push(rec({ id: `pend${i}`, role: i % 2 ? 'shadow' : 'production', route: 'a', latency_ms: 100 + i }));
  batch.push(rec({ id: 'base', role: 'baseline', route: 'a', status: 0 }));
  assert.equal((await post(first.url, batch)).json.accepted, 47);
  const before = await stats(first.url);
  assert.equal(before.total.pending, 6);
  assert.equal(before.total.pairs, 20);
  assert.ok(before.total.fields.length > 0);
  const pairBefore = await get(first.url, '/v1/pairs/k7');
  await first.kill9();

  const second = await startCollector(args, t);
  const after = await stats(second.url);
  assert.deepEqual(after, before);
  assert.deepEqual((await get(second.url, '/v1/pairs/k7')).json, pairBefore.json);

  const partners = [];
  for (let i = 0; i < 6; i++) partners.push(rec({ id: `pend${i}`, role: i % 2 ? 'production' : 'shadow', route: 'a' }));
  assert.equal((await post(second.url, partners)).json.accepted, 6);
  const joined = (await stats(second.url)).total;
  assert.equal(joined.pairs, 26);
  assert.equal(joined.pending, 0);
  assert.equal(joined.late, 0);
  assert.equal(joined.unmatched_production + joined.unmatched_shadow, 0);

  // A clean stop checkpoints the WAL into the database file.
  assert.equal(await second.stop(), 0);
  assert.ok(!existsSync(db + '-wal') || statSync(db + '-wal').size === 0);
  const third = await startCollector(args, t);
  assert.equal((await stats(third.url)).total.pairs, 26);
  assert.equal(await third.stop(), 0);
});

test('sides whose window ended while the collector was down are unmatched, then join late', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'c.db');
  const first = await startCollector(['--db', db, '--join-window-ms', '300'], t);
  await post(first.url, [rec({ id: 'w1', role: 'production' }), rec({ id: 'w2', role: 'shadow' })]);
  await first.kill9();
  const second = await startCollector(['--db', db, '--join-window-ms', '300'], t);
  const s = await eventually(() => stats(second.url), (x) => x.total.pending === 0);
  assert.equal(s.total.unmatched_production, 1);
  assert.equal(s.total.unmatched_shadow, 1);
  await post(second.url, [rec({ id: 'w1', role: 'shadow' })]);
  const s2 = (await stats(second.url)).total;
  assert.equal(s2.late, 1);
  assert.equal(s2.unmatched_production, 0);
  assert.equal(s2.unmatched_shadow, 1);
  assert.equal(await second.stop(), 0);
});
