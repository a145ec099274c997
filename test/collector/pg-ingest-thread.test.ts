// The prepare thread on PostgreSQL (real server, real collector processes): without it
// (--ingest-thread off) every answer and read is the same byte for byte, and when it
// dies the bodies it held are prepared again on the main thread and committed once.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually, get, post, ROOT, rec, startCollector } from './helpers.js';
import { sameAnswers } from './ingest-thread-bodies.js';
import { stats } from './pg-helpers.js';
import { pgClusterPerFile, pgSkip } from '../support/pg-test-cluster.js';

const cluster = pgClusterPerFile();

const series = async (url: string, name: string): Promise<number> => {
  const line = (await (await fetch(`${url}/metrics`)).text()).split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.slice(name.length + 1));
};

test('PostgreSQL: --ingest-thread off gives the same answers, stats and pairs as the prepare thread', { skip: pgSkip, timeout: 180_000 }, async (t) => {
  const config = join(ROOT, 'examples', 'rules.yaml');
  const [onDb, offDb] = [await cluster().createDatabase('thread_on'), await cluster().createDatabase('thread_off')];
  const [on, off] = await Promise.all([
    startCollector(['--db', onDb, '--config', config], t),
    startCollector(['--db', offDb, '--config', config, '--ingest-thread', 'off'], t),
  ]);
  await sameAnswers(on.url, off.url);
  assert.equal(await series(on.url, 'shadowmesh_ingest_prepared_bodies_total{where="thread"}'), 5);
  assert.equal(await series(off.url, 'shadowmesh_ingest_prepared_bodies_total{where="main_thread"}'), 5);
});

test('PostgreSQL: bodies in flight on a prepare thread that exits are answered and committed once', { skip: pgSkip, timeout: 180_000 }, async (t) => {
  const c = await startCollector(['--db', await cluster().createDatabase('thread_crash')], t, { SHADOWMESH_TEST_PREPARE_CRASH: 'marker' });
  const ids = Array.from({ length: 6 }, (_, i) => `pg${i}`);
  assert.equal((await post(c.url, ids.map((id) => rec({ id, role: 'production' })))).json.accepted, 6);
  const bodies = [0, 1, 2].map((b) => [rec({ id: ids[b * 2]!, role: 'shadow' }), rec({ id: ids[b * 2 + 1]!, role: 'shadow', status: 500 })]);
  bodies.forEach((b, i) => b.push(rec({ id: i < 2 ? `shadowmesh-test-crash:hold-${i}` : 'shadowmesh-test-crash:exit', role: 'baseline' })));
  const held = bodies.slice(0, 2).map((b) => post(c.url, b));
  await eventually(() => series(c.url, 'shadowmesh_ingest_thread_in_flight'), (n) => n === 2, 30_000);
  const answers = await Promise.all([...held, post(c.url, bodies[2])]);
  for (const a of answers) assert.deepEqual(a.json, { accepted: 3, rejected: 0, errors: [] });
  assert.equal(await series(c.url, 'shadowmesh_ingest_thread_losses_total{cause="exit"}'), 1);
  assert.equal(await series(c.url, 'shadowmesh_ingest_prepared_bodies_total{where="main_thread"}'), 3);

  // A sender's retry of a committed batch stores nothing twice (without the marker,
  // which a new thread would hold).
  assert.equal((await post(c.url, bodies[0]!.slice(0, 2))).json.accepted, 2);
  const s = (await stats(c.url, 'predict')).routes.predict;
  assert.equal(s.pairs, 6);
  assert.equal(s.match, 3);
  assert.equal(s.baseline, 3);
  for (const id of ids) assert.equal((await get(c.url, `/v1/pairs/${id}`)).json.shadow.id, id);
  await eventually(() => series(c.url, 'shadowmesh_ingest_thread_up'), (n) => n === 1, 30_000);
  assert.equal((await post(c.url, [rec({ id: 'later', role: 'production' })])).json.accepted, 1);
  // The retry went to the main thread or to the new thread, as the restart was done or not.
  const onThread = await series(c.url, 'shadowmesh_ingest_prepared_bodies_total{where="thread"}');
  const onMain = await series(c.url, 'shadowmesh_ingest_prepared_bodies_total{where="main_thread"}');
  assert.ok(onThread >= 2 && onMain >= 3, `${onThread} on the thread, ${onMain} on the main thread`);
  assert.equal(onThread + onMain, 6, 'every body prepared exactly once');
});

test('PostgreSQL: bodies in flight on a prepare thread that hangs are answered and committed once after --ingest-thread-timeout-ms', { skip: pgSkip, timeout: 180_000 }, async (t) => {
  const c = await startCollector(['--db', await cluster().createDatabase('thread_hang'), '--ingest-thread-timeout-ms', '1000'], t, { SHADOWMESH_TEST_PREPARE_CRASH: 'marker' });
  const ids = Array.from({ length: 6 }, (_, i) => `hg${i}`);
  assert.equal((await post(c.url, ids.map((id) => rec({ id, role: 'production' })))).json.accepted, 6);
  const bodies = [0, 1, 2].map((b) => [rec({ id: ids[b * 2]!, role: 'shadow' }), rec({ id: ids[b * 2 + 1]!, role: 'shadow', status: 500 })]);
  // The first body makes the thread spin; the two others queue up behind it.
  bodies[0]!.push(rec({ id: 'shadowmesh-test-crash:spin', role: 'baseline' }));
  const spinning = post(c.url, bodies[0]);
  await eventually(() => series(c.url, 'shadowmesh_ingest_thread_in_flight'), (n) => n === 1, 30_000);
  const answers = await Promise.all([spinning, post(c.url, bodies[1]), post(c.url, bodies[2])]);
  answers.forEach((a, b) => assert.deepEqual(a.json, { accepted: b === 0 ? 3 : 2, rejected: 0, errors: [] }, `body ${b}`));
  assert.equal(await series(c.url, 'shadowmesh_ingest_thread_losses_total{cause="hung"}'), 1);
  const s = (await stats(c.url, 'predict')).routes.predict;
  assert.equal(s.pairs, 6);
  assert.equal(s.match, 3);
  assert.equal(s.baseline, 1);
  for (const id of ids) assert.equal((await get(c.url, `/v1/pairs/${id}`)).json.shadow.id, id);
  await eventually(() => series(c.url, 'shadowmesh_ingest_thread_up'), (n) => n === 1, 30_000);
  const before = await series(c.url, 'shadowmesh_ingest_prepared_bodies_total{where="thread"}');
  assert.equal((await post(c.url, [rec({ id: 'later', role: 'production' })])).json.accepted, 1);
  const onThread = await series(c.url, 'shadowmesh_ingest_prepared_bodies_total{where="thread"}');
  const onMain = await series(c.url, 'shadowmesh_ingest_prepared_bodies_total{where="main_thread"}');
  assert.equal(onThread, before + 1, 'the later body went through the restarted thread');
  assert.equal(onThread + onMain, 5, 'every body prepared exactly once');
});
