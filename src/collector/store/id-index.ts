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
// A run is written a slice at a time, one slice per write transaction (1/64 of the
// run, in key order) and not all at once: writing 32,768 entries into a table of random
// keys touches most of its pages and took a few hundred ms, which the one batch
// committing then waited for (the largest part of the batch p99). Putting a run in key
// order is a transaction's work of its own, and most of it is done as entries arrive
// (each one's sort prefix): sorting 32,768 entries at once took 35-65 ms inside one
// commit, the two slowest batches of each run (BENCHMARKS.md, session 11). Entries stay in
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

/** A run: its entries as they were added, and their sort keys in key order. */
interface Run {
  ids: string[];
  roles: number[];
  seqs: number[];
  /** Sorted: prefix × POS_SCALE + position in ids/roles/seqs (see EntryLog). */
  keys: Float64Array;
  done: number;
  maxSeq: number;
  slice: number;
}

/** Characters of an id that its sort prefix holds (7 bits each), and bits left for a position. */
const PREFIX_CHARS = 5;
const POS_SCALE = 2 ** 18;
/** Entries in one run at most: a position must fit below POS_SCALE (a larger backlog goes in several runs). */
export const MAX_RUN = POS_SCALE;

/** A number that orders like the id's first PREFIX_CHARS characters (anything above ASCII counted as 127, a missing one as 0). */
function prefixKey(id: string): number {
  let prefix = 0;
  for (let c = 0; c < PREFIX_CHARS; c++) prefix = prefix * 128 + (c < id.length ? Math.min(id.charCodeAt(c), 127) : 0);
  return prefix;
}

/** Past a tie group: the first index at or after `to` whose prefix differs from the one before it. */
function groupEnd(keys: Float64Array, to: number): number {
  const n = keys.length;
  if (to <= 0 || to >= n) return Math.min(Math.max(to, 0), n);
  const last = Math.floor(keys[to - 1]! / POS_SCALE);
  while (to < n && Math.floor(keys[to]! / POS_SCALE) === last) to++;
  return to;
}

/**
 * The positions of keys[from, to) in exact key order (id, then role), where keys are
 * sorted and [from, to) splits no group of equal prefixes: entries whose prefixes tie
 * (the two roles of one id, mostly) are put in order by the full comparison. Ids are
 * ASCII (contract), so JS order equals SQLite's BINARY order.
 */
function orderRange(keys: Float64Array, from: number, to: number, ids: readonly string[], roles: readonly number[]): Int32Array {
  const order = new Int32Array(to - from);
  for (let i = from; i < to; i++) order[i - from] = keys[i]! % POS_SCALE;
  // Groups of equal prefixes, each put in order by the full comparison: small ones
  // (the two roles of one id, mostly) by insertion.
  const before = (a: number, b: number): boolean => (ids[a]! < ids[b]! ? true : ids[a]! > ids[b]! ? false : roles[a]! < roles[b]!);
  const prefixAt = (i: number): number => Math.floor(keys[from + i]! / POS_SCALE);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && prefixAt(end) === prefixAt(start)) end++;
    if (end - start > 16) {
      // Ids that share their first characters widely (a fixed prefix before a random
      // part): a comparison sort of the group, where insertion would be quadratic.
      const group = Array.from(order.subarray(start, end)).sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
      order.set(group, start);
    } else {
      for (let i = start + 1; i < end; i++) {
        const e = order[i]!;
        let j = i - 1;
        for (; j >= start && before(e, order[j]!); j--) order[j + 1] = order[j]!;
        order[j + 1] = e;
      }
    }
    start = end;
  }
  return order;
}

/**
 * The positions of (ids[i], roles[i]) in key order: id, then role.
 *
 * A comparator sort of 32,768 entries took tens of ms (a JS call and two strings
 * scattered over the heap per comparison). Instead each entry gets a number that
 * orders like its id's first characters, with its position in the low bits, and a
 * Float64Array sorts those natively; only ties on the prefix are compared in full.
 */
export function keyOrder(ids: readonly string[], roles: readonly number[]): Int32Array {
  if (ids.length > MAX_RUN) throw new RangeError(`keyOrder: ${ids.length} entries, at most ${MAX_RUN}`);
  // prefix < 2^35 and position < 2^18: every key is below 2^53, so exact.
  const keys = Float64Array.from(ids, (id, i) => prefixKey(id) * POS_SCALE + i);
  keys.sort();
  return orderRange(keys, 0, keys.length, ids, roles);
}

/**
 * Entries added since the last run started, in the order added (seq order), each
 * with its sort key worked out as it arrives, where the code is hot: doing that for
 * 32,768 entries at once, in code that runs once per run and so is never optimised,
 * took tens of ms inside one commit.
 */
class EntryLog {
  ids: string[] = [];
  roles: number[] = [];
  seqs: number[] = [];
  keys = new Float64Array(1024);

  get length(): number {
    return this.ids.length;
  }

  push(id: string, role: number, seq: number): void {
    const i = this.ids.length;
    if (i === this.keys.length) {
      const grown = new Float64Array(i * 2);
      grown.set(this.keys);
      this.keys = grown;
    }
    // Positions past MAX_RUN are given again when the log's head is taken (take()).
    this.keys[i] = prefixKey(id) * POS_SCALE + (i % POS_SCALE);
    this.ids.push(id);
    this.roles.push(role);
    this.seqs.push(seq);
  }

  /** The oldest entries, at most MAX_RUN, out of the log; their keys sorted. */
  take(): { ids: string[]; roles: number[]; seqs: number[]; keys: Float64Array } {
    const n = Math.min(this.ids.length, MAX_RUN);
    if (n === this.ids.length) {
      const all = { ids: this.ids, roles: this.roles, seqs: this.seqs, keys: this.keys.subarray(0, n).sort() };
      this.clear();
      return all;
    }
    // A backlog of more than one run (a restart after a long crash-free stretch, say): rare, so the rest's keys are made again.
    const head = { ids: this.ids.splice(0, n), roles: this.roles.splice(0, n), seqs: this.seqs.splice(0, n), keys: this.keys.slice(0, n).sort() };
    const rest = { ids: this.ids, roles: this.roles, seqs: this.seqs };
    this.clear();
    for (let i = 0; i < rest.ids.length; i++) this.push(rest.ids[i]!, rest.roles[i]!, rest.seqs[i]!);
    return head;
  }

  clear(): void {
    this.ids = [];
    this.roles = [];
    this.seqs = [];
    this.keys = new Float64Array(1024);
  }
}

export class IdIndex {
  // One map per role, keyed by the id string itself: a record's id is hashed once
  // (V8 keeps the hash in the string) for all of its lookups, where a composite
  // "id + role" key was a new string to build and hash at every call.
  private readonly recent: Map<string, number>[] = [new Map(), new Map(), new Map()];
  /** Which keys the table may hold: most new records then skip the table lookup. */
  private readonly inTable = new KeyFilter();
  private readonly stmt;
  /** The run being written: its entries, their key order, how many are written, its highest seq. */
  private run: Run | null = null;
  /** Entries not in a run yet. */
  private readonly log = new EntryLog();

  constructor(
    db: Database.Database,
    /** Entries held in memory before they are written as one sorted run. */
    readonly flushAt = 32_768,
    /** A run is written over this many write transactions (a slice each). */
    readonly slices = 64,
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
    this.log.clear();
    const mark = Number(this.stmt.mark.get(MARK) ?? 0);
    for (const r of this.stmt.unindexed.iterate(mark)) this.add(r.id, r.role, r.seq);
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
    const r = roleIndex(role);
    this.recent[r]!.set(id, seq);
    this.log.push(id, r, seq);
  }

  /**
   * Call inside a write transaction: starts a run when enough entries wait, or writes
   * the next slice of the run started. Sorting a run and writing its first slice are
   * two transactions' work, so that no one commit waits for both; each slice's tied
   * prefixes are put in order as it is written.
   */
  flushIfFull(): void {
    if (!this.run) {
      if (this.log.length >= this.flushAt) this.run = this.startRun();
      return;
    }
    const run = this.run;
    run.done = this.write(run, run.done, run.done + run.slice);
    if (run.done === run.ids.length) {
      this.stmt.setMark.run(MARK, String(run.maxSeq));
      this.run = null;
    }
  }

  /** Writes every entry in memory (the rest of the run started, then the log); call inside a write transaction. */
  flush(): void {
    if (this.run) this.writeRest(this.run);
    this.run = null;
    while (this.log.length > 0) this.writeRest(this.startRun());
  }

  private writeRest(run: Run): void {
    run.done = this.write(run, run.done, run.ids.length);
    this.stmt.setMark.run(MARK, String(run.maxSeq));
  }

  /** The log's oldest entries (all of them, up to MAX_RUN) as a run, its keys sorted. */
  private startRun(): Run {
    const { ids, roles, seqs, keys } = this.log.take();
    let maxSeq = 0;
    for (const seq of seqs) if (seq > maxSeq) maxSeq = seq;
    return { ids, roles, seqs, keys, done: 0, maxSeq, slice: Math.ceil(ids.length / this.slices) };
  }

  /**
   * A run's entries from `from` (in key order) into the table, then out of memory (the
   * filter learns them): up to `to`, or past it to the end of a group of tied prefixes,
   * which is put in its exact order here. Returns where it stopped.
   */
  private write(run: Run, from: number, to: number): number {
    const { ids, roles, seqs } = run;
    const end = groupEnd(run.keys, to);
    const order = orderRange(run.keys, from, end, ids, roles);
    const params: (string | number)[] = [];
    for (const e of order) {
      params.push(ids[e]!, ROLES[roles[e]!]!, seqs[e]!);
      if (params.length === ROWS_PER_INSERT * 3) {
        // Spread: better-sqlite3 binds an array argument element by element through a generic property read.
        this.stmt.insertMany.run(...params);
        params.length = 0;
      }
    }
    for (let i = 0; i < params.length; i += 3) this.stmt.insert.run(params[i], params[i + 1], params[i + 2]);
    for (const e of order) {
      const role = roles[e]!;
      this.inTable.add(ids[e]!, role);
      this.recent[role]!.delete(ids[e]!);
    }
    return end;
  }

  get pending(): number {
    return this.recent[0]!.size + this.recent[1]!.size + this.recent[2]!.size;
  }
}
