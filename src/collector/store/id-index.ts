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
/** In SQLite's BINARY order, so (id, role index) sorts as (id, role) does in `record_ids`. */
const ROLES: readonly Role[] = ['baseline', 'production', 'shadow'];
const roleIndex = (role: Role): number => (role === 'production' ? 1 : role === 'shadow' ? 2 : 0);

/** A run's entries in key order. */
interface Run {
  ids: string[];
  roles: number[];
  seqs: number[];
  done: number;
  maxSeq: number;
  slice: number;
}

/**
 * The positions of (ids[i], roles[i]) in key order: id, then role. Ids are ASCII
 * (contract), so JS order equals SQLite's BINARY order.
 *
 * A comparator sort of 32,768 entries took tens of ms (a JS call and two strings
 * scattered over the heap per comparison). Instead each entry gets a number that
 * orders like its id's first characters (7 bits each, anything above ASCII counted as
 * 127, a missing one as 0) with its position in the low bits, and a Float64Array sorts
 * those natively; only entries whose numbers tie on those characters (the two roles
 * of one id, mostly) are then put in order by the full comparison.
 */
export function keyOrder(ids: readonly string[], roles: readonly number[]): Int32Array {
  const n = ids.length;
  const posBits = Math.max(1, Math.ceil(Math.log2(n + 1)));
  const scale = 2 ** posBits;
  // All of it below 2^53, so every number is exact.
  const chars = Math.max(0, Math.floor((53 - posBits) / 7));
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    let prefix = 0;
    for (let c = 0; c < chars; c++) prefix = prefix * 128 + (c < id.length ? Math.min(id.charCodeAt(c), 127) : 0);
    keys[i] = prefix * scale + i;
  }
  keys.sort();
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = keys[i]! % scale;
  const before = (a: number, b: number): boolean => (ids[a]! < ids[b]! ? true : ids[a]! > ids[b]! ? false : roles[a]! < roles[b]!);
  // Ties come in small runs: an insertion sort of each, in place.
  let prev = keys[0]! - (keys[0]! % scale);
  for (let i = 1; i < n; i++) {
    const prefix = keys[i]! - (keys[i]! % scale);
    if (prefix !== prev) {
      prev = prefix;
      continue;
    }
    const e = order[i]!;
    let j = i - 1;
    for (; j >= 0 && keys[j]! - (keys[j]! % scale) === prefix && before(e, order[j]!); j--) order[j + 1] = order[j]!;
    order[j + 1] = e;
  }
  return order;
}

export class IdIndex {
  // One map per role, keyed by the id string itself: a record's id is hashed once
  // (V8 keeps the hash in the string) for all of its lookups, where a composite
  // "id + role" key was a new string to build and hash at every call.
  private readonly recent: Map<string, number>[] = [new Map(), new Map(), new Map()];
  /** Which keys the table may hold: most new records then skip the table lookup. */
  private readonly inTable = new KeyFilter();
  private readonly stmt;
  /** The run being written: its entries in key order, how many are written, its highest seq. */
  private run: Run | null = null;

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
    for (const [id, role] of this.stmt.tableKeys.iterate()) this.inTable.add(id, roleIndex(role as Role));
    this.reload();
  }

  /** Rebuilds the in-memory part from the database (start, or after a rollback). */
  reload(): void {
    for (const m of this.recent) m.clear();
    this.run = null;
    const mark = Number(this.stmt.mark.get(MARK) ?? 0);
    for (const r of this.stmt.unindexed.iterate(mark)) this.recent[roleIndex(r.role)]!.set(r.id, r.seq);
  }

  seqOf(id: string, role: Role): number | undefined {
    const r = roleIndex(role);
    return this.recent[r]!.get(id) ?? (this.inTable.mayHave(id, r) ? this.stmt.lookup.get(id, role) : undefined);
  }

  /** Only the in-memory part: for scans that already asked the table. */
  inRecent(id: string, role: Role): boolean {
    return this.recent[roleIndex(role)]!.has(id);
  }

  add(id: string, role: Role, seq: number): void {
    this.recent[roleIndex(role)]!.set(id, seq);
  }

  /** Call inside a write transaction: starts a run when enough entries wait, writes its next slice. */
  flushIfFull(): void {
    if (!this.run) {
      if (this.pending < this.flushAt) return;
      this.run = this.sortedRun();
    }
    const run = this.run;
    const end = Math.min(run.ids.length, run.done + run.slice);
    this.write(run, run.done, end);
    run.done = end;
    if (end === run.ids.length) {
      this.stmt.setMark.run(MARK, String(run.maxSeq));
      this.run = null;
    }
  }

  /** Writes every entry in memory as one sorted run; call inside a write transaction. */
  flush(): void {
    this.run = null;
    if (this.pending === 0) return;
    const run = this.sortedRun();
    this.write(run, 0, run.ids.length);
    this.stmt.setMark.run(MARK, String(run.maxSeq));
  }

  /** Every entry in memory, in the table's key order (id, then role). */
  private sortedRun(): Run {
    const ids: string[] = [];
    const roles: number[] = [];
    const seqs: number[] = [];
    let maxSeq = 0;
    for (let role = 0; role < this.recent.length; role++) {
      for (const [id, seq] of this.recent[role]!) {
        ids.push(id);
        roles.push(role);
        seqs.push(seq);
        if (seq > maxSeq) maxSeq = seq;
      }
    }
    const order = keyOrder(ids, roles);
    const n = order.length;
    const run: Run = { ids: new Array<string>(n), roles: new Array<number>(n), seqs: new Array<number>(n), done: 0, maxSeq, slice: Math.ceil(n / this.slices) };
    for (let i = 0; i < n; i++) {
      const e = order[i]!;
      run.ids[i] = ids[e]!;
      run.roles[i] = roles[e]!;
      run.seqs[i] = seqs[e]!;
    }
    return run;
  }

  /** Entries [from, to) of a run into the table, then out of memory (the filter learns them). */
  private write(run: Run, from: number, to: number): void {
    const params: (string | number)[] = [];
    for (let i = from; i < to; i++) {
      params.push(run.ids[i]!, ROLES[run.roles[i]!]!, run.seqs[i]!);
      if (params.length === ROWS_PER_INSERT * 3) {
        // Spread: better-sqlite3 binds an array argument element by element through a generic property read.
        this.stmt.insertMany.run(...params);
        params.length = 0;
      }
    }
    for (let i = 0; i < params.length; i += 3) this.stmt.insert.run(params[i], params[i + 1], params[i + 2]);
    for (let i = from; i < to; i++) {
      const id = run.ids[i]!;
      const role = run.roles[i]!;
      this.inTable.add(id, role);
      this.recent[role]!.delete(id);
    }
  }

  get pending(): number {
    return this.recent[0]!.size + this.recent[1]!.size + this.recent[2]!.size;
  }
}
