// Finds a record by (id, role) without paying a random index write per record.
//
// Correlation ids are random, so inserting each new record into an on-disk index
// keyed by id dirties a random page that the commit then writes out whole: several
// KiB of WAL per record, the largest cost of ingestion. Instead, new (id, role) →
// seq entries wait in a bounded in-memory map and reach the `record_ids` table in
// sorted runs, where neighbouring keys share pages. The map is derived data: after a
// crash it is rebuilt from the records stored after the last run (meta
// `ids_indexed_through`), so nothing depends on it surviving.
import type Database from 'better-sqlite3';
import type { Role } from '../types.js';
import { KeyFilter } from './key-filter.js';

const MARK = 'ids_indexed_through';
const key = (id: string, role: Role): string => `${id}\u0000${role}`;

export class IdIndex {
  private readonly recent = new Map<string, number>();
  /** Which keys the table may hold: most new records then skip the table lookup. */
  private readonly inTable = new KeyFilter();
  private readonly stmt;

  constructor(
    db: Database.Database,
    /** Entries held in memory before they are written as one sorted run. */
    readonly flushAt = 32_768,
  ) {
    this.stmt = {
      lookup: db.prepare<[string, string], number>('SELECT seq FROM record_ids WHERE id = ? AND role = ?').pluck(),
      insert: db.prepare('INSERT OR IGNORE INTO record_ids (id, role, seq) VALUES (?, ?, ?)'),
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

  /** Call inside a write transaction. */
  flushIfFull(): void {
    if (this.recent.size >= this.flushAt) this.flush();
  }

  /** Writes the in-memory entries as one sorted run; call inside a write transaction. */
  flush(): void {
    if (this.recent.size === 0) return;
    // Ids are ASCII (contract), so JS order equals SQLite's BINARY order.
    const keys = [...this.recent.keys()].sort();
    let maxSeq = 0;
    for (const k of keys) {
      const sep = k.indexOf('\u0000');
      const seq = this.recent.get(k)!;
      this.stmt.insert.run(k.slice(0, sep), k.slice(sep + 1), seq);
      this.inTable.add(k);
      if (seq > maxSeq) maxSeq = seq;
    }
    this.stmt.setMark.run(MARK, String(maxSeq));
    this.recent.clear();
  }

  get pending(): number {
    return this.recent.size;
  }
}
