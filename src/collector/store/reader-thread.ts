// Read-only work that can take long — pair pages, score distributions — done on a
// reader thread for a database file (in-thread for :memory:), so it never holds
// up ingestion.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { scoreShift, type DistributionShift } from '../stats/score-distributions.js';
import { makePairPager, type PairPage, type PairPageQuery } from './pair-pages.js';
import { makeShiftReader } from './score-samples.js';
import { nameThisThreadSource } from '../thread-name.js';

// The reader thread: its own read-only connection sees every committed batch (WAL
// readers and the writer never block each other).
const workerSource = (): string => `
${nameThisThreadSource('sm-reader')}
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
var __name = (f) => f; // in case the transpiler named functions
const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
const page = (${makePairPager.toString()})(db);
const shift = (${makeShiftReader.toString()})(db, ${scoreShift.toString()});
parentPort.on('message', (m) => {
  try { parentPort.postMessage({ id: m.id, result: m.kind === 'page' ? page(m.query) : shift(m.route) }); }
  catch (err) { parentPort.postMessage({ id: m.id, error: String(err) }); }
});
`;

type Pending = { resolve: (r: unknown) => void; reject: (e: Error) => void };

export class ReaderThread {
  private worker: Worker | null = null;
  private readonly inThread: { page: (q: PairPageQuery) => PairPage; shift: (route: string) => DistributionShift } | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(file: string, db: Database.Database) {
    if (file === ':memory:') {
      this.inThread = { page: makePairPager(db), shift: makeShiftReader(db, scoreShift) };
      return;
    }
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(workerSource(), { eval: true, workerData: { file, sqlite } });
    worker.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', () => {
      this.worker = null;
      this.failAll(new Error('reader thread stopped'));
    });
    worker.unref();
    this.worker = worker;
  }

  page(query: PairPageQuery): Promise<PairPage> {
    if (this.inThread) return Promise.resolve(this.inThread.page(query));
    return this.ask({ kind: 'page', query }) as Promise<PairPage>;
  }

  /** PSI and KS of a route's production vs shadow scores. */
  shift(route: string): Promise<DistributionShift> {
    if (this.inThread) return Promise.resolve(this.inThread.shift(route));
    return this.ask({ kind: 'shift', route }) as Promise<DistributionShift>;
  }

  private ask(message: { kind: 'page'; query: PairPageQuery } | { kind: 'shift'; route: string }): Promise<unknown> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error('reader thread is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...message });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
