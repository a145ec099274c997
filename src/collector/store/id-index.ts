// Finds a record by (id, role) without paying a random index write per record.
//
// Correlation ids are random, so inserting each new record into an on-disk index
// keyed by id dirties a random page that the commit then writes out whole: several
// KiB of WAL per record, the largest cost of ingestion. Instead, new (id, role) →
// seq entries wait in a bounded in-memory map and reach the `record_ids` table in
// sorted runs, where neighbouring keys share pages. The map is derived data: after a
// crash it is rebuilt from the records stored after the last run (meta
// `ids_indexed_through`), so nothing depends on it surviving.
//
// A run is written a slice at a time, one slice per write transaction (1/16 of the
// run, in key order) and not all at once: writing 32,768 entries into a table of random
// keys touches most of its pages and took a few hundred ms, which the one batch
// committing then waited for (the largest part of the batch p99). Entries stay in
// memory until their slice is written; the mark moves only when the whole run is in,
// so a crash mid-run simply writes that run again (INSERT OR IGNORE).
import type Database from 'better-sqlite3';
import type { Role } from '../types.js';
import { KeyFilter } from './key-filter.js';

const MARK = 'ids_indexed_through';
/** Entries per multi-row INSERT (3 parameters each). */
const ROWS_PER_INSERT = 64;
const key = (id: string, role: Role): string => `${id}\u0000${role}`;

export class IdIndex {
  private readonly recent = new Map<string, number>();
  /** Which keys the table may hold: most new records then skip the table lookup. */
  private readonly inTable = new KeyFilter();
  private readonly stmt;
  /** The run being written: its keys in order, how many are written, its highest seq. */
  private run: { keys: string[]; done: number; maxSeq: number; slice: number } | null = null;

  constructor(
    db: Database.Database,
    /** Entries held in memory before they are written as one sorted run. */
    readonly flushAt = 32_768,
    /** A run is written over this many write transactions (a slice each). */
    readonly slices = 16,
  ) {
    this.stmt = {
      lookup: db.prepare<[string, string], number>('SELECT seq FROM record_ids WHERE id = ? AND role = ?').pluck(),
      insert: db.prepare('INSERT OR IGNORE INTO record_ids (id, role, seq) VALUES (?, ?, ?)'),
      insertMany: db.prepare(`INSERT OR IGNORE INTO record_ids (id, role, seq) VALUES ${Array(ROWS_PER_INSERT).fill('(?, ?, ?)').join(', ')}`),
      mark: db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck(),
      setMark: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      tableKeys: db.prepare<[], [string, string]>('SELECT id, role FROM record_ids').raw(),
      unindexed: db.prepare<[number], { id: string; role: Role; seq: number }>('SELECT id, role, seq FROM records WHERE seq > ? ORDER BY seq'),
    };
    for (const [id, role] of this.stmt.tableKeys.iterate()) this.inTable.add(key(id, role as Role));
    this.reload();
  }

  /** Rebuilds the in-memory part from the database (start, or after a rollback). */
  reload(): void {
    this.recent.clear();
    this.run = null;
    const mark = Number(this.stmt.mark.get(MARK) ?? 0);
    for (const r of this.stmt.unindexed.iterate(mark)) this.recent.set(key(r.id, r.role), r.seq);
  }

  seqOf(id: string, role: Role): number | undefined {
    const k = key(id, role);
    return this.recent.get(k) ?? (this.inTable.mayHave(k) ? this.stmt.lookup.get(id, role) : undefined);
  }

  /** Only the in-memory part: for scans that already asked the table. */
  inRecent(id: string, role: Role): boolean {
    return this.recent.has(key(id, role));
  }

  add(id: string, role: Role, seq: number): void {
    this.recent.set(key(id, role), seq);
  }

  /** Call inside a write transaction: starts a run when enough entries wait, writes its next slice. */
  flushIfFull(): void {
    if (!this.run) {
      if (this.recent.size < this.flushAt) return;
      // Ids are ASCII (contract), so JS order equals SQLite's BINARY order.
      const keys = [...this.recent.keys()].sort();
      let maxSeq = 0;
      for (const k of keys) maxSeq = Math.max(maxSeq, this.recent.get(k)!);
      this.run = { keys, done: 0, maxSeq, slice: Math.ceil(keys.length / this.slices) };
    }
    const run = this.run;
    const end = Math.min(run.keys.length, run.done + run.slice);
    this.write(run.keys, run.done, end);
    run.done = end;
    if (end === run.keys.length) {
      this.stmt.setMark.run(MARK, String(run.maxSeq));
      this.run = null;
    }
  }

  /** Writes every entry in memory as one sorted run; call inside a write transaction. */
  flush(): void {
    this.run = null;
    if (this.recent.size === 0) return;
    const keys = [...this.recent.keys()].sort();
    let maxSeq = 0;
    for (const k of keys) maxSeq = Math.max(maxSeq, this.recent.get(k)!);
    this.write(keys, 0, keys.length);
    this.stmt.setMark.run(MARK, String(maxSeq));
  }

  /** keys[from, to) into the table, then out of memory (the filter learns them). */
  private write(keys: readonly string[], from: number, to: number): void {
    const params: (string | number)[] = [];
    for (let i = from; i < to; i++) {
      const k = keys[i]!;
      const sep = k.indexOf('\u0000');
      params.push(k.slice(0, sep), k.slice(sep + 1), this.recent.get(k)!);
      if (params.length === ROWS_PER_INSERT * 3) {
        this.stmt.insertMany.run(params);
        params.length = 0;
      }
    }
    for (let i = 0; i < params.length; i += 3) this.stmt.insert.run(params[i], params[i + 1], params[i + 2]);
    for (let i = from; i < to; i++) {
      this.inTable.add(keys[i]!);
      this.recent.delete(keys[i]!);
    }
  }

  get pending(): number {
    return this.recent.size;
  }
}
