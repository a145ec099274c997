// /healthz's memory report, and what --sync full changes (SQLite's synchronous mode).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Repository } from '../../src/collector/store/repository.js';
import { get, post, rec, startCollector, tempDir } from './helpers.js';

test('/healthz reports join state and the process memory in MiB (one decimal)', async (t) => {
  const dir = tempDir(t);
  const c = await startCollector(['--db', join(dir, 'c.db')], t);
  await post(c.url, [rec({ id: 'h1', role: 'production' })]);
  const h = await get(c.url, '/healthz');
  assert.equal(h.status, 200);
  assert.equal(h.json.status, 'ok');
  assert.deepEqual(h.json.join, { cachedPending: 1, windowBuckets: 1, lone: 1 });
  const m = h.json.memory_mib as Record<string, number>;
  assert.deepEqual(Object.keys(m).sort(), ['external', 'heap_used', 'rss']);
  for (const [k, v] of Object.entries(m)) {
    assert.equal(typeof v, 'number', k);
    assert.equal(Math.round(v * 10) / 10, v, `${k} has one decimal`);
  }
  // A Node process with Fastify and SQLite loaded: tens of MiB, heap inside rss.
  assert.ok(m.rss! >= 10 && m.rss! < 4096, `rss ${m.rss}`);
  assert.ok(m.heap_used! > 1 && m.heap_used! <= m.rss!, `heap_used ${m.heap_used}`);
  assert.ok(m.external! >= 0);
  assert.equal(await c.stop(), 0);
});

test('--sync full sets SQLite synchronous=FULL; the default is NORMAL', async (t) => {
  const dir = tempDir(t);
  const full = new Repository(join(dir, 'full.db'), 'full');
  const normal = new Repository(join(dir, 'normal.db'));
  try {
    assert.equal(full.db.pragma('synchronous', { simple: true }), 2);
    assert.equal(normal.db.pragma('synchronous', { simple: true }), 1);
  } finally {
    await full.close();
    await normal.close();
  }
  // The flag reaches the collector: it starts, stores and answers with it.
  const c = await startCollector(['--db', join(dir, 'cli.db'), '--sync', 'full'], t);
  assert.equal((await post(c.url, [rec({ id: 's1', role: 'production' })])).json.accepted, 1);
  assert.equal(await c.stop(), 0);
});
