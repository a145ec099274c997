// `shadowmesh collector --db postgres://…` as real processes: two replicas started
// by the CLI share one database, a SIGKILLed one comes back knowing everything,
// and a database of another schema version stops the start with one line, exit 2,
// without the password anywhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { pgClusterPerFile, pgSkip } from '../support/pg-test-cluster.js';
import { get, post, rec, runCollectorToExit, startCollector, stats } from './helpers.js';

const cluster = pgClusterPerFile();

/** The lines meant for a person: the structured log (JSON lines, also on stderr) aside. */
const lines = (s: string): string[] => s.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));

/** The same URL with a password: trust authentication ignores it, the logs must not show it. */
const withPassword = (url: string): string => url.replace('postgres://shadowmesh@', 'postgres://shadowmesh:s3cret@');

test('two CLI replicas on one database: sides split between them pair once; a SIGKILLed replica restarts knowing everything', { skip: pgSkip }, async (t) => {
  const db = withPassword(await cluster().createDatabase('pg_cli_replicas'));
  const a = await startCollector(['--db', db, '--join-window-ms', '60000'], t);
  const b = await startCollector(['--db', db, '--join-window-ms', '60000'], t);
  assert.equal((await post(a.url, [rec({ id: 'c1', role: 'production' }), rec({ id: 'c2', role: 'production' })])).status, 200);
  assert.equal((await post(b.url, [rec({ id: 'c1', role: 'shadow' }), rec({ id: 'c2', role: 'shadow', status: 503 })])).status, 200);
  const sa = await stats(a.url);
  assert.equal(sa.total.pairs, 2);
  assert.equal(sa.total.status_match, 1);
  assert.deepEqual(await stats(b.url), sa);

  // Acknowledged by b, then b dies without a chance to clean up.
  assert.equal((await post(b.url, [rec({ id: 'c3', role: 'production' })])).status, 200);
  await b.kill9();
  assert.equal((await post(a.url, [rec({ id: 'c3', role: 'shadow' })])).status, 200);
  const b2 = await startCollector(['--db', db], t);
  const after = await stats(b2.url);
  assert.equal(after.total.pairs, 3);
  assert.deepEqual(after, await stats(a.url));
  assert.equal((await get(b2.url, '/v1/pairs/c3')).json.match, true);

  for (const r of [a, b2]) assert.doesNotMatch(r.stderr(), /s3cret/);
  assert.match(a.stderr(), /"msg":"collector started"/);
  assert.match(a.stderr(), /"db":"postgres:\/\/shadowmesh:\[redacted\]@127\.0\.0\.1:\d+\/pg_cli_replicas"/);
});

test('a PostgreSQL database of another schema version: one line, exit 2, no password echoed', { skip: pgSkip }, async () => {
  const db = await cluster().createDatabase('pg_cli_version');
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  await client.query("CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL); INSERT INTO meta VALUES ('schema_version', '7')");
  await client.end();
  const r = await runCollectorToExit(['--db', withPassword(db)]);
  assert.equal(r.code, 2, r.stderr);
  assert.deepEqual(lines(r.stderr), [
    `shadowmesh collector: 127.0.0.1:${cluster().port}/pg_cli_version: database has schema version 7, this collector uses 1; use another --db database`,
  ]);
  assert.doesNotMatch(r.stderr, /s3cret/);
});

test('a PostgreSQL database that does not exist: one line, exit 2', { skip: pgSkip }, async () => {
  const r = await runCollectorToExit(['--db', withPassword(cluster().url('no_such_db'))]);
  assert.equal(r.code, 2, r.stderr);
  assert.deepEqual(lines(r.stderr), [`shadowmesh collector: PostgreSQL at 127.0.0.1:${cluster().port}/no_such_db: database "no_such_db" does not exist`]);
  assert.doesNotMatch(r.stderr, /s3cret/);
});
