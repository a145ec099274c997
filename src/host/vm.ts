// One proxy-wasm VM: a wasm instance plus the host-side state Envoy keeps for it (contexts,
// metrics, timers, outbound calls). Callbacks into the module go through `call*`, which tracks the
// current context, turns traps into a failed VM, and runs the actions Envoy defers until the
// outermost callback has returned (local replies, continue, http call deliveries).

import { randomFillSync } from 'node:crypto';
import { WasmResult, type AbiVersion } from './envoy-abi.js';
import type { HeaderList } from './codec.js';
import type { SharedStore } from './shared.js';
import type { Cancellable, HostEnvironment, HttpCallResponse, LocalResponse, StreamInfo } from './types.js';
import { LOG_LEVELS } from './envoy-abi.js';

export class HostLoadError extends Error {
  constructor(readonly code: 'bad_binary' | 'missing_import' | 'import_type_mismatch' | 'bad_export_signature' | 'missing_abi_version' | 'missing_memory' | 'missing_allocator' | 'start_failed', message: string) {
    super(message);
    this.name = 'HostLoadError';
  }
}

export class ConfigRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigRejected';
  }
}

/** Thrown inside an import to trap the module (proc_exit, restricted callback). */
export class WasmTrap extends Error {}

/** Body bytes visible to the module for one direction of a stream. */
export interface BodyBuffer { data: Uint8Array }

/** The per-stream state host functions read and write (implemented by HttpStreamImpl). */
export interface StreamState {
  reqHeaders: HeaderList | null;
  reqTrailers: HeaderList | null;
  respHeaders: HeaderList | null;
  respTrailers: HeaderList | null;
  reqBody: BodyBuffer | null;
  respBody: BodyBuffer | null;
  /** True while proxy_on_log runs: the maps Envoy hands to its access-log phase are the last* ones. */
  logPhase: boolean;
  /** Request headers as last seen (for attributes when requestAttributesAfterHeaders is on). */
  lastReqHeaders: HeaderList | null;
  lastRespHeaders: HeaderList | null;
  lastRespTrailers: HeaderList | null;
  info: StreamInfo;
  isComplete: boolean;
  /** Values stored with proxy_set_property (created on first use). */
  filterState: Map<string, Uint8Array> | null;
  deferLocalResponse(r: LocalResponse): void;
  deferContinue(direction: 'request' | 'response'): void;
  deferClose(direction: 'request' | 'response'): void;
}

export class Context {
  inVmCreated = false;
  readonly root: Context;
  // Root-context state (outbound calls belong to the root; stream contexts do not carry a map).
  private readonly rootCalls: Map<number, Cancellable | null> | null;
  callResponse: HttpCallResponse | null = null;
  statusCode = 0;
  statusMessage = '';
  tickPeriodMs = 0;
  tickTimer: Cancellable | null = null;
  // Stream-context state.
  stream: StreamState | null = null;
  constructor(readonly id: number, root: Context | null) {
    this.root = root ?? this;
    this.rootCalls = root ? null : new Map();
  }
  /** Outbound calls in flight (token → handle), kept by the root context. */
  get calls(): Map<number, Cancellable | null> { return this.root.rootCalls!; }
  get isRoot(): boolean { return this.root === this; }
}

interface Metric { type: 0 | 1 | 2; name: string; value: number; count: number; sum: number }

export interface VmOptions {
  name: string;
  rootId: string;
  vmId: string;
  vmConfig: Uint8Array;
  pluginConfig: Uint8Array;
  failOpen: boolean;
  env: HostEnvironment;
  store: SharedStore;
  role: 'canary' | 'worker';
  requestAttributesAfterHeaders: boolean;
  /** Serve an older Envoy's top-level node.*, cluster_name, … instead of xds.* (removed in 1.33). */
  legacyAttributes: boolean;
  httpCallTimeoutAs: 'status504' | 'reset';
}

type Fn = (...args: number[]) => number | undefined;

const EXPORTED_CALLBACKS = [
  'proxy_on_context_create', 'proxy_on_vm_start', 'proxy_on_configure', 'proxy_on_tick', 'proxy_on_request_headers',
  'proxy_on_request_body', 'proxy_on_request_trailers', 'proxy_on_response_headers', 'proxy_on_response_body',
  'proxy_on_response_trailers', 'proxy_on_http_call_response', 'proxy_on_queue_ready', 'proxy_on_done', 'proxy_on_log',
  'proxy_on_delete',
] as const;
type CallbackName = (typeof EXPORTED_CALLBACKS)[number];

export class Vm {
  /** Import calls made by the module (one increment per call). */
  hostCalls = 0;
  failed = false;
  failMessage = '';
  /** True while _initialize/_start runs: only Envoy's restricted set of imports may be called. */
  restricted = false;
  closed = false;
  /**
   * The root's proxy_on_done answered false: like a root in proxy-wasm-cpp-host's pending_done_,
   * it keeps its timers, call answers and live streams until the module calls proxy_done.
   */
  pendingDone = false;
  private finished: (() => void) | null = null;
  /** Resolves once the root context is gone (deleted, or the VM destroyed). */
  readonly gone: Promise<void> = new Promise((resolve) => { this.finished = resolve; });
  /** Set by send_local_response: the current callback's result becomes a stop. */
  stopNext = false;
  /** Whether the last callback asked to stop (send_local_response during it). */
  lastCallStopped = false;

  memory!: WebAssembly.Memory;
  u8: Uint8Array = new Uint8Array(0);
  dv: DataView = new DataView(new ArrayBuffer(0));
  private buf: ArrayBuffer | SharedArrayBuffer | null = null;
  private sharedMemory = false;
  private malloc!: (n: number) => number;
  instance!: WebAssembly.Instance;
  cb: Partial<Record<CallbackName, Fn>> = {};

  current: Context | null = null;
  effective: Context | null = null;
  private depth = 0;
  private readonly after: (() => void)[] = [];

  readonly contexts = new Map<number, Context>();
  private nextContextId = 1;
  readonly rootCtx: Context;

  private readonly metrics = new Map<number, Metric>();
  private readonly metricsByName = new Map<string, Metric>();
  private nextMetric = [4, 5, 6];
  private httpCallId = 0;

  readonly random: (b: Uint8Array) => void;
  readonly logThreshold: () => number;

  constructor(readonly opts: VmOptions, readonly abi: AbiVersion) {
    this.rootCtx = this.newContext(null);
    this.random = opts.env.random ?? ((b) => { randomFillSync(b); });
    this.logThreshold = () => LOG_LEVELS.indexOf(opts.env.logLevel);
  }

  /** Wires the instance after instantiation. */
  attach(instance: WebAssembly.Instance, importedMemory: WebAssembly.Memory | null): void {
    this.instance = instance;
    const ex = instance.exports;
    const mem = ex['memory'] instanceof WebAssembly.Memory ? ex['memory'] : importedMemory;
    if (!mem) throw new HostLoadError('missing_memory', 'Wasm module is missing memory export.');
    this.memory = mem;
    this.sharedMemory = typeof SharedArrayBuffer !== 'undefined' && mem.buffer instanceof SharedArrayBuffer;
    const malloc = typeof ex['malloc'] === 'function' ? ex['malloc'] : ex['proxy_on_memory_allocate'];
    if (typeof malloc !== 'function') throw new HostLoadError('missing_allocator', 'Wasm module is missing malloc function.');
    this.malloc = malloc as (n: number) => number;
    for (const name of EXPORTED_CALLBACKS) {
      const f = ex[name];
      if (typeof f === 'function') this.cb[name] = f as Fn;
    }
    this.refresh();
  }

  newContext(root: Context | null): Context {
    const c = new Context(this.nextContextId++, root);
    this.contexts.set(c.id, c);
    return c;
  }

  /**
   * Re-creates the memory views when memory grew. Growth detaches the old ArrayBuffer, so a
   * zero-length view is the cheap signal (no `memory.buffer` getter on every host call); a
   * shared memory is not detached by growth and is compared by identity instead.
   */
  refresh(): void {
    if (this.u8.byteLength === 0 || this.sharedMemory) this.remap();
  }

  private remap(): void {
    const b = this.memory.buffer;
    if (b !== this.buf) {
      this.buf = b;
      // A Buffer view (no copy) so long strings can use Node's native UTF-8 codec.
      this.u8 = Buffer.from(b);
      this.dv = new DataView(b);
    }
  }

  /** The context host functions act on (set_effective_context wins over the called one). */
  ctx(): Context {
    return this.effective ?? this.current ?? this.rootCtx;
  }

  inRange(ptr: number, len: number): boolean {
    return ptr + len <= this.u8.length;
  }

  /**
   * Allocates len bytes in the module with its allocator. Returns 0 on failure. The views are
   * refreshed afterwards because the allocator may have grown memory.
   */
  alloc(len: number): number {
    const p = this.malloc(len) >>> 0;
    this.refresh();
    if (p === 0 || p + len > this.u8.length) return 0;
    return p;
  }

  /** Writes ptr/size out-pointers, Envoy's copyToPointerSize: empty data is (0, 0), not allocated. */
  copyOut(bytes: Uint8Array, ptrPtr: number, sizePtr: number): number {
    const len = bytes.length;
    let p = 0;
    if (len > 0) {
      p = this.alloc(len);
      if (p === 0) return WasmResult.InvalidMemoryAccess;
      this.u8.set(bytes, p);
    }
    if (!this.inRange(ptrPtr, 4) || !this.inRange(sizePtr, 4)) return WasmResult.InvalidMemoryAccess;
    this.dv.setUint32(ptrPtr, p, true);
    this.dv.setUint32(sizePtr, len, true);
    return WasmResult.Ok;
  }

  /** A callback into the module is running. */
  get inCallback(): boolean { return this.depth > 0; }

  /** Runs `f` after the outermost callback returns (now, if none is running). */
  defer(f: () => void): void {
    if (this.depth > 0) this.after.push(f);
    else f();
  }

  /**
   * Calls an exported callback for a context. Returns its i32 result (0 when the export is absent
   * or returns nothing), or undefined when the VM failed (now or before).
   */
  call(ctx: Context, name: CallbackName, a = 0, b = 0, c = 0, d = 0, e = 0): number | undefined {
    if (this.failed) return undefined;
    const f = this.cb[name];
    if (!f) return 0;
    const prevCur = this.current;
    const prevEff = this.effective;
    this.current = ctx;
    this.effective = null;
    this.depth++;
    let r: number | undefined;
    try {
      r = f(ctx.id, a, b, c, d, e) ?? 0;
    } catch (err) {
      this.fail(name, err);
      r = undefined;
    } finally {
      this.depth--;
      this.current = prevCur;
      this.effective = prevEff;
    }
    this.lastCallStopped = this.stopNext;
    this.stopNext = false;
    if (this.depth === 0) this.runAfter();
    return r;
  }

  /** Like call but for _initialize / _start, which take no context id. */
  callStart(name: '_initialize' | '_start' | 'main' | '__main_void'): boolean {
    const f = this.instance.exports[name];
    if (typeof f !== 'function') return true;
    this.restricted = true;
    this.current = this.rootCtx;
    this.depth++;
    try {
      (f as (a: number, b: number) => void)(0, 0);
      return true;
    } catch (err) {
      this.fail(name, err);
      return false;
    } finally {
      this.depth--;
      this.current = null;
      this.restricted = false;
    }
  }

  private runAfter(): void {
    // Deferred actions may call into the module again; the caller still needs this call's flag.
    const stopped = this.lastCallStopped;
    while (this.after.length > 0 && this.depth === 0) {
      const f = this.after.shift()!;
      f();
    }
    this.lastCallStopped = stopped;
  }

  fail(where: string, err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    this.failMessage = `Function: ${where} failed: ${msg}`;
    this.log(5, `wasm VM failed: ${this.failMessage}`);
    this.cancelAll();
  }

  log(level: number, message: string): void {
    if (level < this.logThreshold()) return;
    this.opts.env.log(LOG_LEVELS[level]!, message, this.opts.name, this.opts.role);
  }

  /**
   * The root goes away (WasmBase::finishShutdown, then ~Context): proxy_on_delete (unless the VM
   * failed, or it is destroyed without callbacks), then timers and outstanding calls are
   * cancelled without any callback.
   */
  finishShutdown(callDelete: boolean): void {
    if (this.closed) return;
    this.pendingDone = false;
    if (callDelete && !this.failed) this.call(this.rootCtx, 'proxy_on_delete');
    this.closed = true;
    this.cancelAll();
    this.opts.store.forgetOwner(this);
    this.finished?.();
    this.finished = null;
  }

  /** Cancels timers and outbound calls: the VM (or its root context) is going away. */
  cancelAll(): void {
    const root = this.rootCtx;
    root.tickTimer?.cancel();
    root.tickTimer = null;
    for (const h of root.calls.values()) h?.cancel();
    root.calls.clear();
  }

  /** Envoy numbers http calls per VM: 4, 8, 12, … (the low two bits tell call types apart). */
  nextHttpCallId(): number {
    this.httpCallId = (this.httpCallId + 4) >>> 0;
    if (this.httpCallId === 0) this.httpCallId = 4;
    return this.httpCallId;
  }

  // ---- metrics (Envoy's id scheme: type in the low 2 bits, ids step by 4) ----

  defineMetric(type: number, name: string): number {
    if (type > 2) return -WasmResult.BadArgument;
    const t = type as 0 | 1 | 2;
    const id = this.nextMetric[t]!;
    this.nextMetric[t] = id + 4;
    const key = `${t}\u0000${name}`;
    let m = this.metricsByName.get(key);
    if (!m) {
      m = { type: t, name, value: 0, count: 0, sum: 0 };
      this.metricsByName.set(key, m);
    }
    this.metrics.set(id, m);
    return id;
  }

  incrementMetric(id: number, offset: bigint): number {
    const type = id & 3;
    if (type === 2) return WasmResult.BadArgument;
    if (type > 2) return WasmResult.BadArgument;
    const m = this.metrics.get(id);
    if (!m) return WasmResult.NotFound;
    if (type === 0) {
      if (offset <= 0n) return WasmResult.BadArgument;
      m.value += Number(offset);
    } else {
      m.value += Number(offset);
    }
    return WasmResult.Ok;
  }

  recordMetric(id: number, value: bigint): number {
    const m = this.metrics.get(id);
    if (!m || (id & 3) > 2) return WasmResult.NotFound;
    const v = Number(value);
    if (m.type === 0) m.value += v;
    else if (m.type === 1) m.value = v;
    else { m.value = v; m.count++; m.sum += v; }
    return WasmResult.Ok;
  }

  getMetric(id: number): bigint | number {
    const type = id & 3;
    if (type >= 2) return -WasmResult.BadArgument;
    const m = this.metrics.get(id);
    if (!m) return -WasmResult.NotFound;
    return BigInt(Math.max(0, Math.trunc(m.value)));
  }

  metricSnapshot(): Map<string, { type: 'counter' | 'gauge' | 'histogram'; value: number; count?: number; sum?: number }> {
    const out = new Map<string, { type: 'counter' | 'gauge' | 'histogram'; value: number; count?: number; sum?: number }>();
    for (const m of this.metricsByName.values()) {
      const type = m.type === 0 ? 'counter' : m.type === 1 ? 'gauge' : 'histogram';
      out.set(m.name, m.type === 2 ? { type, value: m.value, count: m.count, sum: m.sum } : { type, value: m.value });
    }
    return out;
  }

  // ---- ticks ----

  setTickPeriod(root: Context, ms: number): void {
    root.tickTimer?.cancel();
    root.tickTimer = null;
    root.tickPeriodMs = ms;
    if (ms > 0 && !this.failed && !this.closed) this.armTick(root);
  }

  private armTick(root: Context): void {
    const period = root.tickPeriodMs;
    root.tickTimer = this.opts.env.clock.setTimer(period, () => {
      root.tickTimer = null;
      if (this.failed || this.closed || root.tickPeriodMs !== period) return;
      this.armTick(root);
      this.call(root, 'proxy_on_tick');
    });
  }

  // ---- shared queues ----

  onQueueReady(token: number, contextId: number): void {
    this.defer(() => {
      const c = this.contexts.get(contextId);
      if (c && !this.closed) this.call(c, 'proxy_on_queue_ready', token);
    });
  }
}
