// Every SQL statement the collector runs, prepared once.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import { Checkpointer } from './checkpointer.js';
import { IdIndex } from './id-index.js';
import { ReaderThread } from './reader-thread.js';
import { RowBatch } from './row-batch.js';
import type { PredictionSample } from '../compare/prediction.js';
import type { DistributionShift } from '../stats/score-distributions.js';
import type { PairPage, PairPageQuery } from './pair-pages.js';
import type { Role } from '../types.js';
import { SCHEMA_SQL, SCHEMA_VERSION } from './schema.js';
import { DECISION_TABLES_SQL } from './decision-tables.js';
import { DecisionStore } from './decision-store.js';
import { FeedbackStore } from './feedback-store.js';
import { NoiseStore } from './noise-store.js';
import { addMissingColumns } from './added-columns.js';

export type Synchronous = 'normal' | 'full';

export interface SideRow {
  seq: number;
  route: string;
  arrival_ms: number;
  record: string;
}

export interface PairRow {
  seq: number;
  prod_seq: number;
  shadow_seq: number;
  id: string;
  route: string;
  status_match: number;
  body_match: number;
  match: number;
  truncated: number;
  late: number;
  diffs: string;
  created_ms: number;
  compare_note: string | null;
}

export interface NewPair {
  prodSeq: number;
  shadowSeq: number;
  id: string;
  route: string;
  statusMatch: boolean;
  bodyMatch: boolean;
  match: boolean;
  truncated: boolean;
  late: boolean;
  diffs: string;
  createdMs: number;
  compareNote?: string | null;
}

export interface RecordScanRow {
  route: string;
  role: Role;
  status: number;
  latency_ms: number;
}

export interface LoneRow {
  id: string;
  role: Role;
  route: string;
  arrival_ms: number;
}

const b = (v: boolean): number => (v ? 1 : 0);

type PredictionRow = PredictionSample;

/** An error of SQLite itself (busy, full, I/O, constraint), not of the code calling it. */
export function isStorageError(err: unknown): boolean {
  return err instanceof Database.SqliteError;
}

/** The file was written by a collector with another table layout. */
export class SchemaError extends Error {}

export class Repository {
  readonly db: Database.Database;
  private readonly checkpointer: Checkpointer | null = null;
  private readonly ids: IdIndex;
  private readonly reader: ReaderThread;
  private readonly stmt;
  /**
   * New rows wait here until their transaction (or savepoint) ends, then go out in
   * multi-row INSERTs: records first, then pairs, predictions, excusable pairs (noise).
   */
  private readonly rows;
  /**
   * The seqs the next record and pair get, inside the current write transaction. The
   * collector is the file's only writer, so the rowid SQLite would pick (max + 1: no
   * AUTOINCREMENT) is known before the row is written; it is read from the tables at the
   * first insert of each transaction and forgotten when it ends or rolls back.
   */
  private nextSeq: { record: number; pair: number } | null = null;
  /** Nesting of transaction() and savepoint(): inserts are only allowed inside. */
  private depth = 0;
  /** Ground-truth labels, noise triples, last decisions and control (decision-tables.ts). */
  readonly feedback: FeedbackStore;
  readonly noise: NoiseStore;
  readonly decisions: DecisionStore;

  constructor(
    file: string,
    synchronous: Synchronous = 'normal',
    idFlushAt?: number,
    /** The checkpointer thread's pace (tests make it quick and the WAL short), and who hears its failures. */
    wal: { checkpointMs?: number; restartAtFrames?: number; onError?: (err: Error) => void; sqliteModule?: string } = {},
  ) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    if (file !== ':memory:') {
      // Correlation ids are random, so each insert dirties a random index page that
      // the commit writes whole: small pages keep that write small.
      this.db.pragma('page_size = 4096');
      this.db.pragma('journal_mode = WAL');
      // Checkpoints run on the checkpointer's thread; this one only steps in if the
      // WAL grows far beyond what that thread keeps up with.
      this.db.pragma('wal_autocheckpoint = 50000');
    }
    // WAL + NORMAL: a commit survives a crash of this process (kill -9); FULL also
    // survives power loss at the price of an fsync per batch.
    this.db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('cache_size = -32768');
    this.db.pragma('temp_store = MEMORY');
    this.db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    const found = this.db.prepare<[], string>("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get();
    if (found !== undefined && found !== String(SCHEMA_VERSION)) {
      this.db.close();
      throw new SchemaError(`${file}: database has schema version ${found}, this collector uses ${SCHEMA_VERSION}; use another --db file`);
    }
    this.db.exec(SCHEMA_SQL);
    this.db.exec(DECISION_TABLES_SQL);
    addMissingColumns(this.db);
    this.db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
    if (file !== ':memory:') this.checkpointer = new Checkpointer(file, wal.sqliteModule ?? createRequire(import.meta.url).resolve('better-sqlite3'), wal.checkpointMs, wal.restartAtFrames, wal.onError);

    const db = this.db;
    this.stmt = {
      maxSeqs: db.prepare<[], [number, number]>('SELECT (SELECT coalesce(max(seq), 0) FROM records), (SELECT coalesce(max(seq), 0) FROM pairs)').raw(),
      sideBySeq: db.prepare<[number], SideRow & { role: Role }>('SELECT seq, role, route, arrival_ms, record FROM records WHERE seq = ?'),
      pairByProdSeq: db.prepare<[number], PairRow>('SELECT * FROM pairs WHERE prod_seq = ?'),
      scanPredictions: db.prepare<[], { route: string } & PredictionRow>(
        'SELECT route, prod_label AS productionLabel, shadow_label AS shadowLabel, prod_score AS productionScore, shadow_score AS shadowScore FROM predictions ORDER BY pair_seq',
      ),
      scanRecords: db.prepare<[], RecordScanRow>('SELECT route, role, status, latency_ms FROM records'),
      scanPairs: db.prepare<[], PairRow>('SELECT * FROM pairs'),
      // Candidates only: a partner still in the id index's memory part is checked after.
      scanLone: db.prepare<[], LoneRow>(
        `SELECT r.id, r.role, r.route, r.arrival_ms FROM records r
         WHERE r.role <> 'baseline' AND NOT EXISTS (
           SELECT 1 FROM record_ids o
           WHERE o.id = r.id AND o.role = CASE r.role WHEN 'production' THEN 'shadow' ELSE 'production' END)
         ORDER BY r.arrival_ms, r.seq`,
      ),
    };
    this.rows = {
      records: new RowBatch(db, 'INSERT INTO records (seq, id, role, route, status, latency_ms, arrival_ms, record)', 8),
      pairs: new RowBatch(
        db,
        'INSERT INTO pairs (seq, prod_seq, shadow_seq, id, route, status_match, body_match, match, truncated, late, diffs, created_ms, compare_note)',
        13,
      ),
      predictions: new RowBatch(db, 'INSERT INTO predictions (pair_seq, route, prod_label, shadow_label, prod_score, shadow_score)', 6),
      excusable: new RowBatch(db, 'INSERT OR IGNORE INTO excusable_pairs (pair_seq, route, paths)', 3),
    };
    this.ids = new IdIndex(db, idFlushAt);
    this.feedback = new FeedbackStore(db);
    this.noise = new NoiseStore(db, (row) => {
      this.inWrite();
      this.rows.excusable.add(row);
    });
    this.decisions = new DecisionStore(db);
    this.reader = new ReaderThread(file, db);
  }

  /** The new row's seq, or null when (id, role) was already stored: the first copy wins. */
  insertRecord(id: string, role: Role, route: string, status: number, latencyMs: number, arrivalMs: number, json: string): number | null {
    if (this.ids.seqOf(id, role) !== undefined) return null;
    const seq = this.seqs().record++;
    this.rows.records.add([seq, id, role, route, status, latencyMs, arrivalMs, json]);
    this.ids.add(id, role, seq);
    return seq;
  }

  findSide(id: string, role: Role): SideRow | undefined {
    const seq = this.ids.seqOf(id, role);
    if (seq === undefined) return undefined;
    // Stored moments ago in this transaction: its row may still be waiting.
    if (this.nextSeq && seq >= this.nextSeq.record - this.rows.records.size) this.writeRows();
    return this.stmt.sideBySeq.get(seq);
  }

  sidesOf(id: string): { role: Role; route: string; record: string }[] {
    this.writeRows();
    const out: { role: Role; route: string; record: string }[] = [];
    for (const role of ['production', 'shadow', 'baseline'] as const) {
      const seq = this.ids.seqOf(id, role);
      const row = seq === undefined ? undefined : this.stmt.sideBySeq.get(seq);
      if (row) out.push({ role, route: row.route, record: row.record });
    }
    return out;
  }

  /** The new pair's seq. */
  insertPair(p: NewPair): number {
    const seq = this.seqs().pair++;
    this.rows.pairs.add([
      seq,
      p.prodSeq,
      p.shadowSeq,
      p.id, p.route, b(p.statusMatch), b(p.bodyMatch), b(p.match), b(p.truncated), b(p.late), p.diffs, p.createdMs,
      p.compareNote ?? null,
    ]);
    return seq;
  }

  pairById(id: string): PairRow | undefined {
    const prodSeq = this.ids.seqOf(id, 'production');
    if (prodSeq === undefined) return undefined;
    // Its pair (and prediction, which the caller may read next) may still be waiting.
    if (this.rows.pairs.size > 0) this.writeRows();
    return this.stmt.pairByProdSeq.get(prodSeq);
  }

  /** Pages of pairs, newest first; read on another thread when the database is a file. */
  pairPage(q: PairPageQuery): Promise<PairPage> {
    return this.reader.page(q);
  }

  /** PSI and KS of a route's stored score pairs (reader thread for a file). */
  scoreShift(route: string): Promise<DistributionShift> {
    return this.reader.shift(route);
  }

  insertPrediction(pairSeq: number, route: string, s: PredictionSample): void {
    this.inWrite();
    this.rows.predictions.add([pairSeq, route, s.productionLabel, s.shadowLabel, s.productionScore, s.shadowScore]);
  }

  /** The seq counters of this transaction, read from the tables at its first insert. */
  private seqs(): { record: number; pair: number } {
    if (this.nextSeq) return this.nextSeq;
    this.inWrite();
    const [records, pairs] = this.stmt.maxSeqs.get()!;
    return (this.nextSeq = { record: records + 1, pair: pairs + 1 });
  }

  /** Rows only wait inside transaction() or savepoint(), which write them before they end. */
  private inWrite(): void {
    if (this.depth === 0) throw new Error('Repository: rows are inserted only inside transaction()');
  }

  /** Writes every waiting row (in the current transaction). */
  private writeRows(): void {
    this.rows.records.write();
    this.rows.pairs.write();
    this.rows.predictions.write();
    this.rows.excusable.write();
  }

  private dropWaitingRows(): void {
    this.rows.records.drop();
    this.rows.pairs.drop();
    this.rows.predictions.drop();
    this.rows.excusable.drop();
  }

  scanPredictions(): IterableIterator<{ route: string } & PredictionRow> {
    return this.stmt.scanPredictions.iterate();
  }

  scanRecords(): IterableIterator<RecordScanRow> {
    return this.stmt.scanRecords.iterate();
  }

  scanPairs(): IterableIterator<PairRow> {
    return this.stmt.scanPairs.iterate();
  }

  *scanLone(): IterableIterator<LoneRow> {
    for (const r of this.stmt.scanLone.iterate()) {
      if (!this.ids.inRecent(r.id, r.role === 'production' ? 'shadow' : 'production')) yield r;
    }
  }

  /** Runs fn in one write transaction (and writes the id index's sorted run when due). */
  transaction<T>(fn: () => T): T {
    // Nested, this is a savepoint: rows of the enclosing scope go out before it, so
    // a rollback of this one drops only its own.
    if (this.depth > 0) this.writeRows();
    else if (this.checkpointer?.restartWanted) this.restartWal();
    this.depth++;
    try {
      // IMMEDIATE: the write lock is taken before the transaction's snapshot, so the
      // snapshot is never older than the last checkpoint (and the WAL can start over).
      return this.db.transaction(() => {
        const result = fn();
        this.writeRows();
        this.ids.flushIfFull();
        return result;
      }).immediate();
    } catch (err) {
      // Rolled back: its waiting rows are void and the seqs are read again. A slice of
      // the id run it wrote (and took out of memory) is gone from the table too, so the
      // index's memory part is read again from what stands.
      this.dropWaitingRows();
      this.nextSeq = null;
      this.ids.reload();
      throw err;
    } finally {
      if (--this.depth === 0) this.nextSeq = null;
    }
  }

  /**
   * Copies the WAL's last frames into the database file (the checkpointer thread has
   * copied the rest), so that the next transaction writes the WAL from its start.
   * Costs this thread a few hundred KB of page copies and two fsyncs, once per ~16 MiB
   * of WAL; a busy answer (the checkpointer is mid-pass) just waits for the next one.
   */
  private restartWal(): void {
    this.checkpointer!.restartWanted = false;
    this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  /** Runs fn inside the current transaction as a savepoint: undone alone when it throws. */
  savepoint<T>(fn: () => T): T {
    this.writeRows();
    // One wrapper made once: better-sqlite3 runs a transaction function called inside
    // another transaction as SAVEPOINT … RELEASE, or ROLLBACK TO on a throw.
    this.savepointRunner ??= this.db.transaction((f: () => unknown) => {
      const result = f();
      this.writeRows();
      return result;
    });
    this.depth++;
    try {
      return this.savepointRunner(fn) as T;
    } catch (err) {
      // Its rows are undone; its seqs are not handed out again: the id index still maps
      // its keys to them until the transaction ends, and must not find another row there.
      this.dropWaitingRows();
      throw err;
    } finally {
      if (--this.depth === 0) this.nextSeq = null;
    }
  }

  private savepointRunner: ((fn: () => unknown) => unknown) | undefined;

  /** After a rolled-back transaction: forget what it added in memory. */
  reloadIds(): void {
    this.ids.reload();
  }

  /** Stops the checkpointer, folds the WAL into the file and closes. */
  async close(): Promise<void> {
    if (!this.db.open) return;
    await this.reader.close();
    await this.checkpointer?.stop();
    // Spares the next start re-reading these records.
    this.db.transaction(() => this.ids.flush())();
    if (this.db.name !== ':memory:') this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }
}
