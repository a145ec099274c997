// The PostgreSQL schema step at start: a database already in this layout is left
// alone (no DDL, so a starting replica never waits for the others' open writes),
// and a schema part added later (a feature's tables) still gets created.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { openPgCollector } from '../../src/collector/server.js';
import { migratePg, PG_CORE_PART } from '../../src/collector/store/pg/migrate.js';
import { openPgPool } from '../../src/collector/store/pg/pool.js';
import { pgClusterPerFile, pgSkip } from '../support/pg-test-cluster.js';
import { post, rec, stats } from './helpers.js';

const cluster = pgClusterPerFile();

test('a replica starts while another replica holds a write on records open: no wait for it', { skip: pgSkip }, async (t) => {
  const db = await cluster().createDatabase('pg_migrate_open_write');
  const a = await openPgCollector({ db, port: 0 });
  t.after(() => a.close());
  const writer = new pg.Client({ connectionString: db });
  await writer.connect();
  t.after(() => writer.end());
  // What an ingest transaction of another replica holds between its INSERT and COMMIT.
  await writer.query('BEGIN');
  const side = rec({ id: 'w', role: 'production' });
  await writer.query(
    'INSERT INTO records (id, role, route, status, latency_ms, arrival_ms, record) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [side.id, side.role, side.route, side.status, side.latency_ms, Date.now(), JSON.stringify(side)],
  );
  // With DDL at every start this open would wait for the writer until its statement
  // timeout and fail; it must complete while the writer is still open.
  const b = await openPgCollector({ db, port: 0 });
  t.after(() => b.close());
  // The writer's transaction is still the open one that wrote the row.
  const [open] = (await writer.query<{ xid: string | null }>('SELECT pg_current_xact_id_if_assigned()::text AS xid')).rows;
  assert.notEqual(open!.xid, null);
  await writer.query('COMMIT');
  const url = await b.listen();
  assert.equal((await post(url, [rec({ id: 'w', role: 'shadow' })])).status, 200);
  assert.equal((await stats(url)).total.pairs, 1);
});

test('a schema part added to a database already in use is created at the next start', { skip: pgSkip }, async (t) => {
  const db = await cluster().createDatabase('pg_migrate_new_part');
  const pool = openPgPool(db);
  t.after(() => pool.end());
  await migratePg(pool, db, [PG_CORE_PART]);
  const extra = { name: 'extra', sql: 'CREATE TABLE IF NOT EXISTS extra_rows (x integer)' };
  await migratePg(pool, db, [PG_CORE_PART, extra]);
  const rows = (await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'extra_rows'")).rows;
  assert.deepEqual(rows, [{ n: 1 }]);
});

test('ids, roles and routes compare byte by byte on a database whose default collation is a language\'s', { skip: pgSkip }, async (t) => {
  // Production servers are mostly set up with a language locale; comparing ids under
  // it cost the bench ~7 % of its records/s (BENCHMARKS.md, session 7).
  const admin = new pg.Client({ connectionString: cluster().url() });
  await admin.connect();
  t.after(() => admin.end());
  await admin.query("CREATE DATABASE pg_migrate_icu TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'");
  const db = cluster().url('pg_migrate_icu');
  const c = await openPgCollector({ db, port: 0 });
  t.after(() => c.close());
  const pool = openPgPool(db);
  t.after(() => pool.end());
  const [dflt] = (await pool.query<{ provider: string }>("SELECT datlocprovider AS provider FROM pg_database WHERE datname = 'pg_migrate_icu'")).rows;
  assert.equal(dflt!.provider, 'i');
  const cols = (
    await pool.query<{ col: string; collation: string | null }>(
      `SELECT table_name || '.' || column_name AS col, collation_name AS collation FROM information_schema.columns
       WHERE table_schema = 'public' AND column_name IN ('id', 'role', 'route', 'waited_role', 'waited_route') ORDER BY 1`,
    )
  ).rows;
  assert.ok(cols.length >= 10, `key columns found: ${cols.map((r) => r.col).join(', ')}`);
  assert.deepEqual(cols.filter((r) => r.collation !== 'C'), []);
  const url = await c.listen();
  assert.equal((await post(url, [rec({ id: 'Ab', role: 'production' }), rec({ id: 'Ab', role: 'shadow' })])).status, 200);
  assert.equal((await stats(url)).total.pairs, 1);
});
