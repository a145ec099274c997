// Ingest throughput of the collector: 64-record batches of ~1 KB records, every
// record joined, compared and persisted to a SQLite file. The collector runs as
// its own process (one Node.js thread = one core); this process only sends.
//
//   node --import tsx bench/collector/ingest.ts [--records N] [--concurrency C] [--rounds R]
//
// Ids are random hex (as the filter makes them: 128 random bits), so every insert
// lands on a random page of the (id, role) index; the "time-ordered ids" row shows
// the same load with ids that sort by arrival, for comparison.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, httpCall, percentile, startServer, table, type Server } from './common.js';

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
const BATCH = 64;
// e.g. SHADOWMESH_BENCH_NODE_ARGS=--cpu-prof to profile the collector process.
const nodeArgs = (process.env.SHADOWMESH_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

function body(i: number, shadow: boolean): string {
  const items = [];
  for (let k = 0; k < 8; k++) items.push({ sku: `sku-${(i * 7 + k) % 1000}`, score: ((i * 31 + k) % 997) / 997, rank: k, reason: 'similar-items' });
  // One pair in ten differs in one score: the comparison has real work to do.
  if (shadow && i % 10 === 0) items[2]!.score += 0.5;
  const meta = { region: 'eu-west-1', took_ms: i % 50 };
  // The shadow writes its keys in another order, so no body is byte-equal and every
  // pair takes the structural (parse and walk) path of the comparison.
  return shadow
    ? JSON.stringify({ meta, items, model: 'ranker', request_id: `req-${i}` })
    : JSON.stringify({ request_id: `req-${i}`, model: 'ranker', items, meta });
}

let orderedIds = false;
const idOf = (i: number): string =>
  orderedIds ? i.toString(16).padStart(32, '0') : createHash('md5').update(`bench-${i}`).digest('hex');

function record(i: number, role: 'production' | 'shadow'): string {
  return JSON.stringify({
    v: 1,
    id: idOf(i),
    role,
    route: i % 3 === 0 ? 'rank' : 'predict',
    method: 'POST',
    path: '/v1/rank?user=' + (i % 5000),
    status: 200,
    latency_ms: 5 + (i % 97) * (role === 'shadow' ? 1.2 : 1),
    ts_ms: 1_763_900_000_000 + i,
    response_headers: { 'content-type': 'application/json', 'x-served-by': role },
    response_body: body(i, role === 'shadow'),
    source: role === 'shadow' ? 'ranker-v2-7d9f' : 'ranker-v1-5c2a',
  });
}

/** Batch j: production sides of 32 new ids and shadow sides of the previous 32, so every record joins. */
function batches(total: number): string[] {
  const half = BATCH / 2;
  const out: string[] = [];
  const n = Math.ceil(total / BATCH);
  for (let j = 0; j < n; j++) {
    const recs: string[] = [];
    for (let k = 0; k < half; k++) recs.push(record(j * half + k, 'production'));
    for (let k = 0; k < half; k++) recs.push(record(Math.max(0, j - 1) * half + k + (j === 0 ? total : 0), 'shadow'));
    out.push('[' + recs.join(',') + ']');
  }
  return out;
}

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
  const allModes = [
    { sync: 'normal', queries: false, ordered: false },
    { sync: 'normal', queries: true, ordered: false },
    { sync: 'full', queries: false, ordered: false },
    { sync: 'normal', queries: false, ordered: true },
  ] as const;
  // SHADOWMESH_BENCH_MODES=0,2 runs only those rows (0-based).
  const modes = only ? allModes.filter((_, i) => only.includes(i)) : allModes;

  for (const mode of modes) {
    orderedIds = mode.ordered;
    const warm = batches(6400).map((b) => b.replace(/"id":"/g, '"id":"w'));
    const bodies = batches(TOTAL);
    avgRecord = bodies.reduce((s, b) => s + b.length, 0) / (bodies.length * BATCH);
    const rounds: { run: Run; pairs: number; qs: { stats: number[]; pairs: number[] } | null }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-bench-'));
      const server = await startServer(['--db', join(dir, 'bench.db'), '--sync', mode.sync, '--join-window-ms', '30000'], nodeArgs);
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
      `sync=${mode.sync}${mode.queries ? ' + queries' : ''}${mode.ordered ? ', time-ordered ids' : ', random ids'}`,
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
  console.log('\nqueries running back to back in one loop during the "+ queries" run:');
  console.log(table(['query', 'count', 'p50 ms', 'p99 ms'], queryRows));
}

await main();
