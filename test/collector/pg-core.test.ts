// The PostgreSQL store with two collector replicas in this process sharing one
// database (a fresh database per test): pairs formed exactly once whichever
// replica gets which side, the same numbers from every replica, a late replica
// that knows everything, and 503 while PostgreSQL is down.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { openPgCollector, type PgCollector } from '../../src/collector/server.js';
import { SchemaError } from '../../src/collector/store/repository.js';
import { pgClusterPerFile, pgSkip } from '../support/pg-test-cluster.js';
import { eventually, get, post, rec, stats } from './helpers.js';

const cluster = pgClusterPerFile();
let dbs = 0;

async function freshDb(): Promise<string> {
  return cluster().createDatabase(`pg_core_${++dbs}`);
}

async function replica(t: { after: (fn: () => Promise<void>) => void }, db: string, opts: { joinWindowMs?: number } = {}): Promise<{ c: PgCollector; url: string }> {
  const c = await openPgCollector({ db, port: 0, ...opts });
  t.after(() => c.close());
  return { c, url: await c.listen() };
}

async function sql<R extends object>(db: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** The numbers of S that must agree between replicas (latency quantiles included). */
const totals = async (url: string): Promise<unknown> => (await stats(url)).total;

test('two replicas: each gets one side, the pair is made once and both give the same stats, pairs and metrics', { skip: pgSkip }, async (t) => {
  const db = await freshDb();
  const a = await replica(t, db);
  const b = await replica(t, db);
  assert.equal((await post(a.url, [rec({ id: 'p1', role: 'production', response_body: '{"x":1}' }), rec({ id: 'p2', role: 'production' })])).status, 200);
  const r = await post(b.url, [rec({ id: 'p1', role: 'shadow', response_body: '{"x":2}' }), rec({ id: 'p3', role: 'shadow' })]);
  assert.deepEqual(r.json, { accepted: 2, rejected: 0, errors: [] });

  const sa = (await stats(a.url)).total;
  assert.equal(sa.pairs, 1);
  assert.equal(sa.production, 2);
  assert.equal(sa.shadow, 2);
  assert.equal(sa.pending, 2);
  assert.deepEqual(sa.fields, [{ path: '/x', diffs: 1 }]);
  assert.deepEqual(await totals(b.url), sa);

  for (const url of [a.url, b.url]) {
    const page = await get(url, '/v1/pairs');
    assert.deepEqual(page.json.items.map((p: { id: string }) => p.id), ['p1']);
    assert.deepEqual(page.json.items[0].diffs, [{ path: '/x', kind: 'changed', production: 1, shadow: 2 }]);
    const one = await get(url, '/v1/pairs/p1');
    assert.equal(one.json.production.response_body, '{"x":1}');
    assert.equal(one.json.shadow.response_body, '{"x":2}');
    assert.equal((await get(url, '/v1/pairs/p2')).json.shadow, null);
    assert.equal((await get(url, '/v1/pairs/nope')).status, 404);
    const text = await (await fetch(`${url}/metrics`)).text();
    assert.match(text, /^shadowmesh_pairs_total\{route="predict"\} 1$/m);
  }
});

test('the two sides of 300 ids sent at once to two replicas, in shuffled batches and twice: 300 pairs, none doubled, none lost', { skip: pgSkip }, async (t) => {
  const db = await freshDb();
  const a = await replica(t, db);
  const b = await replica(t, db);
  const n = 300;
  const ids = Array.from({ length: n }, (_, i) => `race-${i}`);
  // A fixed shuffle: production and shadow batches cover the ids in different orders.
  const shuffled = ids.map((id, i) => ({ id, k: (i * 7919) % n })).sort((x, y) => x.k - y.k).map((x) => x.id);
  const batches = (list: string[], role: string): unknown[][] => {
    const out: unknown[][] = [];
    for (let i = 0; i < list.length; i += 15) out.push(list.slice(i, i + 15).map((id) => rec({ id, role })));
    return out;
  };
  const sends: Promise<{ status: number }>[] = [];
  const prod = batches(ids, 'production');
  const shadow = batches(shuffled, 'shadow');
  for (let i = 0; i < prod.length; i++) {
    // Each side goes to both replicas: every (id, role) is also a duplicate.
    sends.push(post(a.url, prod[i]), post(b.url, shadow[i]), post(b.url, prod[i]), post(a.url, shadow[i]));
  }
  const statuses = (await Promise.all(sends)).map((r) => r.status);
  assert.deepEqual([...new Set(statuses)], [200]);

  const [count] = await sql<{ pairs: number; records: number }>(db, 'SELECT (SELECT count(*)::int FROM pairs) AS pairs, (SELECT count(*)::int FROM records) AS records');
  assert.deepEqual(count, { pairs: n, records: 2 * n });
  for (const url of [a.url, b.url]) {
    const s = (await stats(url)).total;
    assert.equal(s.pairs, n, url);
    assert.equal(s.production, n);
    assert.equal(s.shadow, n);
    assert.equal(s.pending, 0);
    assert.equal(s.unmatched_production + s.unmatched_shadow, 0);
  }
  assert.deepEqual(await totals(a.url), await totals(b.url));
});

test('a replica started later knows everything the others stored', { skip: pgSkip }, async (t) => {
  const db = await freshDb();
  const a = await replica(t, db);
  await post(a.url, [rec({ id: 'l1', role: 'production' }), rec({ id: 'l1', role: 'shadow', status: 500 }), rec({ id: 'l2', role: 'production' })]);
  await post(a.url, [rec({ id: 'l3', role: 'shadow', route: 'other' }), rec({ id: 'l1', role: 'baseline' })]);
  const before = await stats(a.url);
  const late = await replica(t, db);
  assert.deepEqual(await stats(late.url), before);
  assert.equal(before.total.pairs, 1);
  assert.equal(before.total.shadow_errors, 1);
  assert.equal(before.total.baseline, 1);
  assert.deepEqual(Object.keys(before.routes), ['other', 'predict']);
});

test('join window: a side alone past the window is unmatched on both replicas; its partner arriving later makes a late pair', { skip: pgSkip }, async (t) => {
  const db = await freshDb();
  const a = await replica(t, db, { joinWindowMs: 300 });
  const b = await replica(t, db, { joinWindowMs: 300 });
  await post(a.url, [rec({ id: 'w1', role: 'production' })]);
  for (const url of [a.url, b.url]) {
    const s = await eventually(() => stats(url), (v) => v.total.unmatched_production === 1);
    assert.equal(s.total.unmatched_production, 1, url);
    assert.equal(s.total.pending, 0);
  }
  await post(b.url, [rec({ id: 'w1', role: 'shadow' })]);
  for (const url of [a.url, b.url]) {
    const s = (await stats(url)).total;
    assert.equal(s.pairs, 1, url);
    assert.equal(s.late, 1, url);
    assert.equal(s.unmatched_production, 0, url);
    assert.equal((await get(url, '/v1/pairs/w1')).json.late, true);
  }
});

test('a database of another schema version is refused with SchemaError', { skip: pgSkip }, async (t) => {
  const db = await freshDb();
  const a = await replica(t, db);
  await a.c.close();
  await sql(db, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
  await assert.rejects(openPgCollector({ db, port: 0 }), (err: unknown) => {
    assert.ok(err instanceof SchemaError);
    assert.match(err.message, /schema version 99, this collector uses 1/);
    return true;
  });
});

test('PostgreSQL stopped: ingestion answers 503 and reads answer from memory; started again: ingestion recovers by itself', { skip: pgSkip }, async (t) => {
  const db = await freshDb();
  const a = await replica(t, db);
  await post(a.url, [rec({ id: 'd1', role: 'production' })]);
  // A read follows the feed first: the side is in this replica's numbers before
  // PostgreSQL goes away (the follow after the POST is not awaited by it).
  assert.equal((await stats(a.url)).total.production, 1);
  await cluster().stopServer();
  let restarted = false;
  t.after(async () => {
    if (!restarted) await cluster().start();
  });
  const down = await post(a.url, [rec({ id: 'd1', role: 'shadow' })]);
  assert.equal(down.status, 503);
  assert.match(down.json.error, /^PostgreSQL is unavailable, retry later: /);
  const held = await stats(a.url);
  assert.equal(held.total.production, 1);
  assert.equal(held.total.pairs, 0);
  await cluster().start();
  restarted = true;
  const retried = await eventually(() => post(a.url, [rec({ id: 'd1', role: 'shadow' })]), (r) => r.status === 200, 20_000);
  assert.equal(retried.status, 200);
  const s = (await stats(a.url)).total;
  assert.equal(s.pairs, 1);
  assert.equal(s.shadow, 1);
});

test('PostgreSQL stopped while batches are in flight: every answer is 200 or 503, the process lives on, every 200 is stored', { skip: pgSkip }, async (t) => {
  const db = await freshDb();
  const a = await replica(t, db);
  const acknowledged = new Set<string>();
  const statuses = new Set<number>();
  let stop = false;
  let sent = 0;
  // Four senders, each batch a new id's two sides; they run until told to stop.
  const senders = Array.from({ length: 4 }, async (_, w) => {
    for (let i = 0; !stop; i++) {
      const id = `f${w}-${i}`;
      sent++;
      const r = await post(a.url, [rec({ id, role: 'production' }), rec({ id, role: 'shadow' })]).catch(() => ({ status: -1 }));
      statuses.add(r.status);
      if (r.status === 200) acknowledged.add(id);
      if (r.status !== 200) await new Promise((res) => setTimeout(res, 20));
    }
  });
  await eventually(async () => sent, (n) => n >= 20);
  await cluster().stopServer();
  let restarted = false;
  t.after(async () => {
    if (!restarted) await cluster().start();
  });
  // Some batches answered while it is down (as events, not a sleep).
  await eventually(async () => statuses.has(503), (v) => v, 20_000);
  await cluster().start();
  restarted = true;
  const before = acknowledged.size;
  await eventually(async () => acknowledged.size, (n) => n > before + 4, 20_000);
  stop = true;
  await Promise.all(senders);
  assert.deepEqual([...statuses].sort(), [200, 503]);
  const stored = await sql<{ id: string }>(db, 'SELECT id FROM pairs');
  const ids = new Set(stored.map((r) => r.id));
  for (const id of acknowledged) assert.ok(ids.has(id), `${id} was acknowledged but not stored`);
  assert.equal((await stats(a.url)).total.pairs, ids.size);
});
