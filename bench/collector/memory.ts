// Memory of the collector with 1,000,000 sides that never find a partner: the
// pending cache is bounded by --max-pending, the window's counters by its length
// in milliseconds, and everything else lives in SQLite.
//
//   node --import tsx bench/collector/memory.ts [--sides N] [--max-pending P] [--runs 1|2]
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs, count } from '../args.js';
import { httpCall, rssMiB, startServer, table } from './common.js';

const {
  sides: SIDES,
  'max-pending': MAX_PENDING,
  runs: RUNS,
} = benchArgs({
  usage: '[--sides N] [--max-pending P] [--runs 1|2]',
  flags: {
    sides: count(1_000_000),
    'max-pending': { type: 'integer', default: 100_000 },
    // --runs 1: only the first run (all sides pending), as `npm run bench` does.
    runs: count(2),
  },
});
const SAMPLES = 10;
const BATCH = 1000;
const CONCURRENCY = 3;

function batch(start: number, prefix: string): string {
  const out: string[] = [];
  for (let i = start; i < Math.min(start + BATCH, SIDES); i++) {
    out.push(
      JSON.stringify({
        v: 1,
        id: createHash('md5').update(`${prefix}${i}`).digest('hex'),
        role: i % 2 ? 'shadow' : 'production',
        route: `route-${i % 8}`,
        method: 'GET',
        path: `/item/${i}`,
        status: 200,
        latency_ms: 3 + (i % 50),
        ts_ms: 1_763_900_000_000 + i,
        response_body: `{"item":${i},"price":${(i % 1000) / 10}}`,
      }),
    );
  }
  return '[' + out.join(',') + ']';
}

interface Health {
  join: { cachedPending: number; windowBuckets: number; lone: number };
  memory_mib: { rss: number; heap_used: number };
}

async function run(windowMs: number, label: string): Promise<(string | number)[][]> {
  const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-mem-'));
  const server = await startServer(['--db', join(dir, 'mem.db'), '--join-window-ms', String(windowMs), '--max-pending', String(MAX_PENDING)]);
  const pid = server.proc.pid!;
  const rows: (string | number)[][] = [];
  const sample = async (sent: number) => {
    const h = JSON.parse((await httpCall(server.url, 'GET', '/healthz')).text) as Health;
    const s = JSON.parse((await httpCall(server.url, 'GET', '/v1/stats')).text) as { total: { pending: number; unmatched_production: number; unmatched_shadow: number } };
    rows.push([label, sent, rssMiB(pid).toFixed(0), h.memory_mib.heap_used.toFixed(0), h.join.cachedPending, h.join.windowBuckets, s.total.pending, s.total.unmatched_production + s.total.unmatched_shadow]);
  };
  try {
    await sample(0);
    let next = 0;
    let sent = 0;
    let nextSample = SIDES / SAMPLES;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < SIDES) {
          const start = next;
          next += BATCH;
          const r = await httpCall(server.url, 'POST', '/v1/records', batch(start, label));
          if (r.status !== 200) throw new Error(`POST answered ${r.status}`);
          sent += (JSON.parse(r.text) as { accepted: number }).accepted;
          if (sent >= nextSample) {
            nextSample += SIDES / SAMPLES;
            await sample(sent);
          }
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    // Let short windows end so the sides count as unmatched.
    if (windowMs < 10_000) await new Promise((r) => setTimeout(r, windowMs + 1500));
    await sample(sent);
    console.error(`${label}: ${sent} sides in ${secs.toFixed(1)} s (${(sent / secs).toFixed(0)}/s)`);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

const rows = [...(await run(600_000, 'window 600 s (all pending)')), ...(RUNS > 1 ? await run(2_000, 'window 2 s (unmatched)') : [])];
console.log(`collector memory: ${SIDES} lone sides (no partner ever), --max-pending ${MAX_PENDING}, ${BATCH}-record batches, file DB`);
console.log(table(['run', 'sides sent', 'RSS MiB', 'JS heap used MiB', 'pending in memory', 'window buckets', 'stats pending', 'stats unmatched'], rows));
