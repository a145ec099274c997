// The prepare thread dying under load (a real collector process, a real SQLite file):
// bodies it held are prepared again on the main thread and answered as they would have
// been, each loss is one error line and a count in /metrics, a new thread takes over,
// and a thread that dies at every start leads, after a bounded number of tries, to the
// main thread for good; a thread that hangs without ending is terminated by the
// watchdog and counts as lost the same way. The thread dies (or spins) on demand
// through the test-only SHADOWMESH_TEST_PREPARE_CRASH variable (src/collector/ingest/prepare-test-crash.ts).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually, get, post, rec, startCollector, stats, tempDir } from '../collector/helpers.js';

interface LogLine { level: number; msg: string; [k: string]: unknown }
const lines = (stderr: string): LogLine[] =>
  stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);

async function metrics(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

/** The value of one series (name with its labels as printed), or NaN when absent. */
function series(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.slice(name.length + 1));
}

const CONTENT = 'record-content-7c2e';
const prod = (id: string): Record<string, unknown> => rec({ id, role: 'production', response_body: `{"label":"rain","c":"${CONTENT}"}` });
const shad = (id: string, label = 'rain'): Record<string, unknown> => rec({ id, role: 'shadow', response_body: `{"label":"${label}","c":"${CONTENT}"}` });

test('faults: the prepare thread dies (exit, uncaught error, out of heap) with bodies in flight; each is answered once, committed once', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  const c = await startCollector(['--db', join(dir, 'c.db')], t, { SHADOWMESH_TEST_PREPARE_CRASH: 'marker' });

  // Lone production sides the thread keeps for early comparison; their partners come
  // in the bodies that are in flight when it dies.
  const ids = Array.from({ length: 30 }, (_, i) => `f${i}`);
  const first = await post(c.url, ids.map(prod));
  assert.equal(first.status, 200);
  assert.equal(first.json.accepted, 30);

  let posted = 1;
  const hows = ['exit', 'throw', 'oom'] as const;
  for (const [k, how] of hows.entries()) {
    // Ten ids per round: their shadows (half of them mismatching) in five bodies. The
    // thread holds the first four unanswered (test marker `hold`), so they are surely in
    // flight on it when the fifth, with the marker of this round's way to die, kills it.
    const round = ids.slice(k * 10, k * 10 + 10);
    const bodies = [0, 1, 2, 3, 4].map((b) => round.slice(b * 2, b * 2 + 2).map((id, j) => shad(id, j === 0 ? 'rain' : 'sun')));
    bodies.forEach((b, i) => b.push(prod(i < 4 ? `shadowmesh-test-crash:hold-${how}-${i}` : `shadowmesh-test-crash:${how}`)));
    const held = bodies.slice(0, 4).map((b) => post(c.url, b));
    await eventually(() => metrics(c.url), (text) => series(text, 'shadowmesh_ingest_thread_in_flight') === 4, 30_000);
    const answers = await Promise.all([...held, post(c.url, bodies[4])]);
    posted += bodies.length;
    answers.forEach((a, b) => {
      assert.equal(a.status, 200, `${how}, body ${b}: ${JSON.stringify(a.json)}`);
      assert.deepEqual(a.json, { accepted: 3, rejected: 0, errors: [] }, `${how}, body ${b}`);
    });
    // A new thread takes over, and ingestion goes on with it.
    const m = await eventually(() => metrics(c.url), (text) => series(text, 'shadowmesh_ingest_thread_restarts_total') === k + 1 && series(text, 'shadowmesh_ingest_thread_up') === 1, 30_000);
    assert.equal(series(m, 'shadowmesh_ingest_thread_restarts_total'), k + 1, m);
    const after = await post(c.url, [rec({ id: `after-${how}`, role: 'baseline' })]);
    posted++;
    assert.equal(after.json.accepted, 1);
  }

  // A sender that did not see its answer sends the batch again: nothing is stored twice.
  const again = await post(c.url, ids.slice(0, 4).map((id, j) => shad(id, j % 2 === 0 ? 'rain' : 'sun')));
  posted++;
  assert.equal(again.status, 200);
  assert.equal(again.json.accepted, 4);

  const s = (await stats(c.url, 'predict')).routes.predict;
  assert.equal(s.production, 45, 'the 30 sides and the 15 marker records');
  assert.equal(s.shadow, 30);
  assert.equal(s.baseline, 3);
  assert.equal(s.pairs, 30);
  assert.equal(s.match, 15, 'every other shadow says sun');
  for (const id of ids) {
    const p = await get(c.url, `/v1/pairs/${id}`);
    assert.equal(p.status, 200, id);
    assert.equal(p.json.production.id, id);
    assert.equal(p.json.shadow.id, id);
    assert.equal(p.json.match, p.json.shadow.response_body.includes('rain'), id);
  }
  for (const how of hows) {
    assert.equal((await get(c.url, `/v1/pairs/shadowmesh-test-crash:${how}`)).json.production.role, 'production');
    assert.equal((await get(c.url, `/v1/pairs/shadowmesh-test-crash:hold-${how}-3`)).json.production.role, 'production');
  }

  const m = await metrics(c.url);
  assert.equal(series(m, 'shadowmesh_ingest_thread_losses_total{cause="exit"}'), 1);
  assert.equal(series(m, 'shadowmesh_ingest_thread_losses_total{cause="uncaught_error"}'), 1);
  assert.equal(series(m, 'shadowmesh_ingest_thread_losses_total{cause="out_of_memory"}'), 1);
  assert.equal(series(m, 'shadowmesh_ingest_thread_losses_total{cause="not_created"}'), 0);
  const onThread = series(m, 'shadowmesh_ingest_prepared_bodies_total{where="thread"}');
  const onMain = series(m, 'shadowmesh_ingest_prepared_bodies_total{where="main_thread"}');
  assert.equal(onThread + onMain, posted, 'every body prepared exactly once');

  assert.equal(await c.stop('SIGTERM'), 0);
  const lost = lines(c.stderr()).filter((l) => l.msg === 'prepare thread lost');
  assert.deepEqual(lost.map((l) => l.cause), ['exit', 'uncaught_error', 'out_of_memory']);
  for (const l of lost) {
    assert.equal(l.level, 50);
    assert.equal(l.was_ready, true);
    assert.match(String(l.next), /^new thread in \d+ ms$/);
    assert.equal(l.bodies_rerun_on_main_thread, 5, 'the four held and the one that killed it');
  }
  assert.equal(lost[0]!.exit_code, 7);
  assert.match(JSON.stringify(lost[1]!.err), /test crash of the prepare thread/);
  assert.equal(onMain, 15, 'the re-run bodies, and no others');
  assert.doesNotMatch(c.stderr(), new RegExp(CONTENT), 'no record contents in the log');
});

test('faults: a prepare thread that hangs (a busy loop) with bodies in flight is terminated after --ingest-thread-timeout-ms; each body is answered once, committed once', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  const c = await startCollector(['--db', join(dir, 'c.db'), '--ingest-thread-timeout-ms', '1000'], t, { SHADOWMESH_TEST_PREPARE_CRASH: 'marker' });
  const ids = Array.from({ length: 10 }, (_, i) => `h${i}`);
  const first = await post(c.url, ids.map(prod));
  assert.deepEqual(first.json, { accepted: 10, rejected: 0, errors: [] });

  // The first body makes the thread spin; once it holds it, four ordinary ones queue up
  // behind it. Shadows of two ids each, every other one mismatching.
  const bodies = [0, 1, 2, 3, 4].map((b) => ids.slice(b * 2, b * 2 + 2).map((id, j) => shad(id, j === 0 ? 'rain' : 'sun')));
  bodies[0]!.push(prod('shadowmesh-test-crash:spin'));
  const spinning = post(c.url, bodies[0]!);
  await eventually(() => metrics(c.url), (text) => series(text, 'shadowmesh_ingest_thread_in_flight') === 1, 30_000);
  const answers = await Promise.all([spinning, ...bodies.slice(1).map((b) => post(c.url, b))]);
  answers.forEach((a, b) => {
    assert.equal(a.status, 200, `body ${b}: ${JSON.stringify(a.json)}`);
    assert.deepEqual(a.json, { accepted: b === 0 ? 3 : 2, rejected: 0, errors: [] }, `body ${b}`);
  });
  let posted = 1 + bodies.length;

  // A new thread takes over; later bodies are prepared on it.
  const m1 = await eventually(() => metrics(c.url), (text) => series(text, 'shadowmesh_ingest_thread_restarts_total') === 1 && series(text, 'shadowmesh_ingest_thread_up') === 1, 30_000);
  assert.equal(series(m1, 'shadowmesh_ingest_thread_up'), 1, m1);
  const onThreadBefore = series(m1, 'shadowmesh_ingest_prepared_bodies_total{where="thread"}');
  for (let i = 0; i < 2; i++) {
    const later = await post(c.url, [prod(`later${i}`), shad(`later${i}`)]);
    assert.deepEqual(later.json, { accepted: 2, rejected: 0, errors: [] });
    posted++;
  }

  const s = (await stats(c.url, 'predict')).routes.predict;
  assert.equal(s.production, 13, 'the 10 sides, the marker record and the 2 later ones');
  assert.equal(s.shadow, 12);
  assert.equal(s.pairs, 12);
  assert.equal(s.match, 7, 'every other shadow of the batches in flight says sun');
  for (const id of ids) {
    const p = await get(c.url, `/v1/pairs/${id}`);
    assert.equal(p.status, 200, id);
    assert.equal(p.json.shadow.id, id);
    assert.equal(p.json.match, p.json.shadow.response_body.includes('rain'), id);
  }
  assert.equal((await get(c.url, '/v1/pairs/shadowmesh-test-crash:spin')).json.production.role, 'production');

  const m = await metrics(c.url);
  assert.equal(series(m, 'shadowmesh_ingest_thread_losses_total{cause="hung"}'), 1, m);
  for (const cause of ['exit', 'uncaught_error', 'out_of_memory', 'not_created']) {
    assert.equal(series(m, `shadowmesh_ingest_thread_losses_total{cause="${cause}"}`), 0, cause);
  }
  const onThread = series(m, 'shadowmesh_ingest_prepared_bodies_total{where="thread"}');
  const onMain = series(m, 'shadowmesh_ingest_prepared_bodies_total{where="main_thread"}');
  assert.equal(onThread, onThreadBefore + 2, 'the later bodies went through the restarted thread');
  assert.equal(onThread + onMain, posted, 'every body prepared exactly once: no late answer of the hung thread applied');

  assert.equal(await c.stop('SIGTERM'), 0);
  const lost = lines(c.stderr()).filter((l) => l.msg === 'prepare thread lost');
  assert.equal(lost.length, 1, c.stderr());
  const l = lost[0]!;
  assert.equal(l.level, 50);
  assert.equal(l.cause, 'hung');
  assert.equal(l.was_ready, true);
  assert.equal(l.exit_code, null);
  assert.match(String(l.problem), /^the prepare thread owed an answer for \d+ ms \(bound 1000 ms\)$/);
  assert.match(String(l.next), /^new thread in \d+ ms$/);
  // The spinning body at least; the ordinary ones as far as they had reached the thread
  // before the bound passed (a body arriving after that goes to the main thread directly).
  const rerun = Number(l.bodies_rerun_on_main_thread);
  t.diagnostic(`${rerun} bodies re-run on the main thread, ${onMain} prepared there in all`);
  assert.ok(rerun >= 1 && rerun <= 5 && onMain >= rerun, `${rerun} re-run, ${onMain} on the main thread`);
  assert.doesNotMatch(c.stderr(), new RegExp(CONTENT), 'no record contents in the log');
});

test('faults: a prepare thread that dies at every start is tried a bounded number of times, then the main thread prepares every body', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  const c = await startCollector(['--db', join(dir, 'c.db')], t, { SHADOWMESH_TEST_PREPARE_CRASH: 'start:exit' });
  const first = await post(c.url, [prod('s0'), shad('s0')]);
  assert.equal(first.status, 200);
  assert.equal(first.json.accepted, 2);

  // Given up once the fifth thread in a row died before it was ready.
  const gaveUp = async (): Promise<boolean> => lines(c.stderr()).some((l) => l.msg === 'prepare thread lost' && l.next === 'main thread from now on');
  assert.equal(await eventually(gaveUp, (v) => v, 60_000), true, c.stderr());
  for (let i = 1; i <= 5; i++) {
    const a = await post(c.url, [prod(`s${i}`), shad(`s${i}`, 'sun')]);
    assert.equal(a.json.accepted, 2);
  }

  const m = await metrics(c.url);
  assert.equal(series(m, 'shadowmesh_ingest_thread_losses_total{cause="exit"}'), 5, m);
  assert.equal(series(m, 'shadowmesh_ingest_thread_restarts_total'), 4);
  assert.equal(series(m, 'shadowmesh_ingest_thread_up'), 0);
  assert.equal(series(m, 'shadowmesh_ingest_prepared_bodies_total{where="thread"}'), 0);
  assert.equal(series(m, 'shadowmesh_ingest_prepared_bodies_total{where="main_thread"}'), 6);
  const s = (await stats(c.url, 'predict')).routes.predict;
  assert.equal(s.pairs, 6);
  assert.equal(s.match, 1);

  assert.equal(await c.stop('SIGTERM'), 0);
  const lost = lines(c.stderr()).filter((l) => l.msg === 'prepare thread lost');
  assert.equal(lost.length, 5, 'no thread started after giving up');
  assert.deepEqual(lost.map((l) => l.short_lived_in_a_row), [1, 2, 3, 4, 5]);
  assert.ok(lost.every((l) => l.was_ready === false && l.exit_code === 7));
  // The pause doubles: a thread that dies at once does not spin.
  assert.deepEqual(lost.map((l) => l.next), ['new thread in 100 ms', 'new thread in 200 ms', 'new thread in 400 ms', 'new thread in 800 ms', 'main thread from now on']);
});

test('faults: when no prepare thread can be created, the main thread prepares every body at once, without retrying', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  const c = await startCollector(['--db', join(dir, 'c.db')], t, { SHADOWMESH_TEST_PREPARE_CRASH: 'create' });
  for (let i = 0; i < 3; i++) {
    const a = await post(c.url, [prod(`c${i}`), shad(`c${i}`)]);
    assert.deepEqual(a.json, { accepted: 2, rejected: 0, errors: [] });
  }
  const m = await metrics(c.url);
  assert.equal(series(m, 'shadowmesh_ingest_thread_losses_total{cause="not_created"}'), 1);
  assert.equal(series(m, 'shadowmesh_ingest_thread_restarts_total'), 0);
  assert.equal(series(m, 'shadowmesh_ingest_thread_up'), 0);
  assert.equal(series(m, 'shadowmesh_ingest_prepared_bodies_total{where="main_thread"}'), 3);
  assert.equal((await stats(c.url, 'predict')).routes.predict.match, 3);
  assert.equal(await c.stop('SIGTERM'), 0);
  const lost = lines(c.stderr()).filter((l) => l.msg === 'prepare thread lost');
  assert.equal(lost.length, 1);
  assert.equal(lost[0]!.cause, 'not_created');
  assert.equal(lost[0]!.next, 'main thread from now on');
  assert.match(JSON.stringify(lost[0]!.err), /cannot be created/);
});

test('faults: an unknown SHADOWMESH_TEST_PREPARE_CRASH stops the collector at start, naming the variable', { timeout: 180_000 }, async (t) => {
  await assert.rejects(startCollector(['--db', ':memory:'], t, { SHADOWMESH_TEST_PREPARE_CRASH: 'sometimes' }), /SHADOWMESH_TEST_PREPARE_CRASH=sometimes/);
});
