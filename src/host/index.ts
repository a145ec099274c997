// The host runtime: loads a proxy-wasm module the way Envoy does (link check, canary VM, start
// sequence) and hands the data plane one HttpStream per HTTP stream.

import {
  ABI_EXPORT_TO_VERSION, WASI_MODULES, WASI_SIGNATURES, envImportsFor, expectedExports, type AbiVersion,
} from './envoy-abi.js';
import { buildImports, type ImportState } from './imports.js';
import { GLOBAL_SHARED_STORE, SharedStore } from './shared.js';
import { HttpStreamImpl, newStreamInfo, type HttpStream } from './stream.js';
import type { HostEnvironment, MetricValue, StreamInfo } from './types.js';
import { ConfigRejected, HostLoadError, Vm, type VmOptions } from './vm.js';
import { WasmBinaryError, formatSignature, readModuleInfo, type ModuleInfo } from './wasm-binary.js';
import { encodeUtf8 } from './codec.js';

export * from './types.js';
export type { HttpStream, CompleteOptions } from './stream.js';
export { ConfigRejected, HostLoadError } from './vm.js';
export { SharedStore } from './shared.js';
export { encodePairs, decodePairs, headerValue, PAIRS_MAX_BYTES, PAIRS_MAX_COUNT } from './codec.js';
export { WasmResult, MapType, BufferType, MetricType, HeadersStatus, DataStatus, LOG_LEVELS } from './envoy-abi.js';

export interface PluginOptions {
  /** Plugin name (property plugin_name; Envoy's `name`). */
  name: string;
  /** Root id (property plugin_root_id; Istio: pluginName). Default ''. */
  rootId?: string;
  /** vm_id: VMs with the same id share shared data and queues. Default ''. */
  vmId?: string;
  /** vm_config.configuration (buffer VmConfiguration=6). */
  vmConfig?: string | Uint8Array;
  /** Plugin configuration (buffer PluginConfiguration=7, during proxy_on_configure). */
  configuration?: string | Uint8Array;
  /** After a trap: true → streams pass untouched; false (Envoy's default) → 503 wasm_fail_stream. */
  failOpen?: boolean;
  env: HostEnvironment;
  /** Where shared data / queues live. Default: one process-wide store. */
  store?: SharedStore;
  /** vm_config.environment_variables (WASI environ_get). */
  environment?: Record<string, string>;
  /**
   * Whether request.* attributes built from request headers (path, method, id, …) stay readable
   * after on_request_headers returned Continue. false (default) = NotFound there, as older Envoy;
   * newer Envoy falls back to the stream's request headers. A filter should handle both.
   */
  requestAttributesAfterHeaders?: boolean;
  /**
   * Model an older Envoy: serve the top-level attributes Envoy 1.33 removed (node.*, cluster_name,
   * cluster_metadata, route_name, route_metadata, upstream_host_metadata, listener_direction,
   * listener_metadata) and no `xds.*`. Default false: current Envoy (`xds.*` only).
   */
  legacyAttributes?: boolean;
  /** How an http_call timeout reaches the module: a 504 response (default, Envoy's async client) or a reset. */
  httpCallTimeoutAs?: 'status504' | 'reset';
  /** Run a throw-away canary VM first, as Envoy does (default true). */
  canary?: boolean;
}

const moduleInfoCache = new WeakMap<WebAssembly.Module, ModuleInfo>();

/** Compiles a module and remembers its import types so load() can check them. */
export async function compilePlugin(bytes: Uint8Array): Promise<WebAssembly.Module> {
  const info = parseInfo(bytes);
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw new HostLoadError('bad_binary', `Failed to load Wasm bytecode: ${(err as Error).message}`);
  }
  moduleInfoCache.set(module, info);
  return module;
}

function parseInfo(bytes: Uint8Array): ModuleInfo {
  try {
    return readModuleInfo(bytes);
  } catch (err) {
    if (err instanceof WasmBinaryError) throw new HostLoadError('bad_binary', `Failed to parse corrupted Wasm module: ${err.message}`);
    throw err;
  }
}

function abiOf(info: ModuleInfo): AbiVersion {
  for (const e of info.exports) {
    const v = ABI_EXPORT_TO_VERSION[e.name];
    if (v && e.kind === 'function') return v;
  }
  throw new HostLoadError('missing_abi_version', 'Missing or unknown Proxy-Wasm ABI version');
}

/** Envoy's link step: every import must be one the host provides, with the same signature. */
function checkImports(info: ModuleInfo, abi: AbiVersion): void {
  const envTable = envImportsFor(abi);
  for (const imp of info.imports) {
    const full = `${imp.module}.${imp.name}`;
    if (imp.desc.kind === 'memory') continue;
    if (imp.desc.kind !== 'function') {
      throw new HostLoadError('missing_import', `Failed to load Wasm module due to a missing import: ${full}`);
    }
    const want = imp.module === 'env' ? envTable[imp.name] : WASI_MODULES.includes(imp.module) ? WASI_SIGNATURES[imp.name] : undefined;
    if (!want || !Object.prototype.hasOwnProperty.call(imp.module === 'env' ? envTable : WASI_SIGNATURES, imp.name)) {
      throw new HostLoadError('missing_import', `Failed to load Wasm module due to a missing import: ${full}`);
    }
    const got = imp.desc.type;
    const same = got.params.length === want.params.length && got.results.length === want.results.length
      && got.params.every((t, i) => t === want.params[i]) && got.results.every((t, i) => t === want.results[i]);
    if (!same) {
      throw new HostLoadError('import_type_mismatch',
        `Failed to load Wasm module due to an import type mismatch: ${full}, want: ${formatSignature(got)}, but host exports: ${formatSignature(want)}`);
    }
  }
}

/** Envoy's export lookup: a callback it knows with another signature fails the load. */
function checkExports(info: ModuleInfo, abi: AbiVersion): void {
  const want = expectedExports(abi);
  for (const e of info.exports) {
    if (e.kind !== 'function' || !e.type || !Object.prototype.hasOwnProperty.call(want, e.name)) continue;
    const w = want[e.name]!;
    const t = e.type;
    const same = t.params.length === w.params.length && t.results.length === w.results.length
      && t.params.every((x, i) => x === w.params[i]) && t.results.every((x, i) => x === w.results[i]);
    if (!same) {
      throw new HostLoadError('bad_export_signature',
        `Bad function signature for: ${e.name}, want: ${formatSignature(w)}, but the module exports: ${formatSignature(t)}`);
    }
  }
}

function toBytes(v: string | Uint8Array | undefined): Uint8Array {
  if (v === undefined) return new Uint8Array(0);
  return typeof v === 'string' ? encodeUtf8(v) : v;
}

/** A canary VM must not reach the network: its calls are dropped with it, as Envoy cancels them. */
function canaryEnv(env: HostEnvironment): HostEnvironment {
  return {
    ...env,
    httpCall: () => ({ cancel() {} }),
    clock: { ...env.clock, nowMs: () => env.clock.nowMs(), setTimer: () => ({ cancel() {} }) },
  };
}

export class PluginHost {
  private constructor(private readonly vm: Vm, readonly abiVersion: AbiVersion) {}

  /**
   * Loads and starts a plugin like Envoy: link check, canary VM start + configure, then the
   * worker VM. Throws HostLoadError (link/start problems) or ConfigRejected (on_vm_start or
   * on_configure returned false, or trapped).
   */
  static async load(wasm: Uint8Array | WebAssembly.Module, opts: PluginOptions): Promise<PluginHost> {
    let module: WebAssembly.Module;
    let info: ModuleInfo | undefined;
    if (wasm instanceof WebAssembly.Module) {
      module = wasm;
      info = moduleInfoCache.get(wasm);
    } else {
      module = await compilePlugin(wasm);
      info = moduleInfoCache.get(module);
    }
    if (!info) throw new HostLoadError('bad_binary', 'pass the wasm bytes, or a module from compilePlugin(): import types must be read from the binary');
    const abi = abiOf(info);
    checkImports(info, abi);
    checkExports(info, abi);
    const base: Omit<VmOptions, 'role' | 'env'> = {
      name: opts.name,
      rootId: opts.rootId ?? '',
      vmId: opts.vmId ?? '',
      vmConfig: toBytes(opts.vmConfig),
      pluginConfig: toBytes(opts.configuration),
      failOpen: opts.failOpen ?? false,
      store: opts.store ?? GLOBAL_SHARED_STORE,
      requestAttributesAfterHeaders: opts.requestAttributesAfterHeaders ?? false,
      legacyAttributes: opts.legacyAttributes ?? false,
      httpCallTimeoutAs: opts.httpCallTimeoutAs ?? 'status504',
    };
    const environment = opts.environment ?? {};
    if (opts.canary !== false) {
      const canary = await startVm(module, info, abi, { ...base, role: 'canary', env: canaryEnv(opts.env) }, environment);
      canary.closed = true;
      canary.cancelAll();
      base.store.forgetOwner(canary);
    }
    const vm = await startVm(module, info, abi, { ...base, role: 'worker', env: opts.env }, environment);
    return new PluginHost(vm, abi);
  }

  get name(): string { return this.vm.opts.name; }
  get rootId(): string { return this.vm.opts.rootId; }
  get rootContextId(): number { return this.vm.rootCtx.id; }
  /** The VM trapped; streams now fail open or closed as configured. */
  get failed(): boolean { return this.vm.failed; }
  get failMessage(): string { return this.vm.failMessage; }
  /** Import calls the module made (one per call), for counting host calls per request. */
  get hostCalls(): number { return this.vm.hostCalls; }
  resetHostCalls(): void { this.vm.hostCalls = 0; }
  get tickPeriodMs(): number { return this.vm.rootCtx.tickPeriodMs; }
  /** Outbound calls not answered yet. */
  get pendingHttpCalls(): number { return this.vm.rootCtx.calls.size; }
  /** The root context is gone: no callback runs any more. */
  get closed(): boolean { return this.vm.closed; }
  /** close() was called and the root's on_done answered false: waiting for proxy_done. */
  get closing(): boolean { return this.vm.pendingDone; }
  /** Resolves when the root context is gone (after close() and, if delayed, proxy_done; or kill()). */
  get done(): Promise<void> { return this.vm.gone; }
  /** The worker VM's exports (memory included), for host tests and debugging. */
  get moduleExports(): WebAssembly.Exports { return this.vm.instance.exports; }

  /** A new HTTP stream; its context id is taken now, the in-VM context is created lazily. */
  newStream(info: StreamInfo = {}): HttpStream {
    if (this.vm.closed || this.vm.pendingDone) throw new Error('plugin host is closed');
    const ctx = this.vm.newContext(this.vm.rootCtx);
    return new HttpStreamImpl(this.vm, ctx, newStreamInfo(info, this.vm.opts.env.clock));
  }

  /** Fires proxy_on_tick on the root context now (the timer keeps its schedule). */
  tick(): void {
    if (this.vm.closed) return;
    this.vm.call(this.vm.rootCtx, 'proxy_on_tick');
  }

  metrics(): Map<string, MetricValue> {
    return this.vm.metricSnapshot();
  }

  metric(name: string): number | undefined {
    return this.vm.metricSnapshot().get(name)?.value;
  }

  /**
   * The plugin is removed (Envoy's WasmBase::startShutdown, on plugin or VM replacement): the
   * root's proxy_on_done runs; true → proxy_on_delete, then timers and outstanding calls are
   * cancelled with no callback. False → the root stays alive — ticks, call answers and streams
   * already running still reach it, new streams are refused — until the module calls
   * proxy_done, after which the same deletion follows. Returns whether the root is gone now.
   */
  close(): boolean {
    const vm = this.vm;
    if (vm.closed || vm.pendingDone) return vm.closed;
    if (vm.failed) {
      vm.finishShutdown(false);
      return true;
    }
    const r = vm.call(vm.rootCtx, 'proxy_on_done');
    if (r === 0 && !vm.failed) {
      vm.pendingDone = true;
      return false;
    }
    vm.finishShutdown(true);
    return true;
  }

  /** The VM is destroyed (Envoy drops it): no callback; timers and outstanding calls are cancelled. */
  kill(): void {
    this.vm.finishShutdown(false);
  }
}

async function startVm(module: WebAssembly.Module, info: ModuleInfo, abi: AbiVersion, opts: VmOptions, environment: Record<string, string>): Promise<Vm> {
  const vm = new Vm(opts, abi);
  const state: ImportState = { configuring: false, environment };
  const { env, wasi } = buildImports(vm, abi, state);
  const imports: Record<string, Record<string, unknown>> = { env: { ...env } };
  for (const m of WASI_MODULES) imports[m] = wasi;
  let importedMemory: WebAssembly.Memory | null = null;
  for (const imp of info.imports) {
    if (imp.desc.kind !== 'memory') continue;
    const l = imp.desc.limits;
    importedMemory = new WebAssembly.Memory(l.maximum === undefined ? { initial: l.initial } : { initial: l.initial, maximum: l.maximum });
    (imports[imp.module] ??= {})[imp.name] = importedMemory;
  }
  let instance: WebAssembly.Instance;
  try {
    vm.restricted = true;
    instance = await WebAssembly.instantiate(module, imports as WebAssembly.Imports);
  } catch (err) {
    throw new HostLoadError('start_failed', `Failed to create new Wasm instance: ${(err as Error).message}`);
  } finally {
    vm.restricted = false;
  }
  vm.attach(instance, importedMemory);
  // A WASI reactor (_initialize) may also have main(0, 0) or __main_void for early set-up; a
  // command has _start. Envoy calls them in this order.
  const ex = instance.exports;
  let ok: boolean;
  if (typeof ex['_initialize'] === 'function') {
    ok = vm.callStart('_initialize');
    if (ok && typeof ex['main'] === 'function') ok = vm.callStart('main');
    else if (ok && typeof ex['__main_void'] === 'function') ok = vm.callStart('__main_void');
  } else {
    ok = vm.callStart('_start');
  }
  if (!ok) throw new HostLoadError('start_failed', `Failed to start base Wasm: ${vm.failMessage}`);
  const root = vm.rootCtx;
  root.inVmCreated = true;
  vm.call(root, 'proxy_on_context_create', 0);
  if (vm.cb.proxy_on_vm_start) {
    const r = vm.call(root, 'proxy_on_vm_start', opts.vmConfig.length);
    if (r === undefined) throw new ConfigRejected(`Failed to start base Wasm: ${vm.failMessage}`);
    if (r === 0) throw new ConfigRejected('Failed to start base Wasm: proxy_on_vm_start returned false');
  }
  if (vm.failed) throw new ConfigRejected(`Failed to start base Wasm: ${vm.failMessage}`);
  if (vm.cb.proxy_on_configure) {
    state.configuring = true;
    const r = vm.call(root, 'proxy_on_configure', opts.pluginConfig.length);
    state.configuring = false;
    if (r === undefined) throw new ConfigRejected(`Failed to configure base Wasm plugin: ${vm.failMessage}`);
    if (r === 0) throw new ConfigRejected('Failed to configure base Wasm plugin: proxy_on_configure returned false');
  }
  return vm;
}

// Wall clock in ns: the epoch offset taken once, then the monotonic high-resolution timer, so
// modules can measure sub-millisecond latencies (Date.now() alone is millisecond-precise).
const wallBaseNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** A real-time environment clock for data planes (setTimeout-based; timers unref'd). */
export const realClock = {
  nowMs: (): number => Date.now(),
  nowNs: (): bigint => wallBaseNs + process.hrtime.bigint(),
  monotonicNs: (): bigint => process.hrtime.bigint(),
  setTimer(ms: number, fn: () => void) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};
