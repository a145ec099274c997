// Group commit of record batches on a real PostgreSQL (store/pg/ingest-groups.ts):
// batches submitted while a transaction runs are stored together in the next one;
// a record that fails alone is reported for its own batch and the rest of the group
// is committed; a batch whose failure cannot be pinned on one record fails alone;
// through the collector, concurrent batches that share ids pair every id once; and
// the prepare thread's comparisons are stored as SQLite's collector stores them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IngestGroups, ItemFailed } from '../../src/collector/store/pg/ingest-groups.js';
import { openPgPool, type PgClient } from '../../src/collector/store/pg/pool.js';
import { createCollector, openPgCollector } from '../../src/collector/server.js';
import { allPairs, statsEverywhere } from './pg-helpers.js';
import { storableJson } from '../../src/collector/ingest/storable.js';
import type { ShadowRecord } from '../../src/collector/types.js';
import { batches, BATCH } from '../../bench/collector/workload.js';
import { pgClusterPerFile, pgSkip } from '../support/pg-test-cluster.js';

const cluster = pgClusterPerFile();

interface Item {
  index: number;
  key: string;
}

const items = (batch: number, n: number): Item[] => Array.from({ length: n }, (_, i) => ({ index: i, key: `b${batch}-${i}` }));

async function insertAll(c: PgClient, group: readonly Item[]): Promise<void> {
  await c.query('INSERT INTO t (k) SELECT * FROM unnest($1::text[])', [group.map((i) => i.key)]);
}

test('batches submitted while a transaction runs go together into the next one; every one is committed', { skip: pgSkip }, async (t) => {
  const pool = openPgPool(await cluster().createDatabase('groups_basic'));
  t.after(() => pool.end());
  await pool.query('CREATE TABLE t (k text PRIMARY KEY, xid xid8 NOT NULL DEFAULT pg_current_xact_id())');
  for (const inFlight of [1, 2]) {
    await pool.query('TRUNCATE t');
    const groups = new IngestGroups<Item>(pool, insertAll, Date.now, { inFlight });
    const answers = await Promise.all(Array.from({ length: 6 }, (_, b) => groups.submit(items(b, 10))));
    assert.deepEqual(answers, Array.from({ length: 6 }, () => []));
    // The first `inFlight` start alone at once; the rest, submitted meanwhile, share the next one.
    assert.equal(groups.commits, inFlight + 1);
    assert.equal(groups.batches, 6);
    const r = await pool.query<{ n: string; xids: string }>('SELECT count(*)::text AS n, count(DISTINCT xid)::text AS xids FROM t');
    assert.deepEqual(r.rows[0], { n: '60', xids: String(inFlight + 1) });
  }
});

test('given lock keys, a batch sharing a key with a running group waits for it and goes along with the later ones; others start at once', { skip: pgSkip }, async (t) => {
  const pool = openPgPool(await cluster().createDatabase('groups_keys'));
  t.after(() => pool.end());
  await pool.query('CREATE TABLE t (k text PRIMARY KEY, xid xid8 NOT NULL DEFAULT pg_current_xact_id())');
  // Items keyed by id: batch b holds ids from[b] … from[b] + 9.
  const keyed = (b: number, from: number): (Item & { id: string })[] =>
    Array.from({ length: 10 }, (_, i) => ({ index: i, key: `b${b}-${i}`, id: `id${from + i}` }));
  const cases = [
    // Batch 1 shares id9 with batch 0: it waits, and 2 and 3 (behind it) go in its group.
    { from: [0, 9, 100, 200], commits: 2 },
    // Nothing shared: two groups start at once, the other two batches share the next one.
    { from: [0, 10, 100, 200], commits: 3 },
  ];
  for (const c of cases) {
    await pool.query('TRUNCATE t');
    const groups = new IngestGroups<Item & { id: string }>(pool, insertAll, Date.now, { inFlight: 2 }, (v) => v.id);
    const answers = await Promise.all(c.from.map((from, b) => groups.submit(keyed(b, from))));
    assert.deepEqual(answers, c.from.map(() => []));
    assert.equal(groups.commits, c.commits, `batches starting at ${c.from.join(', ')}`);
    assert.equal(groups.batches, 4);
    const r = await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM t');
    assert.equal(r.rows[0]!.n, '40');
  }
});

test('a record that fails is reported for its own batch; the rest of the group is committed once', { skip: pgSkip }, async (t) => {
  const pool = openPgPool(await cluster().createDatabase('groups_item'));
  t.after(() => pool.end());
  await pool.query('CREATE TABLE t (k text PRIMARY KEY)');
  let attempts = 0;
  const groups = new IngestGroups<Item>(
    pool,
    async (c, group) => {
      attempts++;
      await insertAll(c, group);
      const bad = group.find((i) => i.key === 'b2-3');
      if (bad) throw new ItemFailed(bad, new TypeError('comparison bug'));
    },
    Date.now,
    { inFlight: 1 },
  );
  const answers = await Promise.all([0, 1, 2, 3].map((b) => groups.submit(items(b, 5))));
  assert.deepEqual(answers[0], []);
  assert.deepEqual(answers[1], []);
  assert.equal(answers[2]!.length, 1);
  assert.equal(answers[2]![0]!.index, 3);
  assert.match(String(answers[2]![0]!.error), /comparison bug/);
  assert.deepEqual(answers[3], []);
  // Batch 0 alone, then [1, 2, 3] rolled back once and stored again without b2-3.
  assert.equal(attempts, 3);
  const keys = (await pool.query<{ k: string }>('SELECT k FROM t ORDER BY k')).rows.map((r) => r.k);
  assert.equal(keys.length, 19);
  assert.ok(!keys.includes('b2-3'));
});

test('a batch whose failure is not one record\'s fails alone; the others of its group are committed', { skip: pgSkip }, async (t) => {
  const pool = openPgPool(await cluster().createDatabase('groups_batch'));
  t.after(() => pool.end());
  await pool.query('CREATE TABLE t (k text PRIMARY KEY)');
  const groups = new IngestGroups<Item>(
    pool,
    async (c, group) => {
      await insertAll(c, group);
      if (group.some((i) => i.key.startsWith('b2-'))) throw new Error('bug of batch 2');
    },
    Date.now,
    { inFlight: 1 },
  );
  const answers = await Promise.allSettled([0, 1, 2, 3].map((b) => groups.submit(items(b, 4))));
  assert.deepEqual(
    answers.map((a) => a.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
  );
  assert.match(String((answers[2] as PromiseRejectedResult).reason), /bug of batch 2/);
  const n = (await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM t')).rows[0]!.n;
  assert.equal(n, '12');
});

test('through the collector: concurrent batches sharing ids make every pair once, in fewer transactions than batches', { skip: pgSkip }, async (t) => {
  const db = await cluster().createDatabase('groups_collector');
  const c = await openPgCollector({ db, port: 0, joinWindowMs: 30_000 });
  t.after(() => c.close());
  const url = await c.listen();
  const bodies = batches(BATCH * 24);
  let next = 0;
  let accepted = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < bodies.length) {
        const res = await fetch(`${url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[next++]! });
        assert.equal(res.status, 200);
        accepted += ((await res.json()) as { accepted: number }).accepted;
      }
    }),
  );
  assert.equal(accepted, BATCH * 24);
  assert.equal(c.store.records.groups.batches, 24);
  assert.ok(c.store.records.groups.commits < 24, `${c.store.records.groups.commits} transactions for 24 batches`);
  // 24 batches: production of 32 × 24 ids, shadow of the 32 × 23 previous ones (and
  // batch 0's shadows of ids no batch sends a production for).
  // Polled: the replica's change feed may trail its own commits on a loaded machine.
  await statsEverywhere([url], (s) => s.total.pairs === 32 * 23);
  const dup = await c.store.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM (SELECT id FROM pairs GROUP BY id HAVING count(*) > 1) d');
  assert.equal(dup.rows[0]!.n, '0');
});

test('pairs compared on the prepare thread are stored as the SQLite collector stores them', { skip: pgSkip }, async (t) => {
  const pg = await openPgCollector({ db: await cluster().createDatabase('groups_prepared'), port: 0, joinWindowMs: 30_000 });
  t.after(() => pg.close());
  const sqlite = createCollector({ db: ':memory:', port: 0, joinWindowMs: 30_000 });
  t.after(() => sqlite.close());
  const urls = [await pg.listen(), await sqlite.listen()];
  for (const body of batches(BATCH * 12)) {
    for (const url of urls) {
      const res = await fetch(`${url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(res.status, 200);
    }
  }
  // One batch after the other: every partner was stored by this replica, so the
  // thread's comparison of it is the one taken.
  assert.ok(pg.store.records.compared.prepared > 0);
  assert.equal(pg.store.records.compared.here, 0);
  const view = (items: any[]) =>
    items
      .map((p) => ({ id: p.id, route: p.route, match: p.match, status_match: p.status_match, body_match: p.body_match, truncated: p.truncated, late: p.late, diffs: p.diffs }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  await statsEverywhere([urls[0]!], (s) => s.total.pairs === 32 * 11);
  const [fromPg, fromSqlite] = await Promise.all(urls.map(async (u) => view(await allPairs(u))));
  assert.equal(fromPg.length, 32 * 11);
  assert.ok(fromPg.filter((p) => !p.match).length > 0, 'the workload has mismatching pairs');
  assert.deepEqual(fromPg, fromSqlite);
  // The stored text of each side is byte for byte the serialised record (sent to
  // PostgreSQL as byte ranges of one bytea parameter, see record-ingest.ts).
  const sent = (JSON.parse(batches(BATCH * 12)[3]!) as ShadowRecord[]).map((r) => [r.id, r.role, storableJson(r)] as const);
  for (const [id, role, stored] of sent) {
    const row = await pg.store.pool.query<{ record: string }>('SELECT record FROM records WHERE id = $1 AND role = $2', [id, role]);
    assert.ok(!('error' in stored));
    assert.equal(row.rows[0]?.record, stored.json);
  }
});

test('texts of several bytes per character are cut out of the batch at the right offsets, each stored as sent', { skip: pgSkip }, async (t) => {
  const pg = await openPgCollector({ db: await cluster().createDatabase('groups_utf8'), port: 0, joinWindowMs: 30_000 });
  t.after(() => pg.close());
  const url = await pg.listen();
  // Bodies of 1-, 2-, 3- and 4-byte characters and of escapes, of different lengths,
  // so that a byte offset taken for a character offset (or the other way) shifts
  // every later record of the batch.
  const bodies = ['plain', 'café crème', '日本語のテキスト', 'emoji 😀🎉 and "quotes" \\ back\nslash', '', 'ü'.repeat(300)];
  const records: ShadowRecord[] = [];
  bodies.forEach((body, i) => {
    for (const role of ['production', 'shadow'] as const) {
      records.push({
        v: 1,
        id: `utf8-${i}`,
        role,
        route: 'übersicht',
        method: 'GET',
        path: `/ü/${i}`,
        status: 200,
        latency_ms: 1.5 + i,
        ts_ms: 1_763_900_000_000 + i,
        response_headers: { 'content-type': 'text/plain; charset=utf-8', 'x-name': role === 'shadow' && i === 2 ? 'ß' : 'ñ' },
        response_body: role === 'shadow' && i === 3 ? `${body}✓` : body,
      } as ShadowRecord);
    }
  });
  const res = await fetch(`${url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records) });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { accepted: number }).accepted, records.length);
  for (const r of records) {
    const stored = storableJson(r);
    assert.ok(!('error' in stored));
    const row = await pg.store.pool.query<{ record: string; route: string }>('SELECT record, route FROM records WHERE id = $1 AND role = $2', [r.id, r.role]);
    assert.equal(row.rows[0]?.record, stored.json);
    assert.equal(row.rows[0]?.route, 'übersicht');
  }
  // Only the pair whose bodies differ by a character is a body mismatch.
  await statsEverywhere([url], (s) => s.total.pairs === bodies.length);
  const pairs = await allPairs(url);
  assert.deepEqual(
    pairs.filter((p) => !p.body_match).map((p) => p.id),
    ['utf8-3'],
  );
});
