// A filter whose collector_cluster has no endpoint drops every record it makes:
// its calls to the collector fail before leaving the sidecar. That is easy to
// miss on a laptop (envoy/envoy.yaml names the Docker host `collector`, which does
// not resolve without --resolve), so the sidecar says so once at start and
// counts each such call in /stats (sidecar.collector_no_endpoint).
import type { ClusterManager } from './clusters.js';
import type { SidecarConfig, WasmFilterConfig } from './config/model.js';
import type { HttpCallRequestLike } from './http-call.js';

/** The filter's default (docs/filter.md). */
const DEFAULT_COLLECTOR_CLUSTER = 'collector';

export interface CollectorEndpointStats {
  collector_no_endpoint: number;
}

/** collector_cluster of a wasm filter's plugin configuration, if it is JSON we can read. */
export function collectorClusterOf(f: WasmFilterConfig): string | undefined {
  const text = f.configuration?.trim() ?? '';
  if (text === '') return DEFAULT_COLLECTOR_CLUSTER;
  try {
    const cfg = JSON.parse(text) as unknown;
    if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) return undefined;
    const name = (cfg as Record<string, unknown>)['collector_cluster'];
    if (name === undefined) return DEFAULT_COLLECTOR_CLUSTER;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined; // the filter itself reports a bad configuration
  }
}

export function collectorClusters(config: SidecarConfig): Set<string> {
  const names = new Set<string>();
  for (const l of config.listeners) {
    for (const f of l.hcm.httpFilters) {
      if (f.kind !== 'wasm') continue;
      const name = collectorClusterOf(f);
      if (name !== undefined) names.add(name);
    }
  }
  return names;
}

/** One warning per collector cluster that is missing or has no endpoint now. */
export function warnCollectorsWithoutEndpoints(config: SidecarConfig, clusters: ClusterManager, log: (line: string) => void): void {
  for (const name of collectorClusters(config)) {
    const cluster = clusters.get(name);
    if (!cluster) {
      log(`sidecar: warning: collector_cluster "${name}" is not a cluster of this file: records will be dropped (counted in /stats as sidecar.collector_no_endpoint)`);
    } else if (cluster.currentHosts().length === 0) {
      log(
        `sidecar: warning: collector_cluster "${name}" has no endpoint (its address did not resolve): records will be dropped until it has one ` +
          `(counted in /stats as sidecar.collector_no_endpoint); on a laptop pass --resolve ${name}=127.0.0.1:8700`,
      );
    }
  }
}

/** Wraps the filters' http_call so calls to a collector cluster without a host are counted. */
export function countCollectorCallsWithoutEndpoint<R>(
  call: (req: HttpCallRequestLike, done: (res: R) => void) => { cancel(): void } | boolean,
  collectors: ReadonlySet<string>,
  clusters: ClusterManager,
  stats: CollectorEndpointStats,
): (req: HttpCallRequestLike, done: (res: R) => void) => { cancel(): void } | boolean {
  return (req, done) => {
    if (collectors.has(req.cluster)) {
      const c = clusters.get(req.cluster);
      if (!c || c.currentHosts().length === 0) stats.collector_no_endpoint++;
    }
    return call(req, done);
  };
}
