// Filter benchmark: microseconds and host calls per request for a whole mirrored
// lifecycle (request headers [+ body], response headers + body, log, the shadow
// call's answer, and the collector flush amortized), through the project's host
// (src/host/testing.ts). The same traffic runs through an equivalent filter built on
// the published AssemblyScript SDK (bench/sdk-baseline) for comparison, and through
// our filter on a route it ignores (the host's own floor).
//
//   npm run build:wasm && npm --prefix bench/sdk-baseline run build
//   node --import tsx bench/filter/run.ts [requests]
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { TestVM } from '../../src/host/testing.js';

const OURS = process.env.SHADOWMESH_WASM ?? fileURLToPath(new URL('../../build/shadowmesh.wasm', import.meta.url));
const SDK = fileURLToPath(new URL('../sdk-baseline/build/sdk_filter.wasm', import.meta.url));
const N = Number(process.argv[2] ?? 20000);
const WARMUP = Math.min(3000, N);

interface Scenario { name: string; wasm: string; config: unknown; method: 'GET' | 'POST'; path: string; sentMetric: string }
interface Result { name: string; usPerRequest: number; hostCallsPerRequest: number; recordsSent: number; failed: boolean }

const REQ_BODY = '{"features":[0.12,0.5,0.33,0.9],"model":"v2"}';
const RESP_BODY = '{"label":1,"score":0.8731,"version":"v1"}';

async function run(s: Scenario): Promise<Result> {
  const vm = await TestVM.start({ wasm: s.wasm, config: s.config, clusters: ['shadow', 'collector'], logLevel: 'info' });
  if (!vm.configured) throw new Error(`${s.name}: not configured: ${vm.rejection}`);
  let id = 0;
  const one = (): void => {
    const st = vm.stream();
    const body = s.method === 'POST';
    st.sendRequestHeaders([
      [':method', s.method], [':path', s.path], [':authority', 'model.default:8080'], [':scheme', 'http'],
      ['x-request-id', `bench-${id++}`], ['user-agent', 'bench/1.0'], ['accept', 'application/json'],
      ...(body ? [['content-type', 'application/json'], ['content-length', String(REQ_BODY.length)]] as [string, string][] : []),
    ], { endOfStream: !body });
    if (body) st.sendRequestBody(REQ_BODY, { endOfStream: true });
    st.sendResponseHeaders([[':status', '200'], ['content-type', 'application/json'], ['content-length', String(RESP_BODY.length)], ['x-envoy-upstream-service-time', '3']], { endOfStream: false });
    st.sendResponseBody(RESP_BODY, { endOfStream: true });
    st.complete();
    for (const c of vm.takeHttpCalls('shadow')) vm.respond(c, { status: 200, headers: [['content-type', 'application/json']], body: RESP_BODY });
    for (const c of vm.takeHttpCalls('collector')) vm.respond(c, { status: 200, body: '{}' });
  };
  for (let i = 0; i < WARMUP; i++) one();
  vm.advance(1000);
  for (const c of vm.takeHttpCalls('collector')) vm.respond(c, { status: 200 });
  vm.tick();
  const sentBefore = vm.metric(s.sentMetric) ?? 0;
  vm.resetHostCalls();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) one();
  const t1 = process.hrtime.bigint();
  const calls = vm.hostCalls;
  vm.tick(); // pushes the filter's counters (not part of the measured work)
  return {
    name: s.name,
    usPerRequest: Number(t1 - t0) / 1000 / N,
    hostCallsPerRequest: calls / N,
    recordsSent: (vm.metric(s.sentMetric) ?? 0) - sentBefore,
    failed: vm.failed,
  };
}

const M = 'shadowmesh_records_sent_total';
const scenarios: Scenario[] = [
  { name: 'shadowmesh, mirrored GET', wasm: OURS, config: { shadow_cluster: 'shadow' }, method: 'GET', path: '/predict?x=1', sentMetric: M },
  { name: 'shadowmesh, mirrored POST + body', wasm: OURS, config: { shadow_cluster: 'shadow' }, method: 'POST', path: '/predict', sentMetric: M },
  { name: 'shadowmesh, route miss (host floor)', wasm: OURS, config: { shadow_cluster: 'shadow', routes: [{ name: 'x', path_prefix: '/nothing' }] }, method: 'GET', path: '/predict', sentMetric: M },
];
if (existsSync(SDK)) {
  scenarios.push(
    { name: 'published SDK 0.1.8, mirrored GET', wasm: SDK, config: '', method: 'GET', path: '/predict?x=1', sentMetric: 'sdk_records_sent_total' },
    { name: 'published SDK 0.1.8, mirrored POST + body', wasm: SDK, config: '', method: 'POST', path: '/predict', sentMetric: 'sdk_records_sent_total' },
  );
} else {
  console.error(`(no ${SDK}: run npm install --prefix bench/sdk-baseline && npm --prefix bench/sdk-baseline run build)`);
}

// BENCH_ONLY=text runs only the scenarios whose name contains it (for profiling one side).
// Each scenario runs ROUNDS times, interleaved, and the fastest round is reported:
// on a shared machine other jobs only ever add time, so the best round is the
// closest to the filter's own cost.
const only = process.env.BENCH_ONLY;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const picked = scenarios.filter((s) => !only || s.name.includes(only));
const rounds = new Map<string, Result[]>(picked.map((s) => [s.name, []]));
for (let r = 0; r < ROUNDS; r++) for (const s of picked) rounds.get(s.name)!.push(await run(s));
const results: Result[] = picked.map((s) => {
  const rs = rounds.get(s.name)!.slice().sort((a, b) => a.usPerRequest - b.usPerRequest);
  return rs[0]!;
});

const pad = (s: string, n: number): string => s.padEnd(n);
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'} x${cpus().length}, ${N} requests per round (after ${WARMUP} warm-up), best of ${ROUNDS} rounds`);
console.log(`| ${pad('scenario', 42)} | µs/request | host calls/request | records sent (counter) |`);
console.log(`|${'-'.repeat(44)}|-----------:|-------------------:|-----------------------:|`);
for (const r of results) {
  console.log(`| ${pad(r.name + (r.failed ? ' (VM FAILED)' : ''), 42)} | ${r.usPerRequest.toFixed(2).padStart(10)} | ${r.hostCallsPerRequest.toFixed(2).padStart(18)} | ${String(r.recordsSent).padStart(22)} |`);
}
const ours = results.find((r) => r.name === 'shadowmesh, mirrored GET');
const floor = results.find((r) => r.name.includes('host floor'));
const sdk = results.find((r) => r.name === 'published SDK 0.1.8, mirrored GET');
if (ours && sdk) {
  console.log(`\nmirrored GET: published SDK / shadowmesh = ${(sdk.usPerRequest / ours.usPerRequest).toFixed(2)}x per request`);
  if (floor) {
    console.log(`above the host floor: published SDK ${(sdk.usPerRequest - floor.usPerRequest).toFixed(2)} µs, shadowmesh ${(ours.usPerRequest - floor.usPerRequest).toFixed(2)} µs` +
      ` → ${((sdk.usPerRequest - floor.usPerRequest) / (ours.usPerRequest - floor.usPerRequest)).toFixed(2)}x`);
  }
}
