// Upstream clusters: the current hosts of each cluster (static, or resolved by
// DNS like Envoy's STRICT_DNS / LOGICAL_DNS), round-robin choice, and one
// keep-alive connection pool per cluster behind its circuit breakers.
import { lookup } from 'node:dns/promises';
import type { Agent } from 'node:http';
import { isIP } from 'node:net';
import { ClusterPool, type PoolSlot, type PoolStats, newPoolStats } from './circuit-breakers.js';
import type { ClusterConfig, SocketAddress } from './config/model.js';

export interface ClusterStats extends PoolStats {
  upstream_rq_total: number;
  upstream_cx_connect_fail: number;
  upstream_rq_timeout: number;
  upstream_cx_none_healthy: number;
}

export class Cluster {
  readonly name: string;
  readonly connectTimeoutMs: number;
  readonly stats: ClusterStats = { upstream_rq_total: 0, upstream_cx_connect_fail: 0, upstream_rq_timeout: 0, upstream_cx_none_healthy: 0, ...newPoolStats() };
  private readonly pool: ClusterPool;
  private hosts: SocketAddress[];
  private endpoints: SocketAddress[];
  private next = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly config: ClusterConfig) {
    this.name = config.name;
    this.connectTimeoutMs = config.connectTimeoutMs;
    this.pool = new ClusterPool(config.circuitBreakers, this.stats);
    this.endpoints = [...config.endpoints];
    this.hosts = config.type === 'STATIC' ? [...config.endpoints] : [];
  }

  /** Points endpoints that name `from` (a loopback listener of this sidecar) at `to`. */
  redirect(from: SocketAddress, to: SocketAddress): boolean {
    let changed = false;
    const swap = (list: SocketAddress[]): SocketAddress[] =>
      list.map((ep) => {
        if (ep.port === from.port && isLoopbackOrAny(ep.address) && isLoopbackOrAny(from.address)) {
          changed = true;
          return to;
        }
        return ep;
      });
    this.endpoints = swap(this.endpoints);
    if (this.config.type === 'STATIC') this.hosts = swap(this.hosts);
    return changed;
  }

  /** Resolves DNS clusters now and keeps re-resolving them in the background. */
  async start(): Promise<void> {
    if (this.config.type === 'STATIC') return;
    await this.resolve();
    this.timer = setInterval(() => void this.resolve(), Math.max(this.config.dnsRefreshMs, 100));
    this.timer.unref();
  }

  private async resolve(): Promise<void> {
    const resolved: SocketAddress[] = [];
    for (const ep of this.endpoints) {
      if (isIP(ep.address)) {
        resolved.push(ep);
        continue;
      }
      try {
        const addrs = await lookup(ep.address, { all: true });
        // LOGICAL_DNS uses only the first address, STRICT_DNS all of them.
        const use = this.config.type === 'LOGICAL_DNS' ? addrs.slice(0, 1) : addrs;
        for (const a of use) resolved.push({ address: a.address, port: ep.port });
      } catch {
        // An unresolvable name contributes no host, as in Envoy.
      }
    }
    this.hosts = resolved;
  }

  currentHosts(): readonly SocketAddress[] {
    return this.hosts;
  }

  /** The next host, or undefined when the cluster has none ("no healthy upstream"). */
  pick(): SocketAddress | undefined {
    if (this.hosts.length === 0) {
      this.stats.upstream_cx_none_healthy++;
      return undefined;
    }
    const h = this.hosts[this.next % this.hosts.length]!;
    this.next = (this.next + 1) % this.hosts.length;
    return h;
  }

  /** Connections stay open between requests, as in Envoy's connection pools. */
  get agent(): Agent {
    return this.pool.agent;
  }

  /** A place for one request to `host` under the cluster's circuit breakers; undefined on overflow. */
  admit(host: SocketAddress): PoolSlot | undefined {
    return this.pool.admit(host);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.pool.close();
  }
}

function isLoopbackOrAny(address: string): boolean {
  return address === '127.0.0.1' || address === 'localhost' || address === '0.0.0.0' || address === '::1' || address === '::';
}

export class ClusterManager {
  private readonly clusters = new Map<string, Cluster>();

  constructor(configs: ReadonlyMap<string, ClusterConfig>) {
    for (const [name, c] of configs) this.clusters.set(name, new Cluster(c));
  }

  async start(): Promise<void> {
    await Promise.all([...this.clusters.values()].map((c) => c.start()));
  }

  has(name: string): boolean {
    return this.clusters.has(name);
  }

  get(name: string): Cluster | undefined {
    return this.clusters.get(name);
  }

  all(): Cluster[] {
    return [...this.clusters.values()];
  }

  close(): void {
    for (const c of this.clusters.values()) c.close();
  }
}
