// The filter bench's pieces, shared by the timing run (run.ts) and the wasm-memory
// check (memory.ts, one process per scenario): the scenarios, the traffic, and the two
// ways of driving a filter ("runtime": PluginHost/HttpStream as the sidecar drives it,
// with a minimal data plane; "testvm": TestVM/TestStream, which also keeps what the
// tests inspect).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PluginHost, SharedStore, type HeaderList, type HostEnvironment, type HttpCallRequest, type HttpCallResult } from '../../src/host/index.js';
import { TestVM, VirtualClock } from '../../src/host/testing.js';
import wabtInit from 'wabt';

export const OURS = process.env.SHADOWMESH_WASM ?? fileURLToPath(new URL('../../build/shadowmesh.wasm', import.meta.url));
export const SDK = fileURLToPath(new URL('../sdk-baseline/build/sdk_filter.wasm', import.meta.url));

export type Driver = 'runtime' | 'testvm';
export interface Scenario {
  name: string;
  wasm: string | Uint8Array;
  config: unknown;
  method: 'GET' | 'POST';
  path: string;
  sentMetric: string;
  /** The published SDK's rows: ~10-30x slower per request, so they run fewer requests (medians per request compare all the same). */
  sdk: boolean;
}
export interface Result { requests: number; usPerRequest: number; hostCallsPerRequest: number; recordsSent: number; failed: boolean }

/** How many requests a round runs, and how many before it to warm the JIT up. */
export interface Count { requests: number; warmup: number }

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

// A 1 KB JSON request body (BENCH_REQ_BODY_BYTES changes its size).
const REQ_BODY_BYTES = Number(process.env.BENCH_REQ_BODY_BYTES ?? 1024);
const REQ_BODY = (() => {
  const head = '{"model":"v2","features":[';
  let nums = '';
  for (let i = 0; head.length + nums.length + 3 < REQ_BODY_BYTES; i++) nums += (nums ? ',' : '') + ((i * 37) % 100) / 100;
  return (head + nums + ']}').padEnd(REQ_BODY_BYTES, ' ');
})();
const RESP_BODY = '{"label":1,"score":0.8731,"version":"v1"}';

/**
 * A request's headers as a client sends them; `lean` keeps only what the filter's path
 * needs (pseudo-headers, the request id, the body's type and length), for the memory
 * check, where each header is only host work copied in and out again.
 */
function requestHeaders(s: Scenario, id: number, lean = false): HeaderList {
  const h: HeaderList = [[':method', s.method], [':path', s.path], [':authority', 'model.default:8080']];
  if (!lean) h.push([':scheme', 'http']);
  h.push(['x-request-id', `bench-${id}`]);
  if (!lean) h.push(['user-agent', 'bench/1.0'], ['accept', 'application/json']);
  if (s.method === 'POST') h.push(['content-type', 'application/json'], ['content-length', String(REQ_BODY.length)]);
  return h;
}

function responseHeaders(lean = false): HeaderList {
  const h: HeaderList = [[':status', '200'], ['content-type', 'application/json'], ['content-length', String(RESP_BODY.length)]];
  if (!lean) h.push(['x-envoy-upstream-service-time', '3']);
  return h;
}

function configText(config: unknown): string {
  return typeof config === 'string' ? config : JSON.stringify(config);
}

/** Runs `one` c.warmup times, flushes, then c.requests times measured; counts host calls and records sent. */
function measure(c: Count, one: (id: number) => void, flush: () => void, hostCalls: () => number, resetHostCalls: () => void, sent: () => number, failed: () => boolean): Result {
  let id = 0;
  for (let i = 0; i < c.warmup; i++) one(id++);
  flush();
  const sentBefore = sent();
  resetHostCalls();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < c.requests; i++) one(id++);
  const t1 = process.hrtime.bigint();
  const calls = hostCalls();
  flush(); // pushes the filter's counters (not part of the measured work)
  return { requests: c.requests, usPerRequest: Number(t1 - t0) / 1000 / c.requests, hostCallsPerRequest: calls / c.requests, recordsSent: sent() - sentBefore, failed: failed() };
}

export async function runTestVm(s: Scenario, c: Count): Promise<Result> {
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
    for (const call of vm.takeHttpCalls('shadow')) vm.respond(call, { status: 200, headers: [['content-type', 'application/json']], body: RESP_BODY });
    for (const call of vm.takeHttpCalls('collector')) vm.respond(call, { status: 200, body: '{}' });
  };
  const flush = (): void => {
    vm.advance(1000);
    for (const call of vm.takeHttpCalls('collector')) vm.respond(call, { status: 200 });
    vm.tick();
  };
  return measure(c, one, flush, () => vm.hostCalls, () => vm.resetHostCalls(), () => vm.metric(s.sentMetric) ?? 0, () => vm.failed);
}

const NO_CANCEL = { cancel(): void {} };

interface RuntimeRig { one: (id: number) => void; flush: () => void; plugin: PluginHost }

export async function runRuntime(s: Scenario, c: Count): Promise<Result> {
  const { one, flush, plugin } = await runtimeRig(s);
  return measure(c, one, flush, () => plugin.hostCalls, () => plugin.resetHostCalls(), () => plugin.metric(s.sentMetric) ?? 0, () => plugin.failed);
}

async function runtimeRig(s: Scenario, lean = false): Promise<RuntimeRig> {
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
    st.onRequestHeaders(requestHeaders(s, id, lean), !body);
    if (body) st.onRequestBody(reqBody, true);
    st.onResponseHeaders(responseHeaders(lean), false);
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

export interface MemoryResult { scenario: string; requests: number; startBytes: number; afterBytes: number; seconds: number; failed: boolean; recordsSent: number }

/**
 * The module's linear memory after `n` requests of a scenario (flushing as the tick would),
 * with the lean headers: the check is about what the filter keeps, not about speed.
 */
export async function memoryAfter(s: Scenario, n: number): Promise<MemoryResult> {
  const { one, flush, plugin } = await runtimeRig(s, true);
  const memory = plugin.moduleExports.memory as WebAssembly.Memory;
  one(0);
  flush();
  const startBytes = memory.buffer.byteLength;
  const sentBefore = plugin.metric(s.sentMetric) ?? 0;
  const t0 = performance.now();
  for (let i = 1; i <= n; i++) {
    one(i);
    if (i % 10_000 === 0) flush();
  }
  flush();
  return {
    scenario: s.name, requests: n, startBytes, afterBytes: memory.buffer.byteLength, seconds: (performance.now() - t0) / 1000, failed: plugin.failed,
    recordsSent: (plugin.metric(s.sentMetric) ?? 0) - sentBefore,
  };
}

const M = 'shadowmesh_records_sent_total';

/** Every scenario of the bench; the SDK's only when its build is there (a note on stderr otherwise). */
export async function scenarios(): Promise<Scenario[]> {
  const empty = await emptyFilter();
  const list: Scenario[] = [
    { name: 'shadowmesh, mirrored GET', wasm: OURS, config: { shadow_cluster: 'shadow' }, method: 'GET', path: '/predict?x=1', sentMetric: M, sdk: false },
    { name: 'shadowmesh, mirrored POST + body', wasm: OURS, config: { shadow_cluster: 'shadow' }, method: 'POST', path: '/predict', sentMetric: M, sdk: false },
    { name: 'shadowmesh, sampled-out GET', wasm: OURS, config: { shadow_cluster: 'shadow', sample_percent: 0 }, method: 'GET', path: '/predict?x=1', sentMetric: M, sdk: false },
    { name: 'shadowmesh, route miss (host floor)', wasm: OURS, config: { shadow_cluster: 'shadow', routes: [{ name: 'x', path_prefix: '/nothing' }] }, method: 'GET', path: '/predict', sentMetric: M, sdk: false },
    { name: 'empty filter GET (floor)', wasm: empty, config: '', method: 'GET', path: '/predict?x=1', sentMetric: M, sdk: false },
    { name: 'empty filter POST + body (floor)', wasm: empty, config: '', method: 'POST', path: '/predict', sentMetric: M, sdk: false },
  ];
  if (existsSync(SDK)) {
    list.push(
      { name: 'published SDK 0.1.8, mirrored GET', wasm: SDK, config: '', method: 'GET', path: '/predict?x=1', sentMetric: 'sdk_records_sent_total', sdk: true },
      { name: 'published SDK 0.1.8, mirrored POST + body', wasm: SDK, config: '', method: 'POST', path: '/predict', sentMetric: 'sdk_records_sent_total', sdk: true },
    );
  } else {
    console.error(`(no ${SDK}: run npm install --prefix bench/sdk-baseline && npm --prefix bench/sdk-baseline run build)`);
  }
  return list;
}

/** The scenarios whose wasm memory is checked: ours, each path that keeps state (the route miss keeps none). */
export const memoryScenarios = (list: Scenario[]): Scenario[] => list.filter((s) => s.wasm === OURS && !s.name.includes('route miss'));
