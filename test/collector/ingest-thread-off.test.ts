// --ingest-thread off prepares every body on the main thread: two real collectors, one
// with the prepare thread and one without, get the same bodies in the same order and
// must answer every POST and every read byte for byte the same.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, startCollector, tempDir } from './helpers.js';
import { sameAnswers, text } from './ingest-thread-bodies.js';

test('collector: --ingest-thread off gives the same answers, stats and pairs as the prepare thread', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  const config = join(ROOT, 'examples', 'rules.yaml');
  const [on, off] = await Promise.all([
    startCollector(['--db', join(dir, 'on.db'), '--config', config], t),
    startCollector(['--db', join(dir, 'off.db'), '--config', config, '--ingest-thread', 'off'], t),
  ]);

  await sameAnswers(on.url, off.url);

  const onMetrics = await text(`${on.url}/metrics`);
  const offMetrics = await text(`${off.url}/metrics`);
  assert.match(onMetrics, /^shadowmesh_ingest_prepared_bodies_total\{where="thread"\} 5$/m);
  assert.match(offMetrics, /^shadowmesh_ingest_prepared_bodies_total\{where="main_thread"\} 5$/m);
  assert.match(offMetrics, /^shadowmesh_ingest_prepared_bodies_total\{where="thread"\} 0$/m);
  assert.match(offMetrics, /^shadowmesh_ingest_thread_up 0$/m);
  assert.match(onMetrics, /^shadowmesh_ingest_thread_up 1$/m);
  for (const m of [onMetrics, offMetrics]) assert.match(m, /^shadowmesh_ingest_rejected_records_total\{reason="invalid"\} 5$/m);
});

test('collector: --ingest-thread takes on or off only', { timeout: 180_000 }, async (t) => {
  await assert.rejects(startCollector(['--db', ':memory:', '--ingest-thread', 'maybe'], t), /--ingest-thread.*maybe|maybe.*--ingest-thread/s);
});
