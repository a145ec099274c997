// Filter benchmark: microseconds and host calls per request for a whole mirrored
// lifecycle (request headers [+ body], response headers + body, log, the shadow
// call's answer, and the collector flush amortized), through the project's host.
// The same traffic runs through an equivalent filter built on the published
// AssemblyScript SDK (bench/sdk-baseline) for comparison, and through our filter on a
// route it ignores (the host's own floor). The pieces are in rig.ts.
//
// Each scenario is driven two ways, both filters always through the same path:
// - "runtime": the host's runtime API (PluginHost / HttpStream), as the sidecar drives
//   it, with a minimal data plane (bytes as they come off a socket, calls answered
//   from a list);
// - "testvm": the test API (TestVM / TestStream), which also keeps what the tests
//   inspect (header copies, forwarded bodies, pending-call bookkeeping, text bodies).
//
// The SDK's rows cost 180-690 µs a request, 8-20x ours: they run a tenth of the requests
// (BENCH_SDK_REQUESTS), which is still thousands per round; the table compares medians
// per request, so the counts need not match.
//
//   npm run build:wasm && npm --prefix bench/sdk-baseline run build
//   node --import tsx bench/filter/run.ts [requests]
// Environment: BENCH_ONLY=text (scenarios whose name contains it), BENCH_DRIVER=runtime|testvm,
// BENCH_ROUNDS=n (default 5), BENCH_SDK_REQUESTS=n (default requests / 10),
// BENCH_MEMORY_REQUESTS=n (the wasm-memory check, off by default), SHADOWMESH_WASM=path,
// BENCH_JSON=file (every round's result, to combine several runs).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchArgs, numberArg, UsageError } from '../args.js';
import { memoryScenarios, runRuntime, runTestVm, scenarios, type Count, type Driver, type MemoryResult, type Result, type Scenario } from './rig.js';

const { positionals: N } = benchArgs({
  usage: '[REQUESTS] (20000 unless given; the rest is set by environment variables, see the top of this file)',
  flags: {},
  positionals: (p) => {
    if (p.length > 1) throw new UsageError(`one number of requests at most, not ${p.length} arguments`);
    return p[0] === undefined ? 20000 : numberArg('REQUESTS', p[0], 'integer', 1);
  },
});
const SDK_N = Number(process.env.BENCH_SDK_REQUESTS ?? Math.max(1, Math.round(N / 10)));
// A quarter of a round, at most 3,000, warms the JIT up first (wasm tiers up within hundreds).
const warm = (n: number): number => Math.min(3000, Math.ceil(n / 4));
const count = (s: Scenario): Count => {
  const requests = s.sdk ? SDK_N : N;
  return { requests, warmup: warm(requests) };
};

// Each scenario runs ROUNDS times per driver, interleaved; the table shows the median round
// (the machine is shared and noisy) and the fastest one.
const only = process.env.BENCH_ONLY;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const drivers: Driver[] = process.env.BENCH_DRIVER ? [process.env.BENCH_DRIVER as Driver] : ['runtime', 'testvm'];
const all = await scenarios();
const picked = all.filter((s) => !only || s.name.includes(only));
const rounds = new Map<string, Result[]>();
const key = (d: Driver, s: Scenario): string => `${d}\u0000${s.name}`;
for (let r = 0; r < ROUNDS; r++) {
  for (const d of drivers) {
    for (const s of picked) {
      const res = d === 'runtime' ? await runRuntime(s, count(s)) : await runTestVm(s, count(s));
      const list = rounds.get(key(d, s)) ?? [];
      list.push(res);
      rounds.set(key(d, s), list);
    }
  }
}

if (process.env.BENCH_JSON) {
  const raw = drivers.flatMap((d) => picked.map((s) => ({ driver: d, scenario: s.name, rounds: rounds.get(key(d, s))! })));
  writeFileSync(process.env.BENCH_JSON, JSON.stringify({ node: process.version, requests: N, sdkRequests: SDK_N, raw }, null, 1));
}

const pad = (s: string, n: number): string => s.padEnd(n);
console.log(
  `node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'} x${cpus().length}, ${ROUNDS} rounds; per round ${N} requests (after ${warm(N)} warm-up), ` +
    `the published SDK's rows ${SDK_N} (after ${warm(SDK_N)}); median (fastest)`,
);
for (const d of drivers) {
  const label = d === 'runtime' ? 'runtime API (PluginHost/HttpStream, as the sidecar)' : 'test API (TestVM/TestStream)';
  console.log(`\n${label}`);
  console.log(`| ${pad('scenario', 42)} | requests/round | µs/request, median (fastest) | host calls/request | records sent (counter) |`);
  console.log(`|${'-'.repeat(44)}|---------------:|-----------------------------:|-------------------:|-----------------------:|`);
  const med = new Map<string, number>();
  for (const s of picked) {
    const rs = rounds.get(key(d, s))!.slice().sort((a, b) => a.usPerRequest - b.usPerRequest);
    const m = rs[Math.floor((rs.length - 1) / 2)]!;
    med.set(s.name, m.usPerRequest);
    const failed = rs.some((r) => r.failed);
    const cell = `${m.usPerRequest.toFixed(2)} (${rs[0]!.usPerRequest.toFixed(2)})`;
    console.log(
      `| ${pad(s.name + (failed ? ' (VM FAILED)' : ''), 42)} | ${String(m.requests).padStart(14)} | ${cell.padStart(28)} | ${m.hostCallsPerRequest.toFixed(2).padStart(18)} | ${String(m.recordsSent).padStart(22)} |`,
    );
  }
  const ours = med.get('shadowmesh, mirrored GET');
  const floor = med.get('shadowmesh, route miss (host floor)');
  const sdk = med.get('published SDK 0.1.8, mirrored GET');
  const oursPost = med.get('shadowmesh, mirrored POST + body');
  const sdkPost = med.get('published SDK 0.1.8, mirrored POST + body');
  if (ours !== undefined && sdk !== undefined) {
    console.log(`mirrored GET: published SDK / shadowmesh = ${(sdk / ours).toFixed(2)}x per request (medians)`);
    if (oursPost !== undefined && sdkPost !== undefined) console.log(`mirrored POST: published SDK / shadowmesh = ${(sdkPost / oursPost).toFixed(2)}x per request (medians)`);
    if (floor !== undefined) {
      console.log(`above the host floor: published SDK ${(sdk - floor).toFixed(2)} µs, shadowmesh ${(ours - floor).toFixed(2)} µs → ${((sdk - floor) / (ours - floor)).toFixed(2)}x`);
    }
  }
}

/** One scenario's memory check in its own process (bench/filter/memory.ts). */
function memoryCheck(s: Scenario, n: number): Promise<MemoryResult> {
  return new Promise((resolve, reject) => {
    const script = fileURLToPath(new URL('./memory.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, s.name, String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`memory check of ${s.name} exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as MemoryResult);
      } catch (err) {
        reject(new Error(`memory check of ${s.name} printed no result: ${(err as Error).message}`));
      }
    });
  });
}

/** Runs `jobs` with at most `width` at a time, results in the jobs' order. */
async function pooled<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, lane));
  return results;
}

// The memory check runs after every timed round (it never shares the machine with them);
// its scenarios are independent, so they run side by side, one process each, the longest
// first, as many at once as there are cores: the wall time is that of the longest one.
const MEMORY_REQUESTS = Number(process.env.BENCH_MEMORY_REQUESTS ?? 0);
if (MEMORY_REQUESTS > 0) {
  const checked = memoryScenarios(all);
  const longestFirst = checked.slice().sort((a, b) => Number(b.method === 'POST') - Number(a.method === 'POST'));
  const width = Math.max(1, cpus().length);
  const t0 = performance.now();
  const results = await pooled(longestFirst.map((s) => () => memoryCheck(s, MEMORY_REQUESTS)), width);
  const wall = (performance.now() - t0) / 1000;
  console.log(
    `\nwasm linear memory over ${MEMORY_REQUESTS.toLocaleString('en')} requests per scenario (runtime API, lean headers, collector answered, a tick every 10,000 requests; ` +
      `${checked.length} processes, ${Math.min(width, checked.length)} at a time: ${wall.toFixed(1)} s)`,
  );
  console.log('| scenario | memory after 1 request | memory after all | records sent | seconds |');
  console.log('|---|---:|---:|---:|---:|');
  const kib = (b: number): string => `${(b / 1024).toFixed(0)} KiB`;
  for (const s of checked) {
    const m = results[longestFirst.indexOf(s)]!;
    console.log(`| ${s.name}${m.failed ? ' (VM FAILED)' : ''} | ${kib(m.startBytes)} | ${kib(m.afterBytes)} | ${m.recordsSent} | ${m.seconds.toFixed(1)} |`);
  }
}
