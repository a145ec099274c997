// The local sidecar: an Envoy-like HTTP/1.1 data plane built from an Envoy v3
// bootstrap, running our proxy-wasm filter in the project's Node.js host.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { startAdmin } from './admin.js';
import { ClusterManager } from './clusters.js';
import { type CollectorEndpointStats, collectorClusters, countCollectorCallsWithoutEndpoint, warnCollectorsWithoutEndpoints } from './collector-endpoints.js';
import { type ConfigOverrides, loadEnvoyConfig } from './config/parse.js';
import type { ListenerConfig, SidecarConfig, WasmFilterConfig } from './config/model.js';
import type { HttpFilterFactory } from './filter.js';
import { type HttpCallStats, type HttpCallerOptions, createHttpCaller } from './http-call.js';
import type { MirrorStats } from './mirror.js';
import { type ListenerContext, type ListenerStats, handleRequest } from './proxy.js';
import { loadWasmFilter } from './wasm-filter.js';
import { ConfigError } from './config/reader.js';
import { headerLimitServerOptions, refuseTooManyHeaders } from './header-limits.js';

export { ConfigError } from './config/reader.js';
export type { ConfigOverrides } from './config/parse.js';
export { loadEnvoyConfig, parseEnvoyConfig } from './config/parse.js';
export type { SidecarConfig } from './config/model.js';
export type { HttpFilterFactory, HttpFilterStream, StreamControl, StreamInfo, FilterStatus } from './filter.js';

export type SidecarLogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'critical';

/** What a filter implementation gets from the sidecar. */
export interface SidecarEnvironment {
  readonly clusters: ClusterManager;
  readonly httpCall: ReturnType<typeof createHttpCaller>;
  readonly logLevel: SidecarLogLevel;
  readonly log: (line: string) => void;
  /** How a filter's http_call timeout is delivered: Envoy's 504 response, or a reset. */
  readonly httpCallTimeoutAs: 'response' | 'reset';
  /** The bootstrap's node (properties node.id, node.cluster, node.metadata.*). */
  readonly node: SidecarConfig['node'];
}

export interface FilterWithStats extends HttpFilterFactory {
  /** Named numbers for /stats (the module's metrics, VM state). */
  stats?(): Array<[string, number]>;
  /** Replaced by a reload: finish outstanding work (a wasm plugin's delayed done), then stop. */
  retire?(): Promise<void>;
}

export type FilterLoader = (config: WasmFilterConfig, env: SidecarEnvironment) => Promise<FilterWithStats>;

export interface SidecarOptions extends ConfigOverrides {
  /** The Envoy v3 bootstrap YAML. */
  readonly envoyConfigPath: string;
  /** proxy_get_log_level and the lowest level printed (default info). */
  readonly logLevel?: SidecarLogLevel;
  /** Where log lines and the unimplemented-fields warning go (default stderr). */
  readonly log?: (line: string) => void;
  /** Default 'response' (Envoy's async client); 'reset' delivers connect failures as (0,0,0). */
  readonly httpCallConnectFailureAs?: HttpCallerOptions['connectFailureAs'];
  /** Default 'response' (504 "upstream request timeout"); 'reset' delivers timeouts as (0,0,0). */
  readonly httpCallTimeoutAs?: 'response' | 'reset';
  /** Replaces how wasm filters are loaded (tests use this for hand-written filters). */
  readonly filterLoader?: FilterLoader;
}

export interface ListenerAddress {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly url: string;
}

export interface RunningSidecar {
  readonly config: SidecarConfig;
  readonly listeners: readonly ListenerAddress[];
  /** Port of the first listener. */
  readonly port: number;
  readonly url: string;
  readonly adminPort: number | undefined;
  /** Every counter the admin /stats shows. */
  stats(): Record<string, number>;
  /**
   * Replaces every wasm filter with one built from the bootstrap's current text (re-read from
   * envoyConfigPath, or `next`), as Envoy does when a plugin configuration changes: new
   * streams get the new plugin at once; the old plugin gets proxy_on_done and, if it answers
   * false, keeps its calls and ticks until it calls proxy_done. Resolves when the old plugins
   * are gone. Only filter configurations are reloaded: changed listeners are refused
   * (ConfigError), clusters stay as started. A new plugin that fails to load rejects the reload
   * and keeps the old ones, as Envoy rejects the update.
   */
  reload(next?: SidecarConfig): Promise<void>;
  close(): Promise<void>;
}

export async function startSidecar(options: SidecarOptions): Promise<RunningSidecar> {
  const config = loadEnvoyConfig(options.envoyConfigPath, options);
  return startSidecarFromConfig(config, options, () => loadEnvoyConfig(options.envoyConfigPath, options));
}

export async function startSidecarFromConfig(
  config: SidecarConfig,
  options: Omit<SidecarOptions, 'envoyConfigPath'> = {},
  reread?: () => SidecarConfig,
): Promise<RunningSidecar> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (config.unimplemented.length > 0) {
    log(`sidecar: warning: ignoring Envoy fields the sidecar does not implement: ${config.unimplemented.join(', ')}`);
  }
  const clusters = new ClusterManager(config.clusters);
  await clusters.start();
  const callStats: HttpCallStats = { http_calls: 0, http_call_responses: 0, http_call_failures: 0, http_call_inline_failures: 0 };
  warnCollectorsWithoutEndpoints(config, clusters, log);
  const collectorStats: CollectorEndpointStats = { collector_no_endpoint: 0 };
  const httpCall = createHttpCaller(clusters, { connectFailureAs: options.httpCallConnectFailureAs ?? 'response' }, callStats);
  const env: SidecarEnvironment = {
    clusters,
    httpCall: countCollectorCallsWithoutEndpoint(httpCall, collectorClusters(config), clusters, collectorStats),
    logLevel: options.logLevel ?? 'info',
    log,
    httpCallTimeoutAs: options.httpCallTimeoutAs ?? 'response',
    node: config.node,
  };
  const loader = options.filterLoader ?? loadWasmFilter;

  const servers: Server[] = [];
  const filters: FilterWithStats[] = [];
  const contexts: ListenerContext[] = [];
  const listenerStats = new Map<string, ListenerStats>();
  const mirrorStats: MirrorStats = { sent: 0, responses: 0, failures: 0, skipped_body_too_large: 0, skipped_no_host: 0, skipped_overflow: 0, not_sampled: 0, no_cluster_header: 0 };
  const closeAll = async (): Promise<void> => {
    await Promise.all(servers.map((s) => closeServer(s)));
    for (const f of filters) await f.close();
    clusters.close();
  };

  const addresses: ListenerAddress[] = [];
  try {
    for (const l of config.listeners) {
      const chain: FilterWithStats[] = [];
      for (const fc of l.hcm.httpFilters) {
        if (fc.kind !== 'wasm') continue;
        const f = await loader(fc, env);
        filters.push(f);
        chain.push(f);
      }
      const stats: ListenerStats = { downstream_rq_total: 0, downstream_rq_completed: 0, downstream_rq_reset: 0, local_replies: 0, filter_errors: 0 };
      listenerStats.set(l.name, stats);
      const ctx: ListenerContext = { config: l, clusters, filters: chain, mirrorStats, stats, log };
      contexts.push(ctx);
      const server = await listen(l, ctx);
      servers.push(server);
      const port = (server.address() as AddressInfo).port;
      addresses.push({ name: l.name, address: l.address.address, port, url: `http://${urlHost(l.address.address)}:${port}` });
      // A cluster that targets one of this file's own listeners (Envoy-mirror mode's shadow
      // inbound) follows that listener when an override moved it.
      if (port !== l.declaredAddress.port || l.address.address !== l.declaredAddress.address) {
        for (const c of clusters.all()) c.redirect(l.declaredAddress, { address: urlHost(l.address.address).replace(/^\[|\]$/g, ''), port });
      }
    }
  } catch (err) {
    await closeAll();
    throw err;
  }

  const allStats = (): Array<[string, number]> => {
    const rows: Array<[string, number]> = [];
    for (const c of clusters.all()) {
      for (const [k, v] of Object.entries(c.stats)) rows.push([`cluster.${c.name}.${k}`, v]);
      rows.push([`cluster.${c.name}.membership_total`, c.currentHosts().length]);
    }
    for (const [name, s] of listenerStats) for (const [k, v] of Object.entries(s)) rows.push([`http.${name}.${k}`, v]);
    for (const [k, v] of Object.entries(mirrorStats)) rows.push([`sidecar.mirror.${k}`, v]);
    for (const [k, v] of Object.entries(callStats)) rows.push([`sidecar.${k}`, v]);
    rows.push(['sidecar.collector_no_endpoint', collectorStats.collector_no_endpoint]);
    for (const f of filters) rows.push(...(f.stats?.() ?? []));
    return rows;
  };

  let adminServer: Server | undefined;
  if (config.admin) {
    try {
      adminServer = await startAdmin(config.admin.address, config.admin.port, allStats, () =>
        clusters.all().flatMap((c) => c.currentHosts().map((h) => `${c.name}::${h.address}:${h.port}`)),
      );
      servers.push(adminServer);
    } catch (err) {
      await closeAll();
      throw err;
    }
  }

  return {
    config,
    listeners: addresses,
    port: addresses[0]!.port,
    url: addresses[0]!.url,
    adminPort: adminServer ? (adminServer.address() as AddressInfo).port : undefined,
    stats: () => Object.fromEntries(allStats()),
    reload: async (next) => {
      const cfg = next ?? reread?.();
      if (!cfg) throw new Error('reload: the sidecar was started from a parsed configuration; pass the new one');
      const names = (c: SidecarConfig): string => c.listeners.map((l) => l.name).join('\u0000');
      if (names(cfg) !== names(config)) {
        throw new ConfigError('static_resources.listeners', 'a reload may change wasm filter configurations only; listeners changed (restart the sidecar)');
      }
      const fresh: FilterWithStats[][] = [];
      try {
        for (const l of cfg.listeners) {
          const chain: FilterWithStats[] = [];
          fresh.push(chain);
          for (const fc of l.hcm.httpFilters) if (fc.kind === 'wasm') chain.push(await loader(fc, env));
        }
      } catch (err) {
        for (const f of fresh.flat()) await f.close();
        throw err;
      }
      const old = filters.splice(0, filters.length, ...fresh.flat());
      contexts.forEach((ctx, i) => { ctx.filters = fresh[i]!; });
      await Promise.all(old.map((f) => (f.retire ? f.retire() : f.close())));
    },
    close: closeAll,
  };
}

function listen(l: ListenerConfig, ctx: ListenerContext): Promise<Server> {
  const server = createServer(headerLimitServerOptions, (req, res) => {
    if (!refuseTooManyHeaders(req, res, ctx.config.hcm.serverName)) handleRequest(ctx, req, res);
  });
  // No upgrade_configs in the subset: Envoy refuses an upgrade (and CONNECT) with 403 (upgrade_failed).
  const refuse = (_req: unknown, socket: Duplex): void => {
    socket.on('error', () => {});
    socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nserver: ${ctx.config.hcm.serverName}\r\nconnection: close\r\n\r\n`);
  };
  server.on('upgrade', refuse);
  server.on('connect', refuse);
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`${l.yamlPath}: cannot listen on ${l.address.address}:${l.address.port}: ${err.message}`)));
    server.listen(l.address.port, l.address.address, () => resolve(server));
  });
}

function closeServer(s: Server): Promise<void> {
  return new Promise((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  });
}

function urlHost(address: string): string {
  if (address === '0.0.0.0' || address === '::') return '127.0.0.1';
  return address.includes(':') ? `[${address}]` : address;
}
