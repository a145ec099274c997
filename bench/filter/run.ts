// Filter benchmark: microseconds and host calls per request for a whole mirrored
// lifecycle (request headers [+ body], response headers + body, log, the shadow
// call's answer, and the collector flush amortized), through the project's host.
// The same traffic runs through an equivalent filter built on the published
// AssemblyScript SDK (bench/sdk-baseline) for comparison, and through our filter on a
// route it ignores (the host's own floor).
//
// Each scenario is driven two ways, both filters always through the same path:
// - "runtime": the host's runtime API (PluginHost / HttpStream), as the sidecar drives
//   it, with a minimal data plane (bytes as they come off a socket, calls answered
//   from a list);
// - "testvm": the test API (TestVM / TestStream), which also keeps what the tests
//   inspect (header copies, forwarded bodies, pending-call bookkeeping, text bodies).
//
//   npm run build:wasm && npm --prefix bench/sdk-baseline run build
//   node --import tsx bench/filter/run.ts [requests]
// Environment: BENCH_ONLY=text (scenarios whose name contains it), BENCH_DRIVER=runtime|testvm,
// BENCH_ROUNDS=n (default 5), SHADOWMESH_WASM=path, BENCH_JSON=file (every round's result, to
// combine several runs).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PluginHost, SharedStore, type HeaderList, type HostEnvironment, type HttpCallRequest, type HttpCallResult } from '../../src/host/index.js';
import { TestVM, VirtualClock } from '../../src/host/testing.js';
import wabtInit from 'wabt';

const OURS = process.env.SHADOWMESH_WASM ?? fileURLToPath(new URL('../../build/shadowmesh.wasm', import.meta.url));
const SDK = fileURLToPath(new URL('../sdk-baseline/build/sdk_filter.wasm', import.meta.url));
const N = Number(process.argv[2] ?? 20000);
const WARMUP = Math.min(3000, N);

type Driver = 'runtime' | 'testvm';
interface Scenario { name: string; wasm: string | Uint8Array; config: unknown; method: 'GET' | 'POST'; path: string; sentMetric: string }

/** The empty filter (every callback returns Continue), compiled from its text with wabt. */
async function emptyFilter(): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('empty-filter.wat', readFileSync(fileURLToPath(new URL('./empty-filter.wat', import.meta.url)), 'utf8'));
  try {
    return new Uint8Array(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
}
const wasmBytes = (w: string | Uint8Array): Uint8Array => (typeof w === 'string' ? new Uint8Array(readFileSync(w)) : w);
interface Result { usPerRequest: number; hostCallsPerRequest: number; recordsSent: number; failed: boolean }

// A 1 KB JSON request body (BENCH_REQ_BODY_BYTES changes its size).
const REQ_BODY_BYTES = Number(process.env.BENCH_REQ_BODY_BYTES ?? 1024);
const REQ_BODY = (() => {
  const head = '{"model":"v2","features":[';
  let nums = '';
  for (let i = 0; head.length + nums.length + 3 < REQ_BODY_BYTES; i++) nums += (nums ? ',' : '') + ((i * 37) % 100) / 100;
  return (head + nums + ']}').padEnd(REQ_BODY_BYTES, ' ');
})();
const RESP_BODY = '{"label":1,"score":0.8731,"version":"v1"}';

function requestHeaders(s: Scenario, id: number): HeaderList {
  const h: HeaderList = [
    [':method', s.method], [':path', s.path], [':authority', 'model.default:8080'], [':scheme', 'http'],
    ['x-request-id', `bench-${id}`], ['user-agent', 'bench/1.0'], ['accept', 'application/json'],
  ];
  if (s.method === 'POST') h.push(['content-type', 'application/json'], ['content-length', String(REQ_BODY.length)]);
  return h;
}

function responseHeaders(): HeaderList {
  return [[':status', '200'], ['content-type', 'application/json'], ['content-length', String(RESP_BODY.length)], ['x-envoy-upstream-service-time', '3']];
}

function configText(config: unknown): string {
  return typeof config === 'string' ? config : JSON.stringify(config);
}

/** Runs `one` WARMUP times, flushes, then N times measured; counts host calls and records sent. */
function measure(one: (id: number) => void, flush: () => void, hostCalls: () => number, resetHostCalls: () => void, sent: () => number, failed: () => boolean): Result {
  let id = 0;
  for (let i = 0; i < WARMUP; i++) one(id++);
  flush();
  const sentBefore = sent();
  resetHostCalls();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) one(id++);
  const t1 = process.hrtime.bigint();
  const calls = hostCalls();
  flush(); // pushes the filter's counters (not part of the measured work)
  return { usPerRequest: Number(t1 - t0) / 1000 / N, hostCallsPerRequest: calls / N, recordsSent: sent() - sentBefore, failed: failed() };
}

async function runTestVm(s: Scenario): Promise<Result> {
  const vm = await TestVM.start({ wasm: s.wasm, config: s.config, clusters: ['shadow', 'collector'], logLevel: 'info' });
  if (!vm.configured) throw new Error(`${s.name}: not configured: ${vm.rejection}`);
  const body = s.method === 'POST';
  const one = (id: number): void => {
    const st = vm.stream();
    st.sendRequestHeaders(requestHeaders(s, id), { endOfStream: !body });
    if (body) st.sendRequestBody(REQ_BODY, { endOfStream: true });
    st.sendResponseHeaders(responseHeaders(), { endOfStream: false });
    st.sendResponseBody(RESP_BODY, { endOfStream: true });
    st.complete();
    for (const c of vm.takeHttpCalls('shadow')) vm.respond(c, { status: 200, headers: [['content-type', 'application/json']], body: RESP_BODY });
    for (const c of vm.takeHttpCalls('collector')) vm.respond(c, { status: 200, body: '{}' });
  };
  const flush = (): void => {
    vm.advance(1000);
    for (const c of vm.takeHttpCalls('collector')) vm.respond(c, { status: 200 });
    vm.tick();
  };
  return measure(one, flush, () => vm.hostCalls, () => vm.resetHostCalls(), () => vm.metric(s.sentMetric) ?? 0, () => vm.failed);
}

const NO_CANCEL = { cancel(): void {} };

interface RuntimeRig { one: (id: number) => void; flush: () => void; plugin: PluginHost }

async function runRuntime(s: Scenario): Promise<Result> {
  const { one, flush, plugin } = await runtimeRig(s);
  return measure(one, flush, () => plugin.hostCalls, () => plugin.resetHostCalls(), () => plugin.metric(s.sentMetric) ?? 0, () => plugin.failed);
}

async function runtimeRig(s: Scenario): Promise<RuntimeRig> {
  const clock = new VirtualClock(1_700_000_000_000);
  const reqs: HttpCallRequest[] = [];
  const dones: ((r: HttpCallResult) => void)[] = [];
  const env: HostEnvironment = {
    clusters: { has: (n) => n === 'shadow' || n === 'collector' },
    httpCall(req, done) {
      reqs.push(req);
      dones.push(done);
      return NO_CANCEL;
    },
    clock,
    log() {},
    logLevel: 'info',
  };
  const plugin = await PluginHost.load(wasmBytes(s.wasm), {
    name: 'bench', rootId: '', vmId: '', configuration: configText(s.config), failOpen: true, env, store: new SharedStore(),
  });
  const info = { downstreamAddress: '127.0.0.1:40000', localAddress: '127.0.0.1:8080', protocol: 'HTTP/1.1' };
  const reqBody = Buffer.from(REQ_BODY);
  const respBody = Buffer.from(RESP_BODY);
  const collectorBody = Buffer.from('{}');
  const body = s.method === 'POST';
  const answer = (): void => {
    // As a data plane: each answer is a fresh header list parsed off the wire, the body bytes as read.
    for (let i = 0; i < reqs.length; i++) {
      const shadow = reqs[i]!.cluster === 'shadow';
      dones[i]!(shadow
        ? { headers: [[':status', '200'], ['content-type', 'application/json']], body: respBody, trailers: [] }
        : { headers: [[':status', '200']], body: collectorBody, trailers: [] });
    }
    reqs.length = 0;
    dones.length = 0;
  };
  const one = (id: number): void => {
    const st = plugin.newStream(info);
    st.onRequestHeaders(requestHeaders(s, id), !body);
    if (body) st.onRequestBody(reqBody, true);
    st.onResponseHeaders(responseHeaders(), false);
    st.onResponseBody(respBody, true);
    st.complete();
    answer();
  };
  const flush = (): void => {
    clock.advance(1000);
    answer();
    plugin.tick();
    answer();
  };
  return { one, flush, plugin };
}

/** The module's linear memory after `n` requests of a scenario (flushing as the tick would). */
async function memoryAfter(s: Scenario, n: number): Promise<{ startBytes: number; afterBytes: number; seconds: number; failed: boolean }> {
  const { one, flush, plugin } = await runtimeRig(s);
  const memory = plugin.moduleExports.memory as WebAssembly.Memory;
  one(0);
  flush();
  const startBytes = memory.buffer.byteLength;
  const t0 = performance.now();
  for (let i = 1; i <= n; i++) {
    one(i);
    if (i % 10_000 === 0) flush();
  }
  flush();
  return { startBytes, afterBytes: memory.buffer.byteLength, seconds: (performance.now() - t0) / 1000, failed: plugin.failed };
}

const M = 'shadowmesh_records_sent_total';
const scenarios: Scenario[] = [
  { name: 'shadowmesh, mirrored GET', wasm: OURS, config: { shadow_cluster: 'shadow' }, method: 'GET', path: '/predict?x=1', sentMetric: M },
  { name: 'shadowmesh, mirrored POST + body', wasm: OURS, config: { shadow_cluster: 'shadow' }, method: 'POST', path: '/predict', sentMetric: M },
  { name: 'shadowmesh, sampled-out GET', wasm: OURS, config: { shadow_cluster: 'shadow', sample_percent: 0 }, method: 'GET', path: '/predict?x=1', sentMetric: M },
  { name: 'shadowmesh, route miss (host floor)', wasm: OURS, config: { shadow_cluster: 'shadow', routes: [{ name: 'x', path_prefix: '/nothing' }] }, method: 'GET', path: '/predict', sentMetric: M },
  { name: 'empty filter GET (floor)', wasm: await emptyFilter(), config: '', method: 'GET', path: '/predict?x=1', sentMetric: M },
  { name: 'empty filter POST + body (floor)', wasm: await emptyFilter(), config: '', method: 'POST', path: '/predict', sentMetric: M },
];
if (existsSync(SDK)) {
  scenarios.push(
    { name: 'published SDK 0.1.8, mirrored GET', wasm: SDK, config: '', method: 'GET', path: '/predict?x=1', sentMetric: 'sdk_records_sent_total' },
    { name: 'published SDK 0.1.8, mirrored POST + body', wasm: SDK, config: '', method: 'POST', path: '/predict', sentMetric: 'sdk_records_sent_total' },
  );
} else {
  console.error(`(no ${SDK}: run npm install --prefix bench/sdk-baseline && npm --prefix bench/sdk-baseline run build)`);
}

// Each scenario runs ROUNDS times per driver, interleaved; the table shows the median round
// (the machine is shared and noisy) and the fastest one.
const only = process.env.BENCH_ONLY;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const drivers: Driver[] = process.env.BENCH_DRIVER ? [process.env.BENCH_DRIVER as Driver] : ['runtime', 'testvm'];
const picked = scenarios.filter((s) => !only || s.name.includes(only));
const rounds = new Map<string, Result[]>();
const key = (d: Driver, s: Scenario): string => `${d}\u0000${s.name}`;
for (let r = 0; r < ROUNDS; r++) {
  for (const d of drivers) {
    for (const s of picked) {
      const res = d === 'runtime' ? await runRuntime(s) : await runTestVm(s);
      const list = rounds.get(key(d, s)) ?? [];
      list.push(res);
      rounds.set(key(d, s), list);
    }
  }
}

if (process.env.BENCH_JSON) {
  const raw = drivers.flatMap((d) => picked.map((s) => ({ driver: d, scenario: s.name, rounds: rounds.get(key(d, s))! })));
  writeFileSync(process.env.BENCH_JSON, JSON.stringify({ node: process.version, requests: N, raw }, null, 1));
}

const pad = (s: string, n: number): string => s.padEnd(n);
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'} x${cpus().length}, ${N} requests per round (after ${WARMUP} warm-up), ${ROUNDS} rounds; median (fastest)`);
for (const d of drivers) {
  const label = d === 'runtime' ? 'runtime API (PluginHost/HttpStream, as the sidecar)' : 'test API (TestVM/TestStream)';
  console.log(`\n${label}`);
  console.log(`| ${pad('scenario', 42)} | µs/request, median (fastest) | host calls/request | records sent (counter) |`);
  console.log(`|${'-'.repeat(44)}|-----------------------------:|-------------------:|-----------------------:|`);
  const med = new Map<string, number>();
  for (const s of picked) {
    const rs = rounds.get(key(d, s))!.slice().sort((a, b) => a.usPerRequest - b.usPerRequest);
    const m = rs[Math.floor((rs.length - 1) / 2)]!;
    med.set(s.name, m.usPerRequest);
    const failed = rs.some((r) => r.failed);
    const cell = `${m.usPerRequest.toFixed(2)} (${rs[0]!.usPerRequest.toFixed(2)})`;
    console.log(`| ${pad(s.name + (failed ? ' (VM FAILED)' : ''), 42)} | ${cell.padStart(28)} | ${m.hostCallsPerRequest.toFixed(2).padStart(18)} | ${String(m.recordsSent).padStart(22)} |`);
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

const MEMORY_REQUESTS = Number(process.env.BENCH_MEMORY_REQUESTS ?? 0);
if (MEMORY_REQUESTS > 0) {
  console.log(`\nwasm linear memory over ${MEMORY_REQUESTS.toLocaleString('en')} requests (runtime API, collector answered, a tick every 10,000 requests)`);
  console.log('| scenario | memory after 1 request | memory after all | seconds |');
  console.log('|---|---:|---:|---:|');
  for (const s of scenarios.filter((x) => x.wasm === OURS && !x.name.includes('route miss'))) {
    const m = await memoryAfter(s, MEMORY_REQUESTS);
    const kib = (b: number): string => `${(b / 1024).toFixed(0)} KiB`;
    console.log(`| ${s.name}${m.failed ? ' (VM FAILED)' : ''} | ${kib(m.startBytes)} | ${kib(m.afterBytes)} | ${m.seconds.toFixed(1)} |`);
  }
}
