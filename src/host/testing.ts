// In-process proxy-wasm host for tests (docs/host-test-api.md): the real host with Envoy's call
// order and rules; the network (outbound calls) and the clock are in the test's hands.

import { readFile } from 'node:fs/promises';
import { ConfigRejected, PluginHost, type HttpStream, type PluginOptions } from './index.js';
import { SharedStore } from './shared.js';
import { decodeUtf8, encodeUtf8, headerValue, type HeaderList } from './codec.js';
import type {
  Cancellable, ContinueEvent, HostEnvironment, HttpCallRequest, HttpCallResult, LogLevel, MetricValue, StreamInfo,
} from './types.js';
import { LOG_LEVELS } from './envoy-abi.js';

export const DEFAULT_TEST_NOW_MS = 1_700_000_000_000;
const DEFAULT_STREAM_INFO: Readonly<StreamInfo> = { downstreamAddress: '127.0.0.1:40000', localAddress: '127.0.0.1:8080', protocol: 'HTTP/1.1' };
const EMPTY = new Uint8Array(0);

/**
 * A clock that only moves when the test says so. Timers fire in due order during advance().
 * `now` is the monotonic time line (timers, WASI clock 1); wall time (proxy_get_current_time,
 * WASI clock 0) is `now + wallOffsetMs`, which jumpWall() moves as NTP would, alone.
 */
export class VirtualClock {
  private timers: { due: number; seq: number; fn: () => void; live: boolean }[] = [];
  private seq = 0;
  wallOffsetMs = 0;
  constructor(public now: number) {}
  nowMs(): number { return this.now + this.wallOffsetMs; }
  nowNs(): bigint { return BigInt(Math.round((this.now + this.wallOffsetMs) * 1e6)); }
  monotonicNs(): bigint { return BigInt(Math.round(this.now * 1e6)); }
  /** Steps wall time by `ms` (negative: backwards) without moving monotonic time or timers. */
  jumpWall(ms: number): void { this.wallOffsetMs += ms; }
  setTimer(ms: number, fn: () => void): Cancellable {
    const t = { due: this.now + Math.max(0, ms), seq: this.seq++, fn, live: true };
    this.timers.push(t);
    return { cancel: () => { t.live = false; } };
  }
  advance(ms: number): void {
    const target = this.now + Math.max(0, ms);
    for (;;) {
      this.timers = this.timers.filter((t) => t.live);
      let next: (typeof this.timers)[number] | undefined;
      for (const t of this.timers) if (t.due <= target && (!next || t.due < next.due || (t.due === next.due && t.seq < next.seq))) next = t;
      if (!next) break;
      next.live = false;
      this.now = Math.max(this.now, next.due);
      next.fn();
    }
    this.now = target;
  }
}

export interface TestVMOptions {
  /** Path or bytes of the module. */
  wasm: string | Uint8Array;
  /** Plugin configuration: object (JSON-encoded), string (raw), Uint8Array, or undefined (size 0). */
  config?: unknown;
  rootId?: string;
  name?: string;
  vmId?: string;
  vmConfig?: string;
  /** Clusters proxy_http_call accepts; others → BadArgument. */
  clusters?: string[];
  /** Virtual clock start (Unix epoch ms). */
  nowMs?: number;
  /** Level answered by proxy_get_log_level; messages below it are not recorded (Envoy drops them). */
  logLevel?: LogLevel;
  /** After a trap: true → streams pass untouched; false (default, as Envoy) → 503 wasm_fail_stream. */
  failOpen?: boolean;
  environment?: Record<string, string>;
  requestAttributesAfterHeaders?: boolean;
  /** Model an older Envoy: node.*, cluster_name, … at the top level and no xds.* (default: current Envoy, xds.* only). */
  legacyAttributes?: boolean;
  /** When true, advance() past a call's timeout delivers the timeout (as Envoy's async client would). Default false. */
  httpCallTimeouts?: boolean;
  httpCallTimeoutAs?: 'status504' | 'reset';
  /** Extra attributes for proxy_get_property, keyed by path segments joined with '.' (e.g. "node.id"). */
  properties?: Record<string, string | Uint8Array>;
  /** Deterministic WASI random_get. */
  random?: (buf: Uint8Array) => void;
  /** Default true: run the canary VM first, as Envoy does. */
  canary?: boolean;
  /** Shared data / queues store; pass one store to several TestVMs to model Envoy workers. Default: a fresh one. */
  store?: SharedStore;
}

export interface TestHttpCall {
  token: number;
  cluster: string;
  headers: HeaderList;
  body: Uint8Array;
  bodyText: string;
  trailers: HeaderList;
  timeoutMs: number;
  header(name: string): string | undefined;
}

export interface TestLocalResponse {
  status: number;
  body: string;
  bodyBytes: Uint8Array;
  headers: HeaderList;
  details: string;
  grpcStatus?: number;
}

export interface TestLogEntry { level: LogLevel; message: string }

export interface TestResponse {
  status: number;
  headers?: HeaderList;
  body?: string | Uint8Array;
  trailers?: HeaderList;
}

/**
 * One outbound call as the test sees it, and the host's handle to cancel it. A class (not a
 * literal with closures) and a lazily decoded bodyText keep the per-call cost low.
 */
class PendingCall implements TestHttpCall, Cancellable {
  readonly token: number;
  readonly cluster: string;
  readonly headers: HeaderList;
  readonly body: Uint8Array;
  readonly trailers: HeaderList;
  readonly timeoutMs: number;
  /** 'pending': in vm.httpCalls; 'taken': handed out by takeHttpCalls; 'settled' / 'cancelled': over. */
  state: 'pending' | 'taken' | 'settled' | 'cancelled' = 'pending';
  timer: Cancellable | null = null;
  private text: string | undefined;

  constructor(req: HttpCallRequest, readonly done: (r: HttpCallResult) => void, readonly owner: TestVM) {
    this.token = req.token;
    this.cluster = req.cluster;
    this.headers = req.headers;
    this.body = req.body;
    this.trailers = req.trailers;
    this.timeoutMs = req.timeoutMs;
  }

  get bodyText(): string { return (this.text ??= decodeUtf8(this.body)); }
  header(name: string): string | undefined { return headerValue(this.headers, name.toLowerCase()); }
  /** The host cancels the call (plugin closed, VM failed). */
  cancel(): void { this.owner.cancelCall(this); }
}

function configBytes(config: unknown): string | Uint8Array | undefined {
  if (config === undefined) return undefined;
  if (typeof config === 'string' || config instanceof Uint8Array) return config;
  return JSON.stringify(config);
}

export class TestVM {
  /** Log lines of the worker VM (and of the canary when it rejected the configuration). */
  readonly logs: TestLogEntry[] = [];
  /** Log lines of the throw-away canary VM (Envoy runs the start sequence twice). */
  readonly canaryLogs: TestLogEntry[] = [];
  readonly clock: VirtualClock;
  private readonly pending: PendingCall[] = [];
  private host: PluginHost | undefined;
  /** Why the VM did not configure (ConfigRejected message), when configured is false. */
  rejection: string | undefined;

  private constructor(private readonly opts: TestVMOptions, readonly env: HostEnvironment) {
    this.clock = (env.clock as VirtualClock);
  }

  static async start(opts: TestVMOptions): Promise<TestVM> {
    const bytes = typeof opts.wasm === 'string' ? new Uint8Array(await readFile(opts.wasm)) : opts.wasm;
    const clock = new VirtualClock(opts.nowMs ?? DEFAULT_TEST_NOW_MS);
    const clusters = new Set(opts.clusters ?? []);
    let vm!: TestVM;
    const props = opts.properties ?? {};
    const env: HostEnvironment = {
      clusters: { has: (n) => clusters.has(n) },
      httpCall: (req, done) => vm.onHttpCall(req, done),
      clock,
      log: (level, message, _name, which) => (which === 'canary' ? vm.canaryLogs : vm.logs).push({ level, message }),
      logLevel: opts.logLevel ?? 'info',
      properties: (path) => props[path.join('.')],
    };
    if (opts.random) env.random = opts.random;
    vm = new TestVM(opts, env);
    const pluginOpts: PluginOptions = {
      name: opts.name ?? 'test-plugin',
      rootId: opts.rootId ?? '',
      vmId: opts.vmId ?? '',
      failOpen: opts.failOpen ?? false,
      env,
      store: opts.store ?? new SharedStore(),
      requestAttributesAfterHeaders: opts.requestAttributesAfterHeaders ?? false,
      legacyAttributes: opts.legacyAttributes ?? false,
      httpCallTimeoutAs: opts.httpCallTimeoutAs ?? 'status504',
      canary: opts.canary ?? true,
    };
    const cfg = configBytes(opts.config);
    if (cfg !== undefined) pluginOpts.configuration = cfg;
    if (opts.vmConfig !== undefined) pluginOpts.vmConfig = opts.vmConfig;
    if (opts.environment) pluginOpts.environment = opts.environment;
    try {
      vm.host = await PluginHost.load(bytes, pluginOpts);
    } catch (err) {
      if (!(err instanceof ConfigRejected)) throw err;
      vm.rejection = err.message;
      // The worker VM never started; what the module said is in the canary's log.
      if (vm.logs.length === 0) vm.logs.push(...vm.canaryLogs);
    }
    return vm;
  }

  private onHttpCall(req: HttpCallRequest, done: (r: HttpCallResult) => void): Cancellable {
    const p = new PendingCall(req, done, this);
    if (this.opts.httpCallTimeouts && req.timeoutMs > 0) {
      p.timer = this.clock.setTimer(req.timeoutMs, () => {
        if (p.state === 'pending' || p.state === 'taken') this.settle(p, { failure: 'timeout' });
      });
    }
    this.pending.push(p);
    return p;
  }

  /** @internal The host cancelled a call: it leaves the pending list (a taken one stays answerable, unheard). */
  cancelCall(p: PendingCall): void {
    if (p.state !== 'pending') return;
    p.state = 'cancelled';
    const i = this.pending.indexOf(p);
    if (i >= 0) this.pending.splice(i, 1);
    p.timer?.cancel();
  }

  private get h(): PluginHost {
    if (!this.host) throw new Error(`the VM is not configured: ${this.rejection ?? 'unknown reason'}`);
    return this.host;
  }

  /** The underlying runtime (undefined when configuration was rejected). */
  get plugin(): PluginHost | undefined { return this.host; }
  get configured(): boolean { return this.host !== undefined; }
  get failed(): boolean { return this.host?.failed ?? false; }
  get failMessage(): string { return this.host?.failMessage ?? ''; }
  get nowMs(): number { return this.clock.nowMs(); }
  get tickPeriodMs(): number { return this.host?.tickPeriodMs ?? 0; }
  get hostCalls(): number { return this.host?.hostCalls ?? 0; }
  resetHostCalls(): void { this.host?.resetHostCalls(); }

  stream(info?: StreamInfo): TestStream {
    // newStream copies the info, so the defaults can be one shared object.
    return new TestStream(this.h.newStream(info ? { ...DEFAULT_STREAM_INFO, ...info } : DEFAULT_STREAM_INFO));
  }

  /** Moves the virtual clock; ticks (and, if enabled, call timeouts) fire on the way. */
  advance(ms: number): void { this.clock.advance(ms); }
  /** Steps the wall clock alone (an NTP correction): monotonic time and timers stay put. */
  jumpWallClock(ms: number): void { this.clock.jumpWall(ms); }
  /** Fires proxy_on_tick once now, if a tick period is set. */
  tick(): void { if (this.tickPeriodMs > 0) this.h.tick(); }

  get httpCalls(): TestHttpCall[] { return this.pending.slice(); }
  takeHttpCalls(cluster?: string): TestHttpCall[] {
    const out: TestHttpCall[] = [];
    const pending = this.pending;
    let keep = 0;
    for (let i = 0; i < pending.length; i++) {
      const p = pending[i]!;
      if (cluster === undefined || p.cluster === cluster) {
        p.state = 'taken';
        out.push(p);
      } else {
        pending[keep++] = p;
      }
    }
    pending.length = keep;
    return out;
  }

  private settle(call: TestHttpCall, r: HttpCallResult): void {
    const p = call instanceof PendingCall && call.owner === this ? call : undefined;
    if (!p || (p.state !== 'pending' && p.state !== 'taken')) {
      throw new Error(`http call ${call.token} is not pending (already answered, cancelled, or from another VM)`);
    }
    if (p.state === 'pending') this.pending.splice(this.pending.indexOf(p), 1);
    p.state = 'settled';
    p.timer?.cancel();
    p.done(r);
  }

  /** Delivers proxy_on_http_call_response(root, token, nHeaders, bodySize, nTrailers). */
  respond(call: TestHttpCall, res: TestResponse): void {
    const extra = res.headers ?? [];
    const headers: HeaderList = headerValue(extra, ':status') === undefined ? [[':status', String(res.status)], ...extra] : [...extra];
    const body = res.body === undefined ? new Uint8Array(0) : typeof res.body === 'string' ? encodeUtf8(res.body) : res.body;
    this.settle(call, { headers, body, trailers: res.trailers ?? [] });
  }

  /** Delivers a failure: (0, 0, 0) with proxy_get_status → (11, "reset"). */
  failCall(call: TestHttpCall): void { this.settle(call, { failure: 'reset' }); }

  /** Delivers a timeout the way Envoy's async client does (504 "upstream request timeout" by default). */
  timeoutCall(call: TestHttpCall): void { this.settle(call, { failure: 'timeout' }); }

  logsAt(level: LogLevel): string[] {
    return this.logs.filter((l) => l.level === level).map((l) => l.message);
  }

  metric(name: string): number | undefined { return this.host?.metric(name); }
  get metrics(): Map<string, MetricValue> { return this.host?.metrics() ?? new Map(); }

  /**
   * Removes the plugin as Envoy does: root on_done; true → on_delete and pending calls and
   * timers are cancelled; false → the root stays until the module calls proxy_done (ticks and
   * answers still reach it). Returns whether the root is gone now (see plugin.done).
   */
  close(): boolean {
    const gone = this.host?.close() ?? true;
    if (gone) this.dropPending();
    return gone;
  }

  /** The VM is destroyed without callbacks (Envoy dropping it): calls and timers are cancelled. */
  kill(): void {
    this.host?.kill();
    this.dropPending();
  }

  /** Whether the root context is gone (closed, or deleted after a delayed proxy_done). */
  get closed(): boolean { return this.host?.closed ?? true; }

  private dropPending(): void {
    for (const p of this.pending) p.state = 'cancelled';
    this.pending.length = 0;
  }
}

/** Drives one stream like the data plane would; keeps what the filter left in the maps. */
export class TestStream {
  readonly requestHeaders: HeaderList = [];
  readonly responseHeaders: HeaderList = [];
  requestTrailers: HeaderList = [];
  responseTrailers: HeaderList = [];
  /** Body bytes the filter let through upstream / downstream so far (continue releases included). */
  forwardedRequestBody: Uint8Array = EMPTY;
  forwardedResponseBody: Uint8Array = EMPTY;
  readonly continues: ContinueEvent[] = [];

  constructor(readonly stream: HttpStream) {
    stream.onContinue = (e) => {
      this.continues.push(e);
      if (e.direction === 'request') this.forwardedRequestBody = join(this.forwardedRequestBody, e.data);
      else this.forwardedResponseBody = join(this.forwardedResponseBody, e.data);
    };
    stream.onLocalResponse = (r) => {
      // Envoy encodes a local reply through the filter chain, this filter included.
      if (this.responseHeaders.length > 0) return;
      if (r.details === 'wasm_fail_stream') return;
      const headers: HeaderList = [[':status', String(r.status)]];
      if (r.body.length > 0) headers.push(['content-length', String(r.body.length)], ['content-type', 'text/plain']);
      headers.push(...r.headers);
      this.sendResponseHeaders(headers, { endOfStream: r.body.length === 0 });
      if (r.body.length > 0) this.sendResponseBody(r.body, { endOfStream: true });
    };
  }

  get contextId(): number { return this.stream.contextId; }
  /** The local response, if any; body as text (bodyBytes for the raw bytes). */
  get localResponse(): TestLocalResponse | undefined {
    const r = this.stream.localResponse;
    if (!r) return undefined;
    const out: TestLocalResponse = { status: r.status, body: decodeUtf8(r.body), bodyBytes: r.body, headers: r.headers, details: r.details };
    if (r.grpcStatus !== undefined) out.grpcStatus = r.grpcStatus;
    return out;
  }
  get closed(): 'request' | 'response' | undefined { return this.stream.closed; }
  get info(): StreamInfo { return this.stream.info; }

  sendRequestHeaders(headers: HeaderList, o: { endOfStream?: boolean } = {}): number {
    // A copy of the list (the filter edits it); the host never changes a pair in place.
    copyInto(this.requestHeaders, headers);
    return this.stream.onRequestHeaders(this.requestHeaders, o.endOfStream ?? false);
  }

  sendRequestBody(body: string | Uint8Array, o: { endOfStream?: boolean } = {}): number {
    const r = this.stream.onRequestBody(typeof body === 'string' ? encodeUtf8(body) : body, o.endOfStream ?? false);
    this.forwardedRequestBody = join(this.forwardedRequestBody, r.data);
    return r.status;
  }

  sendRequestTrailers(trailers: HeaderList): number {
    this.requestTrailers = trailers.map(([k, v]) => [k, v]);
    return this.stream.onRequestTrailers(this.requestTrailers);
  }

  sendResponseHeaders(headers: HeaderList, o: { endOfStream?: boolean } = {}): number {
    copyInto(this.responseHeaders, headers);
    return this.stream.onResponseHeaders(this.responseHeaders, o.endOfStream ?? false);
  }

  sendResponseBody(body: string | Uint8Array, o: { endOfStream?: boolean } = {}): number {
    const r = this.stream.onResponseBody(typeof body === 'string' ? encodeUtf8(body) : body, o.endOfStream ?? false);
    this.forwardedResponseBody = join(this.forwardedResponseBody, r.data);
    return r.status;
  }

  sendResponseTrailers(trailers: HeaderList): number {
    this.responseTrailers = trailers.map(([k, v]) => [k, v]);
    return this.stream.onResponseTrailers(this.responseTrailers);
  }

  /** on_log → on_done → on_delete (valid at any point: a local reply or reset ends the stream early). */
  complete(): void { this.stream.complete(); }

  requestHeader(name: string): string | undefined { return headerValue(this.requestHeaders, name); }
  responseHeader(name: string): string | undefined { return headerValue(this.responseHeaders, name); }
}

function copyInto(to: HeaderList, from: HeaderList): void {
  if (to.length !== 0) to.length = 0;
  for (let i = 0; i < from.length; i++) to.push(from[i]!);
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export { LOG_LEVELS };
