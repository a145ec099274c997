// Ingest throughput of the collector: 64-record batches of ~1 KB records, every
// record joined, compared and persisted to a SQLite file. The collector runs as
// its own process (one Node.js thread = one core); this process only sends.
//
//   node --import tsx bench/collector/ingest.ts [--records N] [--concurrency C] [--rounds R]
//
// Ids are random hex (as the filter makes them: 128 random bits), so every insert
// lands on a random page of the (id, role) index; the "time-ordered ids" row shows
// the same load with ids that sort by arrival, for comparison.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, httpCall, percentile, startServer, table, type Server } from './common.js';
import { BATCH, batches, setOrderedIds } from './workload.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const TOTAL = arg('--records', 200_000);
const CONCURRENCY = arg('--concurrency', 4);
// The machine is shared: each mode runs this many times (fresh database each
// time) and the round with the median wall throughput is reported.
const ROUNDS = arg('--rounds', 3);
// e.g. SHADOWMESH_BENCH_NODE_ARGS=--cpu-prof to profile the collector process.
const nodeArgs = (process.env.SHADOWMESH_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

interface Run {
  records: number;
  seconds: number;
  cpu: number;
  mainCpu: number;
  latencies: number[];
}

async function drive(server: Server, bodies: string[]): Promise<Run> {
  const pid = server.proc.pid!;
  const latencies: number[] = [];
  let next = 0;
  let records = 0;
  const cpu0 = cpuSeconds(pid);
  const main0 = cpuSeconds(pid, true);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < bodies.length) {
        const b = bodies[next++]!;
        const s = performance.now();
        const r = await httpCall(server.url, 'POST', '/v1/records', b);
        latencies.push(performance.now() - s);
        if (r.status !== 200) throw new Error(`POST answered ${r.status}: ${r.text.slice(0, 200)}`);
        const ans = JSON.parse(r.text) as { accepted: number; rejected: number };
        if (ans.rejected) throw new Error(`rejected: ${r.text.slice(0, 300)}`);
        records += ans.accepted;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { records, seconds, cpu: cpuSeconds(pid) - cpu0, mainCpu: cpuSeconds(pid, true) - main0, latencies: latencies.sort((a, b) => a - b) };
}

/** Runs queries in a loop until stopped; returns their latencies. */
function queryLoop(server: Server): { stop: () => Promise<{ stats: number[]; pairs: number[] }> } {
  let running = true;
  const stats: number[] = [];
  const pairs: number[] = [];
  const loop = (async () => {
    while (running) {
      let s = performance.now();
      await httpCall(server.url, 'GET', '/v1/stats');
      stats.push(performance.now() - s);
      s = performance.now();
      const r = await httpCall(server.url, 'GET', '/v1/pairs?limit=500&mismatch=true');
      pairs.push(performance.now() - s);
      if (r.status !== 200) throw new Error(`pairs answered ${r.status}`);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { stats: stats.sort((a, b) => a - b), pairs: pairs.sort((a, b) => a - b) };
    },
  };
}

const fmt = (n: number, d = 1) => n.toFixed(d);

async function main(): Promise<void> {
  const rows: (string | number)[][] = [];
  const queryRows: (string | number)[][] = [];
  let avgRecord = 0;
  const only = process.env.SHADOWMESH_BENCH_MODES?.split(',').map(Number);
  const allModes: { sync: 'normal' | 'full'; queries: boolean; ordered: boolean; memory?: boolean }[] = [
    { sync: 'normal', queries: false, ordered: false },
    { sync: 'normal', queries: true, ordered: false },
    { sync: 'full', queries: false, ordered: false },
    { sync: 'normal', queries: false, ordered: true },
    // No persistence: the same collector on an in-memory database.
    { sync: 'normal', queries: false, ordered: false, memory: true },
  ];
  // SHADOWMESH_BENCH_MODES=0,2 runs only those rows (0-based).
  const modes = only ? allModes.filter((_, i) => only.includes(i)) : allModes;

  for (const mode of modes) {
    setOrderedIds(mode.ordered);
    const warm = batches(6400).map((b) => b.replace(/"id":"/g, '"id":"w'));
    const bodies = batches(TOTAL);
    avgRecord = bodies.reduce((s, b) => s + b.length, 0) / (bodies.length * BATCH);
    const rounds: { run: Run; pairs: number; qs: { stats: number[]; pairs: number[] } | null }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-bench-'));
      const db = mode.memory ? ':memory:' : join(dir, 'bench.db');
      const server = await startServer(['--db', db, '--sync', mode.sync, '--join-window-ms', '30000'], nodeArgs);
      try {
        // Warm-up: JIT and SQLite pages; not measured.
        await drive(server, warm);
        const q = mode.queries ? queryLoop(server) : null;
        const run = await drive(server, bodies);
        const qs = q ? await q.stop() : null;
        const stats = JSON.parse((await httpCall(server.url, 'GET', '/v1/stats')).text) as { total: { pairs: number } };
        rounds.push({ run, pairs: stats.total.pairs, qs });
      } finally {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }
    rounds.sort((a, b) => a.run.records / a.run.seconds - b.run.records / b.run.seconds);
    const { run, pairs, qs } = rounds[Math.floor(rounds.length / 2)]!;
    rows.push([
      mode.memory ? ':memory: (no persistence), random ids' : `file, sync=${mode.sync}${mode.queries ? ' + queries' : ''}${mode.ordered ? ', time-ordered ids' : ', random ids'}`,
      run.records,
      fmt(run.records / run.seconds, 0),
      rounds.map((r) => fmt(r.run.records / r.run.seconds / 1000, 1)).join(' / '),
      fmt(run.records / run.cpu, 0),
      fmt(run.records / run.mainCpu, 0),
      fmt(run.cpu / run.seconds, 2),
      fmt(percentile(run.latencies, 0.5), 2),
      fmt(percentile(run.latencies, 0.99), 2),
      fmt(run.latencies[run.latencies.length - 1]!, 2),
      pairs,
    ]);
    if (qs) {
      queryRows.push(['GET /v1/stats', qs.stats.length, fmt(percentile(qs.stats, 0.5), 2), fmt(percentile(qs.stats, 0.99), 2)]);
      queryRows.push(['GET /v1/pairs?limit=500&mismatch=true', qs.pairs.length, fmt(percentile(qs.pairs, 0.5), 2), fmt(percentile(qs.pairs, 0.99), 2)]);
    }
  }
  console.log(
    `collector ingest: ${TOTAL} records in ${BATCH}-record batches, ~${Math.round(avgRecord)} B/record, ${CONCURRENCY} requests in flight, file DB (WAL); median of ${ROUNDS} rounds`,
  );
  console.log(
    table(
      ['mode', 'records', 'records/s (wall)', 'all rounds, k/s', 'per server CPU-s (all threads)', 'per main-thread CPU-s', 'server cores used', 'batch p50 ms', 'batch p99 ms', 'batch max ms', 'pairs (incl. warm-up)'],
      rows,
    ),
  );
  if (queryRows.length > 0) {
    console.log('\nqueries running back to back in one loop during the "+ queries" run:');
    console.log(table(['query', 'count', 'p50 ms', 'p99 ms'], queryRows));
  }
  // BENCH_SUMMARY=file: the median rows as JSON, for bench/all.ts to quote ratios.
  if (process.env.BENCH_SUMMARY) writeFileSync(process.env.BENCH_SUMMARY, JSON.stringify(rows.map((r) => ({ mode: r[0], recordsPerSecond: Number(r[2]), batchP99Ms: Number(r[8]) }))));
}

await main();
