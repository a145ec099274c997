// The floor under the collector's ingest on this machine, measured on the very
// batches the ingest bench posts: (1) JSON parsing alone; (2) parsing and inserting
// every record into SQLite with better-sqlite3, one transaction per batch, with the
// collector's pragmas and its records table, but no validation, join, comparison,
// stats or HTTP. The collector's records/s are quoted as a ratio to these.
//
//   node --import tsx bench/collector/floor.ts [--records N] [--rounds R]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { benchArgs, count } from '../args.js';
import { percentile, table } from './common.js';
import { BATCH, batches } from './workload.js';

const { records: TOTAL, rounds: ROUNDS } = benchArgs({
  usage: '[--records N] [--rounds R]',
  flags: { records: count(200_000), rounds: count(3) },
});

interface Rec { id: string; role: string; route: string; status: number; latency_ms: number }

function parseOnly(bodies: string[]): { seconds: number; records: number; p99: number } {
  const lat: number[] = [];
  let records = 0;
  const t0 = performance.now();
  for (const b of bodies) {
    const s = performance.now();
    records += (JSON.parse(b) as unknown[]).length;
    lat.push(performance.now() - s);
  }
  return { seconds: (performance.now() - t0) / 1000, records, p99: percentile(lat.sort((a, b) => a - b), 0.99) };
}

function parseAndInsert(bodies: string[], file: string, synchronous: 'NORMAL' | 'FULL'): { seconds: number; records: number; p99: number } {
  const db = new Database(file);
  db.pragma('page_size = 4096');
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  // As the collector: no checkpoint (with its fsync) inside the ingest thread.
  db.pragma('wal_autocheckpoint = 50000');
  db.pragma('cache_size = -32768');
  db.exec(`CREATE TABLE records (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, role TEXT NOT NULL, route TEXT NOT NULL,
    status INTEGER NOT NULL, latency_ms REAL NOT NULL, arrival_ms INTEGER NOT NULL, record TEXT NOT NULL)`);
  const insert = db.prepare('INSERT INTO records (id, role, route, status, latency_ms, arrival_ms, record) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const batch = db.transaction((recs: Rec[], now: number) => {
    for (const r of recs) insert.run(r.id, r.role, r.route, r.status, r.latency_ms, now, JSON.stringify(r));
  });
  const lat: number[] = [];
  let records = 0;
  const t0 = performance.now();
  for (const b of bodies) {
    const s = performance.now();
    const recs = JSON.parse(b) as Rec[];
    batch(recs, Date.now());
    records += recs.length;
    lat.push(performance.now() - s);
  }
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  return { seconds, records, p99: percentile(lat.sort((a, b) => a - b), 0.99) };
}

const bodies = batches(TOTAL);
const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: (string | number)[][] = [];
for (const [label, run] of [
  ['JSON.parse of each batch alone', () => parseOnly(bodies)],
  ['JSON.parse + better-sqlite3 insert, one transaction per batch, WAL, synchronous=NORMAL', (dir: string) => parseAndInsert(bodies, join(dir, 'floor.db'), 'NORMAL')],
] as const) {
  const rates: number[] = [];
  const p99s: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-floor-'));
    try {
      const res = run(dir);
      rates.push(res.records / res.seconds);
      p99s.push(res.p99);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  rows.push([label, TOTAL, median(rates).toFixed(0), rates.map((x) => (x / 1000).toFixed(1)).join(' / '), median(p99s).toFixed(2)]);
}
console.log(`collector floor: the ingest bench's ${TOTAL} records in ${BATCH}-record batches, in this process (one thread), median of ${ROUNDS} rounds`);
console.log(table(['floor', 'records', 'records/s', 'all rounds, k/s', 'batch p99 ms'], rows));
if (process.env.BENCH_SUMMARY) writeFileSync(process.env.BENCH_SUMMARY, JSON.stringify(rows.map((r) => ({ floor: r[0], recordsPerSecond: Number(r[2]), batchP99Ms: Number(r[4]) }))));
