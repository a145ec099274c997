// A stand-in for src/host/testing.ts's TestVM while the real host is being written:
// the same surface (docs/host-test-api.md), the Envoy rules the filter relies on,
// nothing more. vm.ts prefers the real TestVM whenever it exists.
import { readFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';

type Pairs = [string, string][];
const enc = new TextEncoder();
const dec = new TextDecoder();
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'critical'] as const;
type Level = (typeof LEVELS)[number];

export interface StartOptions {
  wasm: string | Uint8Array; config?: unknown; rootId?: string; vmConfig?: string; clusters?: string[];
  nowMs?: number; logLevel?: Level; failOpen?: boolean;
}
export interface HttpCall {
  token: number; cluster: string; headers: Pairs; body: Uint8Array; bodyText: string; timeoutMs: number;
  header(name: string): string | undefined;
}

function encodePairs(p: Pairs): Uint8Array {
  const parts = p.map(([k, v]) => [enc.encode(k), enc.encode(v)] as const);
  let size = 4 + 8 * parts.length;
  for (const [k, v] of parts) size += k.length + v.length + 2;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, parts.length, true);
  let off = 4 + 8 * parts.length;
  parts.forEach(([k, v], i) => {
    dv.setUint32(4 + 8 * i, k.length, true);
    dv.setUint32(8 + 8 * i, v.length, true);
    out.set(k, off); off += k.length + 1;
    out.set(v, off); off += v.length + 1;
  });
  return out;
}

function decodePairs(b: Uint8Array): Pairs {
  if (b.length < 4) return [];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = dv.getUint32(0, true);
  let off = 4 + 8 * n;
  const out: Pairs = [];
  for (let i = 0; i < n; i++) {
    const kl = dv.getUint32(4 + 8 * i, true), vl = dv.getUint32(8 + 8 * i, true);
    const k = dec.decode(b.subarray(off, off + kl)); off += kl + 1;
    const v = dec.decode(b.subarray(off, off + vl)); off += vl + 1;
    out.push([k, v]);
  }
  return out;
}

class Trap extends Error {}

export class StubStream {
  requestHeaders: Pairs = [];
  responseHeaders: Pairs = [];
  localResponse: undefined;
  created = false;
  constructor(private vm: TestVM, readonly contextId: number) {}
  private ensure(): void {
    if (!this.created) { this.created = true; this.vm.call('proxy_on_context_create', this.contextId, 1); }
  }
  private phase<T>(maps: Record<number, Pairs | null>, bodies: Record<number, Uint8Array | null>, f: () => T): T {
    this.vm.cur = { maps, bodies };
    try { return f(); } finally { this.vm.cur = { maps: { 0: null }, bodies: {} }; }
  }
  sendRequestHeaders(h: Pairs, o: { endOfStream?: boolean } = {}): number {
    this.ensure();
    this.requestHeaders = h.map(([k, v]) => [k, v]);
    return this.phase({ 0: this.requestHeaders }, {}, () => this.vm.call('proxy_on_request_headers', this.contextId, h.length, o.endOfStream ? 1 : 0) as number);
  }
  sendRequestBody(b: string | Uint8Array, o: { endOfStream?: boolean } = {}): number {
    const bytes = typeof b === 'string' ? enc.encode(b) : b;
    return this.phase({}, { 0: bytes }, () => this.vm.call('proxy_on_request_body', this.contextId, bytes.length, o.endOfStream ? 1 : 0) as number);
  }
  sendRequestTrailers(t: Pairs): number {
    return this.phase({ 1: t }, {}, () => this.vm.call('proxy_on_request_trailers', this.contextId, t.length) as number);
  }
  sendResponseHeaders(h: Pairs, o: { endOfStream?: boolean } = {}): number {
    this.ensure();
    this.responseHeaders = h.map(([k, v]) => [k, v]);
    return this.phase({ 2: this.responseHeaders }, {}, () => this.vm.call('proxy_on_response_headers', this.contextId, h.length, o.endOfStream ? 1 : 0) as number);
  }
  sendResponseBody(b: string | Uint8Array, o: { endOfStream?: boolean } = {}): number {
    const bytes = typeof b === 'string' ? enc.encode(b) : b;
    return this.phase({}, { 1: bytes }, () => this.vm.call('proxy_on_response_body', this.contextId, bytes.length, o.endOfStream ? 1 : 0) as number);
  }
  complete(): void {
    this.ensure();
    this.phase({ 0: this.requestHeaders, 2: this.responseHeaders }, {}, () => this.vm.call('proxy_on_log', this.contextId));
    this.vm.call('proxy_on_done', this.contextId);
    this.vm.call('proxy_on_delete', this.contextId);
  }
}

export class TestVM {
  configured = false;
  failed = false;
  logs: { level: Level; message: string }[] = [];
  metrics = new Map<string, { type: 'counter' | 'gauge' | 'histogram'; value: number }>();
  httpCalls: HttpCall[] = [];
  hostCalls = 0;
  tickPeriodMs = 0;
  cur: { maps: Record<number, Pairs | null>; bodies: Record<number, Uint8Array | null> } = { maps: {}, bodies: {} };
  private inst!: WebAssembly.Instance;
  private nextCtx = 2;
  private nextToken = 1;
  private nowMs: number;
  private lastTick = 0;
  private metricIds = new Map<number, string>();
  private status: [number, string] = [0, ''];
  private clusters: Set<string>;

  private constructor(private o: StartOptions) {
    this.nowMs = o.nowMs ?? 1_700_000_000_000;
    this.clusters = new Set(o.clusters ?? ['shadow', 'collector']);
  }

  static async start(o: StartOptions): Promise<TestVM> {
    const vm = new TestVM(o);
    const bytes = typeof o.wasm === 'string' ? readFileSync(o.wasm) : o.wasm;
    const mod = await WebAssembly.compile(bytes);
    vm.inst = await WebAssembly.instantiate(mod, vm.imports());
    vm.call('_initialize');
    vm.call('proxy_on_context_create', 1, 0);
    const cfg = o.config === undefined ? undefined : typeof o.config === 'string' ? o.config : JSON.stringify(o.config);
    vm.configBytes = cfg === undefined ? new Uint8Array(0) : enc.encode(cfg);
    const ok1 = vm.call('proxy_on_vm_start', 1, 0);
    const ok2 = vm.call('proxy_on_configure', 1, vm.configBytes.length);
    vm.configured = !!ok1 && !!ok2;
    vm.lastTick = vm.nowMs;
    return vm;
  }
  private configBytes = new Uint8Array(0);

  private get mem(): DataView { return new DataView((this.inst.exports.memory as WebAssembly.Memory).buffer); }
  private bytesAt(p: number, n: number): Uint8Array { return new Uint8Array((this.inst.exports.memory as WebAssembly.Memory).buffer, p, n).slice(); }
  private str(p: number, n: number): string { return dec.decode(this.bytesAt(p, n)); }
  private give(data: Uint8Array, pp: number, sp: number): number {
    if (data.length === 0) { this.mem.setUint32(pp, 0, true); this.mem.setUint32(sp, 0, true); return 0; }
    const p = (this.inst.exports.malloc as (n: number) => number)(data.length);
    new Uint8Array((this.inst.exports.memory as WebAssembly.Memory).buffer, p, data.length).set(data);
    this.mem.setUint32(pp, p, true); this.mem.setUint32(sp, data.length, true);
    return 0;
  }

  call(name: string, ...args: number[]): number | undefined {
    if (this.failed) return 0;
    const f = this.inst.exports[name] as ((...a: number[]) => number) | undefined;
    if (!f) return undefined;
    try { return f(...args); } catch (e) { this.failed = true; this.logs.push({ level: 'critical', message: 'trap: ' + String(e) }); return 0; }
  }

  private imports(): WebAssembly.Imports {
    const count = <F extends (...a: never[]) => unknown>(f: F): F => ((...a: never[]) => { this.hostCalls++; return f(...a); }) as F;
    const env = {
      proxy_log: (l: number, p: number, n: number) => { this.logs.push({ level: LEVELS[l] ?? 'info', message: this.str(p, n) }); return 0; },
      proxy_get_log_level: (p: number) => { this.mem.setUint32(p, LEVELS.indexOf(this.o.logLevel ?? 'info'), true); return 0; },
      proxy_get_status: (cp: number, pp: number, sp: number) => { this.mem.setUint32(cp, this.status[0], true); return this.give(enc.encode(this.status[1]), pp, sp); },
      proxy_get_property: (pp: number, pn: number, vp: number, vs: number) => {
        const path = this.str(pp, pn);
        if (path === 'plugin_root_id') return this.give(enc.encode(this.o.rootId ?? ''), vp, vs);
        return 1;
      },
      proxy_get_header_map_pairs: (m: number, pp: number, sp: number) => {
        const map = this.cur.maps[m];
        return this.give(map ? encodePairs(map) : new Uint8Array(0), pp, sp);
      },
      proxy_replace_header_map_value: (m: number, kp: number, kn: number, vp: number, vn: number) => {
        const map = this.cur.maps[m];
        if (!map) return 2;
        const k = this.str(kp, kn), v = this.str(vp, vn);
        const i = map.findIndex(([n]) => n === k);
        if (i >= 0) map[i] = [k, v]; else map.push([k, v]);
        return 0;
      },
      proxy_get_buffer_bytes: (t: number, start: number, len: number, pp: number, sp: number) => {
        if (t === 7) return this.give(this.configBytes.subarray(start, start + len), pp, sp);
        const b = this.cur.bodies[t];
        if (!b) return 1;
        return this.give(b.subarray(start, start + len), pp, sp);
      },
      proxy_http_call: (up: number, un: number, hp: number, hn: number, bp: number, bn: number, _tp: number, _tn: number, timeout: number, tokp: number) => {
        const cluster = this.str(up, un);
        if (!this.clusters.has(cluster)) return 2;
        const headers = decodePairs(this.bytesAt(hp, hn));
        const body = this.bytesAt(bp, bn);
        const token = this.nextToken++;
        this.mem.setUint32(tokp, token, true);
        this.httpCalls.push({ token, cluster, headers, body, bodyText: dec.decode(body), timeoutMs: timeout, header: (n) => headers.find(([k]) => k === n)?.[1] });
        return 0;
      },
      proxy_set_tick_period_milliseconds: (ms: number) => { this.tickPeriodMs = ms; return 0; },
      proxy_get_current_time_nanoseconds: (p: number) => { this.mem.setBigUint64(p, BigInt(Math.round(this.nowMs)) * 1000000n, true); return 0; },
      proxy_define_metric: (t: number, np: number, nn: number, idp: number) => {
        const name = this.str(np, nn);
        let id = [...this.metricIds].find(([, n]) => n === name)?.[0];
        if (id === undefined) { id = 4 + this.metricIds.size * 4; this.metricIds.set(id, name); this.metrics.set(name, { type: (['counter', 'gauge', 'histogram'] as const)[t] ?? 'counter', value: 0 }); }
        this.mem.setUint32(idp, id, true);
        return 0;
      },
      proxy_increment_metric: (id: number, d: bigint) => { const m = this.metrics.get(this.metricIds.get(id) ?? ''); if (!m) return 1; m.value += Number(d); return 0; },
    };
    const wrapped: Record<string, (...a: never[]) => unknown> = {};
    for (const [k, f] of Object.entries(env)) wrapped[k] = count(f as (...a: never[]) => unknown);
    return {
      env: wrapped as WebAssembly.ModuleImports,
      wasi_snapshot_preview1: { random_get: count((p: number, n: number) => { randomFillSync(new Uint8Array((this.inst.exports.memory as WebAssembly.Memory).buffer, p, n)); return 0; }) },
    };
  }

  stream(): StubStream { return new StubStream(this, this.nextCtx++); }
  advance(ms: number): void {
    const end = this.nowMs + ms;
    while (this.tickPeriodMs > 0 && this.lastTick + this.tickPeriodMs <= end) {
      this.nowMs = this.lastTick + this.tickPeriodMs; this.lastTick = this.nowMs; this.tick();
    }
    this.nowMs = end;
  }
  tick(): void { if (this.tickPeriodMs > 0) this.call('proxy_on_tick', 1); }
  takeHttpCalls(cluster?: string): HttpCall[] {
    const taken = this.httpCalls.filter((c) => cluster === undefined || c.cluster === cluster);
    this.httpCalls = this.httpCalls.filter((c) => !taken.includes(c));
    return taken;
  }
  respond(call: HttpCall, r: { status: number; headers?: Pairs; body?: string | Uint8Array; trailers?: Pairs }): void {
    this.httpCalls = this.httpCalls.filter((c) => c !== call);
    const headers: Pairs = [[':status', String(r.status)], ...(r.headers ?? [])];
    const body = r.body === undefined ? new Uint8Array(0) : typeof r.body === 'string' ? enc.encode(r.body) : r.body;
    this.cur = { maps: { 6: headers, 7: r.trailers ?? [] }, bodies: { 4: body } };
    try { this.call('proxy_on_http_call_response', 1, call.token, headers.length, body.length, (r.trailers ?? []).length); } finally { this.cur = { maps: {}, bodies: {} }; }
  }
  failCall(call: HttpCall): void {
    this.httpCalls = this.httpCalls.filter((c) => c !== call);
    this.status = [11, 'reset'];
    this.call('proxy_on_http_call_response', 1, call.token, 0, 0, 0);
    this.status = [0, ''];
  }
  logsAt(level: Level): string[] { return this.logs.filter((l) => l.level === level).map((l) => l.message); }
  metric(name: string): number | undefined { return this.metrics.get(name)?.value; }
  resetHostCalls(): void { this.hostCalls = 0; }
  close(): void { this.call('proxy_on_done', 1); this.call('proxy_on_delete', 1); }
}
