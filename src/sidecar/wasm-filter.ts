// Runs an envoy.filters.http.wasm filter in the project's proxy-wasm host
// (src/host): one VM per filter configuration in this process (Envoy's single
// worker), streams mapped one to one, http_calls sent to the sidecar's clusters.
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  ConfigRejected,
  HostLoadError,
  type HostEnvironment,
  type HttpStream,
  type LogLevel,
  PluginHost,
  compilePlugin,
  realClock,
} from '../host/index.js';
import type { WasmFilterConfig } from './config/model.js';
import { ConfigError } from './config/reader.js';
import type { FilterStatus, HttpFilterStream, StreamControl, StreamInfo } from './filter.js';
import type { FilterWithStats, SidecarEnvironment } from './index.js';

/** Runtimes Envoy runs the same bytecode on; the null VM means native code, which we cannot load. */
const WASM_RUNTIMES = new Set(['envoy.wasm.runtime.v8', 'envoy.wasm.runtime.wamr', 'envoy.wasm.runtime.wasmtime', 'envoy.wasm.runtime.wavm', '']);

const modules = new Map<string, Promise<WebAssembly.Module>>();

/** How long a stopping sidecar lets a removed plugin finish (Envoy itself does not wait at shutdown). */
const CLOSE_GRACE_MS = 2000;
/** Upper bound for a plugin replaced by a reload; the shadowmesh filter's own deadline is shorter. */
const RETIRE_MAX_MS = 60000;

function compiled(path: string): Promise<WebAssembly.Module> {
  // Keyed by the file's identity too, so a reload after the .wasm changed compiles the new code.
  let key = path;
  try {
    const st = statSync(path);
    key = `${path}\u0000${st.mtimeMs}\u0000${st.size}`;
  } catch {
    // a missing file fails in readFile below, with its message
  }
  let m = modules.get(key);
  if (!m) {
    m = readFile(path).then((bytes) => compilePlugin(bytes));
    modules.set(key, m);
    m.catch(() => modules.delete(key));
  }
  return m;
}

export async function loadWasmFilter(config: WasmFilterConfig, env: SidecarEnvironment): Promise<FilterWithStats> {
  if (!WASM_RUNTIMES.has(config.runtime)) {
    throw new ConfigError(`${config.yamlPath}.vm_config.runtime`, `runtime "${config.runtime}" cannot run here (use envoy.wasm.runtime.v8)`);
  }
  const hostEnv: HostEnvironment = {
    clusters: { has: (name) => env.clusters.has(name) },
    httpCall: env.httpCall,
    clock: realClock,
    log: (level: LogLevel, message: string, pluginName: string, vm: 'canary' | 'worker') => {
      env.log(`[${level}] wasm log ${pluginName}${vm === 'canary' ? ' (canary)' : ''}: ${message}`);
    },
    logLevel: env.logLevel,
    // The bootstrap node: the host serves it as xds.node.* (current Envoy), or node.* when modelling an older one.
    properties: (path) => {
      if (path[0] !== 'node') return undefined;
      if (path.length === 2 && path[1] === 'id') return env.node.id;
      if (path.length === 2 && path[1] === 'cluster') return env.node.cluster;
      if (path.length === 3 && path[1] === 'metadata') return env.node.metadata[path[2]!];
      return undefined;
    },
  };
  let host: PluginHost;
  try {
    host = await PluginHost.load(await compiled(config.codePath), {
      name: config.pluginName,
      rootId: config.rootId,
      vmId: config.vmId,
      ...(config.vmConfiguration !== undefined ? { vmConfig: config.vmConfiguration } : {}),
      ...(config.configuration !== undefined ? { configuration: config.configuration } : {}),
      failOpen: config.failOpen,
      env: hostEnv,
      httpCallTimeoutAs: env.httpCallTimeoutAs === 'reset' ? 'reset' : 'status504',
    });
  } catch (err) {
    // Envoy rejects the whole configuration when a plugin fails to load or configure.
    if (err instanceof HostLoadError || err instanceof ConfigRejected) {
      throw new ConfigError(config.yamlPath, `wasm filter "${config.pluginName}" (${config.codePath}) rejected: ${err.message}`);
    }
    throw err;
  }
  return new WasmFilter(config, host);
}

class WasmFilter implements FilterWithStats {
  readonly name: string;
  constructor(
    private readonly config: WasmFilterConfig,
    readonly host: PluginHost,
  ) {
    this.name = config.pluginName;
  }

  newStream(control: StreamControl, info: StreamInfo): HttpFilterStream {
    const s: HttpStream = this.host.newStream({
      downstreamAddress: info.downstreamRemoteAddress,
      localAddress: info.downstreamLocalAddress,
      protocol: 'HTTP/1.1',
      startTimeMs: info.startTimeMs,
    });
    s.onLocalResponse = (r) => control.sendLocalReply({ status: r.status, body: r.body, headers: r.headers, details: r.details });
    s.onContinue = (e) => control.resume(e);
    s.onClose = () => control.reset();
    // The host keeps its own StreamInfo; copy what the proxy learnt since the last callback.
    const sync = (): void => {
      const h = s.info;
      if (info.routeName !== undefined) h.routeName = info.routeName;
      if (info.clusterName !== undefined) h.clusterName = info.clusterName;
      if (info.upstreamAddress !== undefined) h.upstreamAddress = info.upstreamAddress;
      if (info.responseCodeDetails !== undefined) h.responseCodeDetails = info.responseCodeDetails;
    };
    const headersStatus = (r: number): FilterStatus => (r === 0 ? 'continue' : 'stop');
    return {
      requestHeaders: (h, eos) => {
        sync();
        return headersStatus(s.onRequestHeaders(h, eos));
      },
      requestBody: (chunk, eos) => {
        const r = s.onRequestBody(chunk.data, eos);
        chunk.data = r.data;
        return r.status === 0 ? 'continue' : 'held';
      },
      requestTrailers: (t) => (s.onRequestTrailers(t) === 0 ? 'continue' : 'held'),
      responseHeaders: (h, eos) => {
        sync();
        return headersStatus(s.onResponseHeaders(h, eos));
      },
      responseBody: (chunk, eos) => {
        const r = s.onResponseBody(chunk.data, eos);
        chunk.data = r.data;
        return r.status === 0 ? 'continue' : 'held';
      },
      responseTrailers: (t) => (s.onResponseTrailers(t) === 0 ? 'continue' : 'held'),
      log: () => {
        sync();
        if (info.responseCode !== undefined) s.info.responseCode = info.responseCode;
        s.complete({
          ...(info.requestHeaders ? { requestHeaders: info.requestHeaders } : {}),
          ...(info.responseHeaders ? { responseHeaders: info.responseHeaders } : {}),
        });
      },
      // complete() already ran on_log → on_done → on_delete, in Envoy's order.
      done: () => {},
    };
  }

  stats(): Array<[string, number]> {
    const prefix = `wasm.${this.config.pluginName || 'plugin'}`;
    const rows: Array<[string, number]> = [
      [`${prefix}.vm_failed`, this.host.failed ? 1 : 0],
      [`${prefix}.pending_http_calls`, this.host.pendingHttpCalls],
    ];
    for (const [name, m] of this.host.metrics()) rows.push([`${prefix}.metric.${name}`, m.value]);
    return rows;
  }

  /** Sidecar shutdown: Envoy's plugin removal, waiting a little for a delayed done. */
  close(): Promise<void> {
    return this.retire(CLOSE_GRACE_MS);
  }

  /**
   * Removed by a reload (or shutdown): the root's proxy_on_done runs; if it answers false the
   * plugin keeps its ticks and call answers until it calls proxy_done (its own deadline), at
   * most `maxMs`; then the VM is dropped and anything still outstanding is cancelled.
   */
  async retire(maxMs = RETIRE_MAX_MS): Promise<void> {
    if (!this.host.close()) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.host.done, new Promise<void>((r) => { timer = setTimeout(r, maxMs); })]);
      clearTimeout(timer);
    }
    this.host.kill();
  }
}
