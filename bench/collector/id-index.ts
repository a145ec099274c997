// The (id, role) index alone (store/id-index.ts), on a SQLite file with the collector's
// pragmas: groups of 128 records (64 ids, both roles) per write transaction, each
// record checked for a duplicate, added, and its partner looked up, as the joiner
// does. Prints the cost per entry and the longest transaction: a run being sorted or
// a slice being written lands inside one commit, and so in one batch's latency.
//
//   node --import tsx bench/collector/id-index.ts [--records N] [--rounds R] [--slices S]
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { benchArgs, count } from '../args.js';
import { IdIndex } from '../../src/collector/store/id-index.js';
import { SCHEMA_SQL } from '../../src/collector/store/schema.js';
import { percentile, table } from './common.js';

const { records: N, rounds: ROUNDS, slices: SLICES } = benchArgs({
  usage: '[--records N] [--rounds R] [--slices S]',
  flags: { records: count(160_000), rounds: count(3), slices: count(64) },
});
const GROUP = 128;
const ids = Array.from({ length: N / 2 }, (_, i) => createHash('md5').update(`bench-${i}`).digest('hex'));

function run(): { usPerEntry: number; p99: number; max: number } {
  const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-id-index-'));
  const db = new Database(join(dir, 'ids.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 50000');
    db.pragma('cache_size = -32768');
    db.exec(SCHEMA_SQL);
    const index = new IdIndex(db, 32_768, SLICES);
    const times: number[] = [];
    let seq = 0;
    const t0 = performance.now();
    for (let g = 0; g < N / GROUP; g++) {
      const s = performance.now();
      db.transaction(() => {
        for (let k = 0; k < GROUP; k++) {
          const id = ids[g * (GROUP / 2) + (k >> 1)]!;
          const role = k & 1 ? 'shadow' : 'production';
          if (index.seqOf(id, role) !== undefined) continue;
          index.add(id, role, ++seq);
          index.seqOf(id, role === 'shadow' ? 'production' : 'shadow');
        }
        index.flushIfFull();
      })();
      times.push(performance.now() - s);
    }
    const ms = performance.now() - t0;
    times.sort((a, b) => a - b);
    return { usPerEntry: (ms * 1000) / N, p99: percentile(times, 0.99), max: times[times.length - 1]! };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: (string | number)[][] = [];
for (let r = 0; r < ROUNDS; r++) {
  const x = run();
  rows.push([r + 1, x.usPerEntry.toFixed(2), x.p99.toFixed(2), x.max.toFixed(1)]);
}
console.log(`id index: ${N} entries in write transactions of ${GROUP}, runs of 32,768 written in ${SLICES} slices`);
console.log(table(['round', 'µs per entry (incl. its share of the commit)', 'transaction p99 ms', 'longest transaction ms'], rows));
