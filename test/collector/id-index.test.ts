// The (id, role) index's in-memory part and its sorted runs, on a real SQLite file,
// with a tiny run size so that every batch crosses a run boundary.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { CollectorConfig } from '../../src/collector/config.js';
import type { BodyItem } from '../../src/collector/ingest/body.js';
import { Joiner } from '../../src/collector/join/joiner.js';
import Database from 'better-sqlite3';
import { IdIndex, MAX_RUN, keyOrder } from '../../src/collector/store/id-index.js';
import { SCHEMA_SQL } from '../../src/collector/store/schema.js';
import { Repository } from '../../src/collector/store/repository.js';
import { rec, tempDir } from './helpers.js';

const items = (recs: Record<string, unknown>[]): BodyItem[] => recs.map((value, index) => ({ index, value }));

test('id index: duplicates, joins and restart across sorted runs', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'ids.db');
  const opts = { joinWindowMs: 600_000, maxPending: 2 };
  const repo = new Repository(file, 'normal', 3);
  const joiner = new Joiner(repo, new CollectorConfig(), opts);

  const ids = Array.from({ length: 40 }, (_, i) => `z${(i * 7919) % 1000}-${i}`);
  // Productions first (many runs written), then half the shadows, then repeats.
  for (let i = 0; i < ids.length; i += 7) joiner.ingest(items(ids.slice(i, i + 7).map((id) => rec({ id, role: 'production', status: 200 }))));
  joiner.ingest(items(ids.slice(0, 20).map((id) => rec({ id, role: 'shadow' }))));
  const dup = joiner.ingest(items([rec({ id: ids[0]!, role: 'production', status: 500 }), rec({ id: ids[39]!, role: 'production', status: 500 })]));
  assert.equal(dup.accepted, 2);
  const before = joiner.stats.answer();
  assert.equal(before.total.production, 40);
  assert.equal(before.total.production_errors, 0, 'duplicates across runs are not stored again');
  assert.equal(before.total.pairs, 20);
  assert.equal(before.total.pending, 20);
  assert.equal(repo.findSide(ids[5]!, 'shadow')?.seq !== undefined, true);
  assert.notEqual(repo.pairById(ids[5]!), undefined);
  assert.equal(repo.pairById(ids[25]!), undefined);
  assert.deepEqual(repo.sidesOf(ids[25]!).map((s) => s.role), ['production']);

  // Crash: no close, no final run; a second process opens the same file.
  const repo2 = new Repository(file, 'normal', 3);
  const joiner2 = new Joiner(repo2, new CollectorConfig(), opts);
  assert.deepEqual(joiner2.stats.answer(), before);
  const again = joiner2.ingest(items(ids.map((id) => rec({ id, role: 'production', status: 503 }))));
  assert.equal(again.accepted, 40);
  assert.equal(joiner2.stats.answer().total.production, 40);
  joiner2.ingest(items(ids.slice(20).map((id) => rec({ id, role: 'shadow' }))));
  const after = joiner2.stats.answer().total;
  assert.equal(after.pairs, 40);
  assert.equal(after.pending, 0);
  assert.equal(after.late, 0);
  await repo2.close();
  await repo.close();
});

test('id index: a run is written a slice per transaction, and a crash mid-run loses nothing', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'slices.db');
  const opts = { joinWindowMs: 600_000, maxPending: 1000 };
  // Runs of 32 entries, written 1 per transaction (a 64th of a run; ceil).
  const repo = new Repository(file, 'normal', 32);
  const joiner = new Joiner(repo, new CollectorConfig(), opts);
  const rows = (): number => repo.db.prepare<[], number>('SELECT count(*) FROM record_ids').pluck().get()!;
  const mark = (): string | undefined => repo.db.prepare<[], string>("SELECT value FROM meta WHERE key = 'ids_indexed_through'").pluck().get();
  const ids = Array.from({ length: 40 }, (_, i) => `s${(i * 7919) % 1000}-${i}`);

  joiner.ingest(items(ids.slice(0, 32).map((id) => rec({ id, role: 'production' }))));
  assert.equal(rows(), 0, 'the transaction that filled the run only put it in order');
  assert.equal(mark(), undefined);
  for (let i = 32; i < 38; i++) joiner.ingest(items([rec({ id: ids[i]!, role: 'production' })]));
  assert.equal(rows(), 6, 'then one slice per transaction');
  // Duplicates of entries already in the table and of entries still in memory.
  const dup = joiner.ingest(items(ids.slice(0, 32).map((id) => rec({ id, role: 'production', status: 500 }))));
  assert.equal(dup.accepted, 32);
  assert.equal(joiner.stats.answer().total.production, 38);
  assert.equal(joiner.stats.answer().total.production_errors, 0, 'no duplicate stored, wherever its first copy is indexed');

  // Crash mid-run: no close; the next process writes the run again from its start.
  const repo2 = new Repository(file, 'normal', 32);
  const joiner2 = new Joiner(repo2, new CollectorConfig(), opts);
  assert.equal(joiner2.stats.answer().total.production, 38);
  joiner2.ingest(items(ids.map((id) => rec({ id, role: 'shadow' }))));
  const total = joiner2.stats.answer().total;
  assert.equal(total.pairs, 38, 'every production side found, from the table or from memory');
  assert.equal(total.pending, 2);
  for (let i = 0; i < 80; i++) joiner2.ingest(items([rec({ id: `late-${i}`, role: 'baseline' })]));
  const count = repo2.db.prepare<[], number>('SELECT count(*) FROM record_ids').pluck().get()!;
  assert.ok(count >= 32, `a whole run reached the table (${count} rows)`);
  assert.notEqual(repo2.db.prepare<[], string>("SELECT value FROM meta WHERE key = 'ids_indexed_through'").pluck().get(), undefined);
  await repo2.close();
  await repo.close();
});

test('keyOrder: the order of a full (id, role) comparison, for ids sharing long prefixes, prefixes of others, control and non-ASCII characters', () => {
  const ids: string[] = [];
  const roles: number[] = [];
  const push = (id: string, role: number) => {
    ids.push(id);
    roles.push(role);
  };
  const hex = (i: number) => ((i * 2654435761) >>> 0).toString(16).padStart(8, '0');
  for (let i = 0; i < 3000; i++) {
    const id = i % 3 === 0 ? `common-prefix-${hex(i)}` : i % 3 === 1 ? hex(i) + hex(i * 7) : `${hex(i).slice(0, i % 9)}`;
    push(id, [2, 0, 1][i % 3]!);
    if (i % 4 === 0) push(id, (roles.at(-1)! + 1) % 3);
  }
  for (const id of ['', '\u0000', 'a', 'a\u0000', 'a\u0000b', 'ab', 'é', 'e\u007f', '\u007f', '\u00ff', 'z\u0100', 'zzzzzzzzzz', 'zzzzzzzzz', 'a\u00ff', 'a\u4e00z', 'b']) {
    push(id, 1);
    push(id, 0);
  }
  const expected = ids.map((_, i) => i).sort((a, b) => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : roles[a]! - roles[b]!));
  assert.deepEqual([...keyOrder(ids, roles)], expected);
  assert.deepEqual([...keyOrder([], [])], []);
  assert.deepEqual([...keyOrder(['b', 'a'], [0, 0])], [1, 0]);
});

test('keyOrder: ids that share a long prefix before a random part, in one large group', () => {
  const ids: string[] = [];
  const roles: number[] = [];
  for (let i = 0; i < 5000; i++) {
    const id = `trace-${((i * 2654435761) >>> 0).toString(16)}`;
    ids.push(id, id);
    roles.push(2, 1);
  }
  const expected = ids.map((_, i) => i).sort((a, b) => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : roles[a]! - roles[b]!));
  assert.deepEqual([...keyOrder(ids, roles)], expected);
  assert.throws(() => keyOrder(new Array<string>(MAX_RUN + 1).fill('a'), new Array<number>(MAX_RUN + 1).fill(0)), RangeError);
});

test('id index: slices end on a whole group of tied prefixes, and a backlog larger than one run is written as several', () => {
  const db = new Database(':memory:');
  db.exec(SCHEMA_SQL);
  const rows = (): number => db.prepare<[], number>('SELECT count(*) FROM record_ids').pluck().get()!;
  // 40 entries in 4 slices, but 30 of them share their first characters: the slice that
  // reaches that group takes all of it, in order.
  const index = new IdIndex(db, 40, 4);
  const ids = [...Array.from({ length: 10 }, (_, i) => `a${i}`), ...Array.from({ length: 30 }, (_, i) => `group-${(i * 7) % 30}`)];
  ids.forEach((id, i) => index.add(id, 'production', i + 1));
  db.transaction(() => index.flushIfFull())();
  assert.equal(rows(), 0, 'the run put in order only');
  db.transaction(() => index.flushIfFull())();
  assert.equal(rows(), 10, 'the first slice: the a… ids');
  db.transaction(() => index.flushIfFull())();
  assert.equal(rows(), 40, 'the next slice ran to the end of the tied group');
  assert.deepEqual(
    db.prepare<[], string>('SELECT id FROM record_ids').pluck().all(),
    [...ids].sort(),
  );
  assert.equal(db.prepare<[], string>("SELECT value FROM meta WHERE key = 'ids_indexed_through'").pluck().get(), '40');

  // More entries waiting than one run can hold (MAX_RUN): flush() writes them all.
  const big = new IdIndex(db, 10 * MAX_RUN);
  const n = MAX_RUN + 1000;
  for (let i = 0; i < n; i++) big.add(`k${(i * 2654435761) >>> 0}-${i}`, 'shadow', 100 + i);
  db.transaction(() => big.flush())();
  assert.equal(rows(), 40 + n);
  assert.equal(big.pending, 0);
  assert.equal(big.seqOf(`k${(5 * 2654435761) >>> 0}-5`, 'shadow'), 105, 'found in the table');
  assert.equal(db.prepare<[], string>("SELECT value FROM meta WHERE key = 'ids_indexed_through'").pluck().get(), String(99 + n));
  db.close();
});
