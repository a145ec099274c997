// Rows written in multi-row INSERTs with seqs the repository hands out itself: every
// stored row must be the one SQLite would have stored one .run() at a time (seqs in
// arrival order without gaps, pairs pointing at their own sides, the first copy
// winning), also across group sizes that need every statement size, rollbacks of a
// whole group or of one record, and a restart on the same file.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { CollectorConfig, parseConfig } from '../../src/collector/config.js';
import type { BodyItem } from '../../src/collector/ingest/body.js';
import { prepareItems } from '../../src/collector/ingest/prepare.js';
import { Joiner } from '../../src/collector/join/joiner.js';
import { NoiseLearner } from '../../src/collector/noise/noise-learner.js';
import { Repository } from '../../src/collector/store/repository.js';
import { rec } from './helpers.js';

const items = (recs: Record<string, unknown>[]): BodyItem[] => recs.map((value, index) => ({ index, value }));
const opts = { joinWindowMs: 600_000, maxPending: 10_000 };

/** A file in a fresh directory; the repositories opened on it close before the directory goes. */
function dbFile(t: TestContext): { file: string; opened: Repository[] } {
  const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-rows-'));
  const opened: Repository[] = [];
  t.after(async () => {
    for (const r of opened) await r.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });
  return { file: join(dir, 'rows.db'), opened };
}

function openRepo(t: TestContext): Repository {
  const { file, opened } = dbFile(t);
  const repo = new Repository(file);
  opened.push(repo);
  return repo;
}

interface Stored {
  seq: number;
  id: string;
  role: string;
  status: number;
}

const records = (repo: Repository): Stored[] => repo.db.prepare<[], Stored>('SELECT seq, id, role, status FROM records ORDER BY seq').all();

/** 1..n in order, but the seqs in `gaps`. */
function assertSeqs(seqs: number[], gaps: number[], what: string): void {
  const expected = Array.from({ length: seqs.length + gaps.length }, (_, i) => i + 1).filter((s) => !gaps.includes(s));
  assert.deepEqual(seqs, expected, `${what} seqs in order, without gaps`);
}

/** Seqs as expected; every pair's seqs name its own id's production and shadow rows; predictions name pairs. */
function assertConsistent(repo: Repository, gaps: { records: number[]; pairs: number[] } = { records: [], pairs: [] }): void {
  assertSeqs(records(repo).map((r) => r.seq), gaps.records, 'record');
  const pairs = repo.db.prepare<[], { seq: number; id: string; p: string; pr: string; s: string; sr: string }>(
    `SELECT pairs.seq, pairs.id, p.id AS p, p.role AS pr, s.id AS s, s.role AS sr FROM pairs
     JOIN records p ON p.seq = pairs.prod_seq JOIN records s ON s.seq = pairs.shadow_seq ORDER BY pairs.seq`,
  ).all();
  assertSeqs(pairs.map((p) => p.seq), gaps.pairs, 'pair');
  for (const p of pairs) assert.deepEqual([p.p, p.pr, p.s, p.sr], [p.id, 'production', p.id, 'shadow'], `pair ${p.id}`);
  const orphans = repo.db.prepare<[], number>('SELECT count(*) FROM predictions WHERE pair_seq NOT IN (SELECT seq FROM pairs)').pluck().get();
  assert.equal(orphans, 0);
}

test('a group of 150 records (every statement size) is stored in order; the first copy of a key wins inside it', async (t) => {
  const repo = openRepo(t);
  const joiner = new Joiner(repo, new CollectorConfig(), opts);
  const batch: Record<string, unknown>[] = [];
  for (let i = 0; i < 70; i++) batch.push(rec({ id: `a${i}`, role: 'production', status: 200 }));
  // Copies of stored keys, inside the same group: neither is stored nor counted.
  batch.push(rec({ id: 'a3', role: 'production', status: 501 }), rec({ id: 'a69', role: 'production', status: 502 }));
  for (let i = 0; i < 70; i++) batch.push(rec({ id: `a${i}`, role: 'shadow', status: 200 }));
  batch.push(rec({ id: 'a5', role: 'shadow', status: 503 }));
  for (let i = 0; i < 7; i++) batch.push(rec({ id: `b${i}`, role: 'baseline', status: 200 }));
  // Split over three batches of one group commit.
  const out = joiner.commit([prepareItems(items(batch.slice(0, 50))), prepareItems(items(batch.slice(50, 120))), prepareItems(items(batch.slice(120)))]);
  assert.deepEqual(out.map((o) => ('result' in o ? o.result.accepted : -1)), [50, 70, 30]);
  const rs = records(repo);
  assert.equal(rs.length, 147);
  assert.deepEqual(rs.filter((r) => r.status !== 200), [], 'the first copies stayed');
  assert.deepEqual(rs.slice(68, 72).map((r) => `${r.id}/${r.role}`), ['a68/production', 'a69/production', 'a0/shadow', 'a1/shadow'], 'in arrival order');
  assertConsistent(repo);
  const s = joiner.stats.answer().total;
  assert.deepEqual([s.pairs, s.pending, s.production_errors, s.shadow_errors], [70, 0, 0, 0]);
  // Found through the index by the seq handed out before the row was written.
  assert.equal(JSON.parse(repo.findSide('a42', 'shadow')!.record).id, 'a42');
  assert.equal(repo.pairById('a42')!.id, 'a42');
});

test('a storage failure of a group drops its waiting rows: the next group gets the same seqs, without gaps', async (t) => {
  const repo = openRepo(t);
  const config = parseConfig('routes:\n  predict:\n    prediction: { score: "/a" }\n');
  const joiner = new Joiner(repo, config, opts);
  let broken = true;
  joiner.listeners.push({
    pair: (e) => {
      if (broken && e.id === 'y90') repo.db.prepare('SELECT * FROM no_such_table').get();
    },
  });
  const body = (i: number) => JSON.stringify({ a: i });
  const group = () =>
    Array.from({ length: 100 }, (_, i) => [rec({ id: `y${i}`, role: 'production', response_body: body(i) }), rec({ id: `y${i}`, role: 'shadow', response_body: body(i + 1) })]).flat();
  joiner.ingest(items([rec({ id: 'first', role: 'production' })]));
  // 90 pairs' rows were added (128 of them already written) before the failure.
  assert.throws(() => joiner.ingest(items(group())), (e: Error) => e.constructor.name === 'SqliteError');
  assert.equal(records(repo).length, 1);
  assert.equal(repo.db.prepare<[], number>('SELECT count(*) FROM pairs').pluck().get(), 0);
  assert.equal(repo.findSide('y3', 'production'), undefined);
  broken = false;
  assert.equal(joiner.ingest(items(group())).accepted, 200);
  assert.equal(records(repo).length, 201);
  assertConsistent(repo);
  assert.equal([...repo.scanPredictions()].length, 100);
  assert.equal(joiner.stats.answer().total.pairs, 100);
});

test('a record failing for a reason of ours is undone alone with its rows; its seq is not handed out again', async (t) => {
  const repo = openRepo(t);
  const joiner = new Joiner(repo, new CollectorConfig(), opts);
  let fail = true;
  joiner.listeners.push({ pair: (e) => { if (fail && e.id === 'bad') throw new TypeError('listener bug'); } });
  const batch: Record<string, unknown>[] = [];
  for (let i = 0; i < 40; i++) batch.push(rec({ id: `c${i}`, role: 'production' }));
  batch.push(rec({ id: 'bad', role: 'production' }), rec({ id: 'bad', role: 'shadow' }));
  for (let i = 0; i < 40; i++) batch.push(rec({ id: `c${i}`, role: 'shadow' }));
  const r = joiner.ingest(items(batch));
  assert.equal(r.accepted, 81);
  assert.deepEqual(r.errors.map((e) => e.index), [41]);
  const rs = records(repo);
  assert.equal(rs.length, 81);
  assert.deepEqual(rs[41], { seq: 43, id: 'c0', role: 'shadow', status: 200 });
  assertConsistent(repo, { records: [42], pairs: [1] });
  fail = false;
  assert.equal(joiner.ingest(items([rec({ id: 'bad', role: 'shadow' })])).accepted, 1);
  assertConsistent(repo, { records: [42], pairs: [1] });
  assert.equal(records(repo).at(-1)!.seq, 83, 'the next transaction goes on from the highest stored seq');
  assert.equal(joiner.stats.answer().total.pairs, 41);
});

test('inside a transaction a row still waiting is read back, and nothing is inserted outside one', async (t) => {
  const repo = openRepo(t);
  repo.transaction(() => {
    const p = repo.insertRecord('r', 'production', 'predict', 200, 1, 10, '{"id":"r","role":"production"}')!;
    const s = repo.insertRecord('r', 'shadow', 'predict', 200, 1, 11, '{"id":"r","role":"shadow"}')!;
    assert.equal(repo.insertRecord('r', 'shadow', 'predict', 500, 1, 12, '{}'), null, 'first copy wins before it is written');
    assert.deepEqual(repo.findSide('r', 'shadow'), { seq: s, role: 'shadow', route: 'predict', arrival_ms: 11, record: '{"id":"r","role":"shadow"}' });
    const pairSeq = repo.insertPair({ prodSeq: p, shadowSeq: s, id: 'r', route: 'predict', statusMatch: true, bodyMatch: true, match: true, truncated: false, late: false, diffs: '[]', createdMs: 11 });
    assert.equal(repo.pairById('r')?.seq, pairSeq);
  });
  assert.throws(() => repo.insertRecord('q', 'production', 'predict', 200, 1, 10, '{}'), /only inside transaction/);
  assert.deepEqual(repo.sidesOf('r').map((x) => x.role), ['production', 'shadow']);
});

test('after a restart on the same file the seqs go on from the stored rows', async (t) => {
  const { file, opened } = dbFile(t);
  const first = new Repository(file);
  const j1 = new Joiner(first, new CollectorConfig(), opts);
  j1.ingest(items(Array.from({ length: 30 }, (_, i) => rec({ id: `d${i}`, role: i % 2 ? 'shadow' : 'production' }))));
  await first.close();
  const second = new Repository(file);
  opened.push(second);
  const j2 = new Joiner(second, new CollectorConfig(), opts);
  j2.ingest(items(Array.from({ length: 30 }, (_, i) => rec({ id: `d${i}`, role: i % 2 ? 'production' : 'shadow' }))));
  assert.equal(records(second).length, 60);
  assertConsistent(second);
  assert.equal(j2.stats.answer().total.pairs, 30);
});


test('excusable pairs of the noise learner go out with their group, and a failed group takes them back', async (t) => {
  const repo = openRepo(t);
  const config = new CollectorConfig();
  const joiner = new Joiner(repo, config, opts);
  new NoiseLearner(repo, config, joiner);
  let broken = false;
  joiner.listeners.push({ pair: (e) => { if (broken && e.id === 'e99') repo.db.prepare('SELECT * FROM no_such_table').get(); } });
  const excusable = () => repo.db.prepare<[], { pair_seq: number; paths: string }>('SELECT pair_seq, paths FROM excusable_pairs ORDER BY pair_seq').all();
  // 100 pairs differing in one value only (excusable at /a), one more differing in kind (not excusable).
  const group = (key: string) =>
    Array.from({ length: 100 }, (_, i) => [
      rec({ id: `e${i}`, role: 'production', response_body: JSON.stringify({ [key]: 1 }) }),
      rec({ id: `e${i}`, role: 'shadow', response_body: JSON.stringify({ [key]: 2 }) }),
    ]).flat();
  broken = true;
  assert.throws(() => joiner.ingest(items(group('b'))), (e: Error) => e.constructor.name === 'SqliteError');
  assert.deepEqual(excusable(), []);
  broken = false;
  assert.equal(joiner.ingest(items([...group('a'), rec({ id: 'x', role: 'production', response_body: '{"a":1}' }), rec({ id: 'x', role: 'shadow', response_body: '{"b":1}' })])).accepted, 202);
  const rows = excusable();
  assert.deepEqual(rows.map((r) => r.pair_seq), Array.from({ length: 100 }, (_, i) => i + 1));
  assert.ok(rows.every((r) => r.paths === '["/a"]'), rows[0]?.paths);
});
