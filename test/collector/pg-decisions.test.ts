// The decision features with replicas sharing one PostgreSQL database (two or three
// collectors in this process, addressed directly): feedback posted to one counts on
// all, once even when posted to both at once or racing its pair; noise learned from
// baseline sides sent to either; a decision change alerts once in all; the remote
// control set through one is carried by the others' answers; a replica started
// later reports the same.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import pg from 'pg';
import { CollectorConfig, type CollectorConfigFile } from '../../src/collector/config.js';
import { openPgCollector, type PgCollector } from '../../src/collector/server.js';
import { pgClusterPerFile, pgSkip } from '../support/pg-test-cluster.js';
import { feedback, send } from './decision-helpers.js';
import { eventually, get, post, rec, stats } from './helpers.js';

const cluster = pgClusterPerFile();
let dbs = 0;

const CONFIG: CollectorConfigFile = {
  routes: { predict: { prediction: { label: '/label' } } },
  verdict: { min_pairs: 10, min_match_rate: 0.5 },
};

type Replica = { c: PgCollector; url: string };

async function replica(t: { after: (fn: () => Promise<void>) => void }, db: string, opts: { alertWebhooks?: string[] } = {}): Promise<Replica> {
  const c = await openPgCollector({ db, port: 0, config: new CollectorConfig(CONFIG), ...opts });
  t.after(() => c.close());
  return { c, url: await c.listen() };
}

async function sql<R extends object>(db: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

const side = (id: string, role: string, body: unknown): Record<string, unknown> => rec({ id, role, response_body: JSON.stringify(body) });
const ok = (r: { status: number; json: unknown }): void => assert.equal(r.status, 200, JSON.stringify(r.json));

test('feedback: labels before and after their pairs, through either replica, first label wins; both replicas count the same', { skip: pgSkip }, async (t) => {
  const db = await cluster().createDatabase(`pg_dec_${++dbs}`);
  const a = await replica(t, db);
  const b = await replica(t, db);
  const ids = Array.from({ length: 10 }, (_, i) => `f${i}`);
  // The first five labels arrive before any side, through B; the last five after the pairs, through A.
  ok(await feedback(b.url, ids.slice(0, 5).map((id) => ({ id, label: 'cat' }))));
  ok(await post(a.url, ids.map((id) => side(id, 'production', { label: 'cat' }))));
  ok(await post(b.url, ids.map((id, i) => side(id, 'shadow', { label: i < 3 ? 'dog' : 'cat' }))));
  const late = await feedback(a.url, [...ids.slice(5).map((id) => ({ id, label: 'cat' })), { id: 'f5', label: 'dog' }, { id: 'bad id!', label: 1 }]);
  assert.deepEqual(late.json.accepted, 6);
  assert.equal(late.json.rejected, 1);
  // A later label of an id that has one changes nothing, whichever replica gets it.
  ok(await feedback(b.url, [{ id: 'f0', label: 'dog' }]));

  const expected = { labelled: 10, production_accuracy: 1, shadow_accuracy: 0.7, production_only_correct: 3, shadow_only_correct: 0 };
  for (const r of [a, b]) {
    const f = (await stats(r.url)).routes.predict.prediction.feedback;
    assert.deepEqual({ ...f, mcnemar_p: undefined, conclusion: undefined }, { ...expected, mcnemar_p: undefined, conclusion: undefined });
    const v = (await get(r.url, '/v1/verdict?route=predict')).json;
    assert.equal(v.observed.feedback.labelled, 10);
    assert.equal(v.observed.feedback.shadow_accuracy, 0.7);
  }
  assert.deepEqual((await stats(a.url)).routes.predict.prediction, (await stats(b.url)).routes.predict.prediction);
  const labels = await sql<{ id: string; label: string }>(db, "SELECT id, label FROM feedback_labels WHERE id IN ('f0', 'f5') ORDER BY id");
  assert.deepEqual(labels, [{ id: 'f0', label: '"cat"' }, { id: 'f5', label: '"cat"' }]);
});

test('feedback: the same labels posted to both replicas at once, each racing its pair, are counted once', { skip: pgSkip }, async (t) => {
  const db = await cluster().createDatabase(`pg_dec_${++dbs}`);
  const a = await replica(t, db);
  const b = await replica(t, db);
  const ids = Array.from({ length: 60 }, (_, i) => `r${i}`);
  ok(await post(a.url, ids.map((id) => side(id, 'production', { label: 'cat' }))));
  // Per id, at the same instant: the side that makes the pair through B, its label through A and B.
  const answers = await Promise.all(
    ids.flatMap((id) => [post(b.url, [side(id, 'shadow', { label: 'dog' })]), feedback(a.url, [{ id, label: 'cat' }]), feedback(b.url, [{ id, label: 'cat' }])]),
  );
  answers.forEach(ok);

  // Label and pair serialize on the id's lock, the one record ingest takes: with it
  // held elsewhere, both wait, and neither misses the other once it is let go.
  ok(await post(a.url, [side('held', 'production', { label: 'cat' })]));
  const holder = new pg.Client({ connectionString: db });
  await holder.connect();
  t.after(() => holder.end());
  await holder.query("BEGIN; SELECT pg_advisory_xact_lock(hashtextextended('held', 0))");
  const waiting = [feedback(a.url, [{ id: 'held', label: 'cat' }]), post(b.url, [side('held', 'shadow', { label: 'cat' })])];
  const blocked = await eventually(
    async () => Number((await holder.query<{ n: string }>("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).rows[0]!.n),
    (n) => n === 2,
  );
  assert.equal(blocked, 2, 'the label and the side both wait for the id lock');
  await holder.query('COMMIT');
  (await Promise.all(waiting)).forEach(ok);

  for (const r of [a, b]) {
    const f = (await stats(r.url)).routes.predict.prediction.feedback;
    assert.equal(f.labelled, 61);
    assert.equal(f.production_accuracy, 1);
    assert.equal(f.shadow_accuracy, 1 / 61);
  }
  const [row] = await sql<{ n: string }>(db, 'SELECT count(*) AS n FROM feedback_matches');
  assert.equal(Number(row!.n), 61);
});

test('noise: baseline sides before and after their pairs, through either replica, make the same noise paths on both', { skip: pgSkip }, async (t) => {
  const db = await cluster().createDatabase(`pg_dec_${++dbs}`);
  const a = await replica(t, db);
  const b = await replica(t, db);
  const n = 24;
  const ids = Array.from({ length: n }, (_, i) => `n${i}`);
  const body = (i: number, shift: number) => ({ ts: i + shift, v: 1 });
  // A third of the baselines come first (through B), a third with the shadow sides
  // that make the pairs (the same transaction), a third after their pairs (through A).
  const [first, withPair, after] = [ids.slice(0, 8), ids.slice(8, 16), ids.slice(16)];
  ok(await post(b.url, first.map((id, i) => side(id, 'baseline', body(i, 1000)))));
  ok(await post(a.url, ids.map((id, i) => side(id, 'production', body(i, 0)))));
  ok(await post(b.url, [...ids.map((id, i) => side(id, 'shadow', body(i, 2000))), ...withPair.map((id, i) => side(id, 'baseline', body(i + 8, 1000)))]));
  ok(await post(a.url, after.map((id, i) => side(id, 'baseline', body(i + 16, 1000)))));

  const sa = await stats(a.url);
  assert.deepEqual(sa.routes.predict.noise, [{ path: '/ts', baseline_diffs: n, shadow_diffs: n, triples: n }]);
  assert.equal(sa.routes.predict.match_rate, 0);
  assert.equal(sa.routes.predict.adjusted_match_rate, 1);
  assert.deepEqual((await stats(b.url)).routes, sa.routes);
  const [row] = await sql<{ n: string }>(db, 'SELECT count(*) AS n FROM noise_triples');
  assert.equal(Number(row!.n), n);
});

test('noise: pairs compared on the prepare thread still meet the baselines stored before them, also those of the other replica', { skip: pgSkip }, async (t) => {
  const db = await cluster().createDatabase(`pg_dec_${++dbs}`);
  const a = await replica(t, db);
  const b = await replica(t, db);
  const n = 48; // 24 triples: noise needs 20 (DEFAULT_NOISE.min_triples)
  const ids = Array.from({ length: n }, (_, i) => `p${i}`);
  const body = (i: number, shift: number) => ({ ts: i + shift, v: 1 });
  // Baselines of half the ids come first, some through each replica; both sides of
  // every pair then go to A one after the other, so A's prepare thread compares each
  // pair, and the noise writer still needs both sides' bodies for the ids with a
  // baseline (a store that skips reading back a partner compared ahead must not
  // skip those).
  const withBaseline = ids.slice(0, n / 2);
  ok(await post(b.url, withBaseline.slice(0, n / 4).map((id, i) => side(id, 'baseline', body(i, 1000)))));
  ok(await post(a.url, withBaseline.slice(n / 4).map((id, i) => side(id, 'baseline', body(i + n / 4, 1000)))));
  ok(await post(a.url, ids.map((id, i) => side(id, 'production', body(i, 0)))));
  ok(await post(a.url, ids.map((id, i) => side(id, 'shadow', body(i, i < n / 2 ? 2000 : 0)))));
  assert.equal(a.c.store.records.compared.here, 0, 'every pair was compared on the prepare thread');
  assert.equal(a.c.store.records.compared.prepared, n);

  const sa = await stats(a.url);
  assert.deepEqual(sa.routes.predict.noise, [{ path: '/ts', baseline_diffs: n / 2, shadow_diffs: n / 2, triples: n / 2 }]);
  assert.equal(sa.routes.predict.pairs, n);
  assert.equal(sa.routes.predict.match_rate, 0.5);
  assert.equal(sa.routes.predict.adjusted_match_rate, 1);
  assert.deepEqual((await stats(b.url)).routes, sa.routes);
  const [row] = await sql<{ n: string }>(db, 'SELECT count(*) AS n FROM noise_triples');
  assert.equal(Number(row!.n), n / 2);
});

test('a decision change alerts once across replicas; control set through one is carried by the other; a later replica reports the same', { skip: pgSkip }, async (t) => {
  const db = await cluster().createDatabase(`pg_dec_${++dbs}`);
  const bodies: { route: string | null; from: string | null; to: string }[] = [];
  const hook = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(text) as (typeof bodies)[number]);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => hook.close(() => r())));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`;
  const a = await replica(t, db, { alertWebhooks: [hookUrl] });
  const b = await replica(t, db, { alertWebhooks: [hookUrl] });

  // Control through A: B's very next batch answer carries it.
  assert.deepEqual((await send(a.url, 'PUT', '/v1/control', { sample_percent: { '*': 25, predict: 5 } })).json, { sample_percent: { '*': 25, predict: 5 } });
  const ids = Array.from({ length: 12 }, (_, i) => `d${i}`);
  const fromB = await post(b.url, ids.map((id) => side(id, 'shadow', { label: 'cat' })));
  assert.deepEqual(fromB.json.control, { sample_percent: { '*': 25, predict: 5 } });
  assert.deepEqual((await get(b.url, '/v1/control')).json, { sample_percent: { '*': 25, predict: 5 } });
  const fromA = await post(a.url, ids.map((id) => side(id, 'production', { label: 'cat' })));
  assert.deepEqual(fromA.json.control, { sample_percent: { '*': 25, predict: 5 } });
  // Cleared through B: A's answers carry none.
  assert.deepEqual((await send(b.url, 'PUT', '/v1/control', {})).json, {});
  assert.equal('control' in (await post(a.url, [side('extra', 'production', { label: 'cat' })])).json, false);
  ok(await send(a.url, 'PUT', '/v1/control', { sample_percent: { predict: 0 } }));

  // 12 matching pairs ≥ min_pairs: both replicas see hold → promote at about the same
  // moment (their timers and these explicit evaluations race); one alert per change.
  const settled = async (): Promise<boolean> => {
    await Promise.all([get(a.url, '/v1/verdict'), get(b.url, '/v1/verdict'), get(a.url, '/v1/verdict?route=predict'), get(b.url, '/v1/verdict?route=predict')]);
    a.c.verdicts.evaluateAll();
    b.c.verdicts.evaluateAll();
    await eventually(async () => a.c.verdicts.unsettled + b.c.verdicts.unsettled, (x) => x === 0);
    const all = [...a.c.verdicts.lastDecisions(), ...b.c.verdicts.lastDecisions()];
    return all.length === 4 && all.every(([, d]) => d.decision === 'promote') && bodies.filter((x) => x.to === 'promote').length >= 2;
  };
  await eventually(settled, (x) => x);
  // Once more after all agree: nobody alerts again.
  assert.equal(await settled(), true);
  assert.equal(a.c.verdicts.unsettled + b.c.verdicts.unsettled, 0);

  const keys = bodies.map((x) => `${x.route ?? '*'}: ${x.from ?? 'none'} → ${x.to}`);
  assert.equal(new Set(keys).size, keys.length, `an alert was sent twice: ${keys.join(', ')}`);
  assert.deepEqual(bodies.filter((x) => x.to === 'promote').map((x) => x.route ?? '*').sort(), ['*', 'predict']);
  for (const r of [a, b]) {
    const text = await (await fetch(`${r.url}/metrics`)).text();
    assert.match(text, /^shadowmesh_verdict\{route="predict",decision="promote"\} 1$/m);
    assert.match(text, /^shadowmesh_verdict\{route="\*",decision="promote"\} 1$/m);
  }

  // A third replica, started now, knows the control, the decisions and the numbers.
  const c = await replica(t, db, { alertWebhooks: [hookUrl] });
  assert.deepEqual((await get(c.url, '/v1/control')).json, { sample_percent: { predict: 0 } });
  assert.deepEqual((await post(c.url, [side('extra', 'shadow', { label: 'cat' })])).json.control, { sample_percent: { predict: 0 } });
  assert.deepEqual([...c.c.verdicts.lastDecisions()].map(([k, d]) => [k, d.decision]).sort(), [['*', 'promote'], ['predict', 'promote']]);
  assert.deepEqual((await stats(c.url)).routes, (await stats(a.url)).routes);
  assert.equal((await get(c.url, '/v1/verdict')).json.decision, 'promote');
  const before = bodies.length;
  assert.equal(await settled(), true);
  await eventually(async () => c.c.verdicts.unsettled, (x) => x === 0);
  assert.equal(bodies.length, before, 'the later replica alerted a change already made');
});
