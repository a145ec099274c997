// The collector's structured log: one JSON line per start, stop, config problem and
// internal error (with the request id the answer names), never record contents or tokens.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { post, rec, runCollectorToExit, startCollector, tempDir } from '../collector/helpers.js';
import { startCollectorOnTempDb } from '../support/collector-on-temp-db.js';

interface LogLine { level: number; msg: string; [k: string]: unknown }

const lines = (stderr: string): LogLine[] =>
  stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);

const TOKEN = 'tok-9f8e7d6c5b4a';
const MARKER = 'record-content-3a1f';

test('faults: start, internal error with request id, stop — and no contents or tokens', async (t) => {
  const { collector: c, db } = await startCollectorOnTempDb(t, ['--token', TOKEN]);
  const ok = await post(c.url, [rec({ id: 'a', role: 'production', response_body: MARKER, request_body: MARKER })], { token: TOKEN });
  assert.equal(ok.status, 200);

  // Another process holds SQLite's write lock: the batch cannot be committed, so it
  // must not be answered 200, and the failure is logged under the answer's request id.
  const other = new Database(db);
  other.exec('BEGIN IMMEDIATE');
  const busy = await post(c.url, [rec({ id: 'b', role: 'production', response_body: MARKER })], { token: TOKEN });
  other.exec('ROLLBACK');
  other.close();
  assert.equal(busy.status, 500);
  assert.equal(typeof busy.json.request_id, 'string');
  const retry = await post(c.url, [rec({ id: 'b', role: 'production', response_body: MARKER })], { token: TOKEN });
  assert.equal(retry.json.accepted, 1);

  assert.equal(await c.stop('SIGTERM'), 0);
  const log = lines(c.stderr());
  const started = log.filter((l) => l.msg === 'collector started');
  assert.equal(started.length, 1);
  assert.equal(started[0]!.url, c.url);
  assert.equal(log.filter((l) => l.msg === 'collector stopped').length, 1);
  const internal = log.filter((l) => l.msg === 'internal error');
  assert.equal(internal.length, 1);
  assert.equal(internal[0]!.level, 50);
  assert.equal(internal[0]!.reqId, busy.json.request_id);
  assert.match(JSON.stringify(internal[0]!.err), /database is locked|SQLITE_BUSY/);
  assert.doesNotMatch(c.stderr(), new RegExp(TOKEN));
  assert.doesNotMatch(c.stderr(), new RegExp(MARKER));
});

test('faults: a config problem is one fatal log line; --log-level filters', async (t) => {
  const dir = tempDir(t);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ routes: { '*': { ignroe: [] } } }));
  const r = await runCollectorToExit(['--db', join(dir, 'c.db'), '--config', bad]);
  assert.equal(r.code, 2, r.stderr);
  const problems = lines(r.stderr).filter((l) => l.msg === 'config problem');
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.level, 60);
  assert.match(String(problems[0]!.problem), /ignroe/);

  const quiet = await startCollector(['--db', join(dir, 'q.db'), '--log-level', 'warn'], t);
  assert.equal(await quiet.stop('SIGTERM'), 0);
  assert.deepEqual(lines(quiet.stderr()), []);

  const wrong = await runCollectorToExit(['--db', join(dir, 'w.db'), '--log-level', 'loud']);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /log-level/);
});
