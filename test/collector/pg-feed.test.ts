// The change feed on a real PostgreSQL: every committed transaction reaches every
// consumer once, in xid order, across follows; a consumer that throws on one
// transaction is reported and skips only that one, and nothing is applied twice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChangeFeed, type FeedConsumer } from '../../src/collector/store/pg/feed.js';
import { migratePg, PG_CORE_PART } from '../../src/collector/store/pg/migrate.js';
import { openPgPool, type PgPool } from '../../src/collector/store/pg/pool.js';
import { pgClusterPerFile, pgSkip } from '../support/pg-test-cluster.js';

const cluster = pgClusterPerFile();

const RECORDS = [{ name: 'records', columns: 'seq, id' }];

/** One committed transaction writing these ids as production sides; its xid. */
async function writeTx(pool: PgPool, ids: string[]): Promise<bigint> {
  const rows = (
    await pool.query<{ xid: string }>(
      `INSERT INTO records (id, role, route, status, latency_ms, arrival_ms, record)
       SELECT i, 'production', 'r', 200, 1, 1, '{}' FROM unnest($1::text[]) i RETURNING xid::text`,
      [ids],
    )
  ).rows;
  return BigInt(rows[0]!.xid);
}

test('a consumer that throws on one transaction: reported once, the others still get every transaction exactly once', { skip: pgSkip }, async (t) => {
  const db = await cluster().createDatabase('pg_feed_throw');
  const pool = openPgPool(db);
  t.after(() => pool.end());
  await migratePg(pool, db, [PG_CORE_PART]);

  const failures: bigint[] = [];
  const feed = new ChangeFeed(pool, { onConsumerError: (_err, xid) => failures.push(xid) });
  const thrower: FeedConsumer & { seen: string[] } = {
    tables: RECORDS,
    seen: [],
    apply(tx) {
      for (const r of tx.rows<{ id: string }>('records')) {
        if (r.id === 'boom') throw new Error('a consumer bug');
        this.seen.push(r.id);
      }
    },
  };
  const counter: FeedConsumer & { seen: string[] } = {
    tables: RECORDS,
    seen: [],
    apply(tx) {
      for (const r of tx.rows<{ id: string }>('records')) this.seen.push(r.id);
    },
  };
  feed.register(thrower);
  feed.register(counter);

  await writeTx(pool, ['a1', 'a2']);
  const boomXid = await writeTx(pool, ['boom']);
  await writeTx(pool, ['b1']);
  await feed.follow();
  await writeTx(pool, ['c1']);
  await feed.follow();
  await feed.follow();

  assert.deepEqual(counter.seen, ['a1', 'a2', 'boom', 'b1', 'c1']);
  assert.deepEqual(thrower.seen, ['a1', 'a2', 'b1', 'c1']);
  assert.deepEqual(failures, [boomXid]);
  assert.equal(feed.error, null);
  assert.ok(feed.watermark > boomXid);
});

test('transactions on both sides of a power of ten (xid 999 and 1000) are all applied, in xid order', { skip: pgSkip }, async (t) => {
  const db = await cluster().createDatabase('pg_feed_digits');
  const pool = openPgPool(db);
  t.after(() => pool.end());
  await migratePg(pool, db, [PG_CORE_PART]);
  // Burn transaction ids up to just below the next power of ten: subtransactions that
  // write take ids from the same counter, thousands in one statement.
  const current = BigInt((await pool.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x')).rows[0]!.x);
  // The next two ids go to CREATE TABLE and the DO block, then one per subtransaction:
  // the transactions below start at boundary - 1.
  let boundary = 10n ** BigInt(current.toString().length);
  if (boundary - current < 8n) boundary *= 10n;
  const burn = Number(boundary - current) - 4;
  assert.ok(burn < 1_000_000, `xid ${current} is too far from ${boundary} to burn in a test (a fresh cluster per file starts near 1000)`);
  const client = await pool.connect();
  try {
    await client.query('CREATE TEMP TABLE burn (i int)');
    await client.query(`DO $$ BEGIN FOR i IN 1..${burn} LOOP BEGIN INSERT INTO burn VALUES (i); EXCEPTION WHEN others THEN NULL; END; END LOOP; END $$`);
  } finally {
    client.release();
  }
  const xids: bigint[] = [];
  for (let i = 0; i < 8; i++) xids.push(await writeTx(pool, [`d${i}`]));
  assert.ok(xids[0]! < boundary && xids[7]! >= boundary, `xids ${xids.join(', ')} straddle ${boundary}`);

  const seen: { xid: bigint; id: string }[] = [];
  const feed = new ChangeFeed(pool);
  feed.register({
    tables: RECORDS,
    apply(tx) {
      for (const r of tx.rows<{ id: string }>('records')) seen.push({ xid: tx.xid, id: r.id });
    },
  });
  await feed.follow();
  assert.deepEqual(
    seen.map((s) => s.id),
    xids.map((_, i) => `d${i}`),
  );
  assert.deepEqual(
    seen.map((s) => s.xid),
    xids,
  );
});
