// The (id, role) index's in-memory part and its sorted runs, on a real SQLite file,
// with a tiny run size so that every batch crosses a run boundary.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { CollectorConfig } from '../../src/collector/config.js';
import type { BodyItem } from '../../src/collector/ingest/body.js';
import { Joiner } from '../../src/collector/join/joiner.js';
import { keyOrder } from '../../src/collector/store/id-index.js';
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
  // Runs of 32 entries, written 2 per transaction.
  const repo = new Repository(file, 'normal', 32);
  const joiner = new Joiner(repo, new CollectorConfig(), opts);
  const rows = (): number => repo.db.prepare<[], number>('SELECT count(*) FROM record_ids').pluck().get()!;
  const mark = (): string | undefined => repo.db.prepare<[], string>("SELECT value FROM meta WHERE key = 'ids_indexed_through'").pluck().get();
  const ids = Array.from({ length: 40 }, (_, i) => `s${(i * 7919) % 1000}-${i}`);

  joiner.ingest(items(ids.slice(0, 32).map((id) => rec({ id, role: 'production' }))));
  assert.equal(rows(), 2, 'the transaction that filled the run wrote its first slice only');
  assert.equal(mark(), undefined);
  for (let i = 32; i < 38; i++) joiner.ingest(items([rec({ id: ids[i]!, role: 'production' })]));
  assert.equal(rows(), 14);
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
  for (let i = 0; i < 20; i++) joiner2.ingest(items([rec({ id: `late-${i}`, role: 'baseline' })]));
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
