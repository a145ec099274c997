// A cluster's connection pool with Envoy's circuit breakers: at most
// max_connections open (idle ones included, which stay open as in Envoy's pool
// rather than being trimmed), at most max_pending_requests waiting for a
// connection, at most max_requests in flight. A request over a limit is refused
// at once and counted as upstream_rq_pending_overflow, as Envoy's pool does; a
// request that finds every connection busy and the connection limit reached
// waits (upstream_cx_overflow). Each request's admission and release is O(1):
// nothing here walks the requests or connections in flight.
import { Agent, type ClientRequestArgs } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { CircuitBreakerThresholds, SocketAddress } from './config/model.js';

/** Envoy's names for the pool and breaker counters of a cluster. */
export interface PoolStats {
  /** Connections opened so far. */
  upstream_cx_total: number;
  upstream_cx_active: number;
  /** Times a request found the connection limit reached and had to wait. */
  upstream_cx_overflow: number;
  upstream_rq_active: number;
  upstream_rq_pending_active: number;
  /** Requests refused because max_pending_requests or max_requests was reached. */
  upstream_rq_pending_overflow: number;
}

export function newPoolStats(): PoolStats {
  return {
    upstream_cx_total: 0,
    upstream_cx_active: 0,
    upstream_cx_overflow: 0,
    upstream_rq_active: 0,
    upstream_rq_pending_active: 0,
    upstream_rq_pending_overflow: 0,
  };
}

/** node:http's keep-alive agent, counting the connections it opens and closes. */
class CountingAgent extends Agent {
  constructor(
    private readonly stats: PoolStats,
    maxConnections: number,
  ) {
    // Envoy keeps idle upstream connections until their idle timeout (1 h by default), so
    // the free list is as large as the connection limit: a burst's connections are reused
    // by the next burst instead of being closed and reopened.
    super({ keepAlive: true, maxSockets: maxConnections, maxTotalSockets: maxConnections, maxFreeSockets: maxConnections, scheduling: 'lifo' });
  }

  override createConnection(options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const socket = super.createConnection(options, callback);
    if (socket) {
      this.stats.upstream_cx_total++;
      this.stats.upstream_cx_active++;
      socket.once('close', () => this.stats.upstream_cx_active--);
    }
    return socket;
  }
}

/** Where one request stands in the pool: waiting for a connection, on one, or done. */
export interface PoolSlot {
  /**
   * The request has its connection (connected): it stops being pending and becomes
   * active, or, when max_requests is reached by then, is refused (false, counted).
   */
  attached(): boolean;
  /** The request is over (answered, failed or abandoned); idempotent. */
  release(): void;
}

/** One request's place: a small object, not closures, as hundreds may be outstanding at once. */
class Slot implements PoolSlot {
  private state: 'pending' | 'active' | 'done' = 'pending';

  constructor(
    private readonly stats: PoolStats,
    private readonly maxRequests: number,
  ) {}

  attached(): boolean {
    if (this.state !== 'pending') return this.state === 'active';
    const s = this.stats;
    s.upstream_rq_pending_active--;
    // Envoy's attachStreamToClient: a waiting request may still overflow max_requests.
    if (s.upstream_rq_active >= this.maxRequests) {
      s.upstream_rq_pending_overflow++;
      this.state = 'done';
      return false;
    }
    this.state = 'active';
    s.upstream_rq_active++;
    return true;
  }

  release(): void {
    if (this.state === 'pending') this.stats.upstream_rq_pending_active--;
    else if (this.state === 'active') this.stats.upstream_rq_active--;
    this.state = 'done';
  }
}

export class ClusterPool {
  readonly agent: Agent;

  constructor(
    readonly limits: CircuitBreakerThresholds,
    private readonly stats: PoolStats,
  ) {
    this.agent = new CountingAgent(stats, Math.max(1, limits.maxConnections));
  }

  /**
   * Admits one request to `host`, or undefined when a breaker refuses it (counted as
   * upstream_rq_pending_overflow, like Envoy's pool, whichever limit it was).
   */
  admit(host: SocketAddress): PoolSlot | undefined {
    const s = this.stats;
    if (this.hasIdleConnection(host)) {
      // Envoy attaches it to the ready connection at once, checking max_requests.
      if (s.upstream_rq_active >= this.limits.maxRequests) {
        s.upstream_rq_pending_overflow++;
        return undefined;
      }
    } else {
      // No ready connection: the request waits for one, opened now or freed later.
      if (s.upstream_rq_pending_active >= this.limits.maxPendingRequests) {
        s.upstream_rq_pending_overflow++;
        return undefined;
      }
      if (s.upstream_cx_active >= this.limits.maxConnections) s.upstream_cx_overflow++;
    }
    s.upstream_rq_pending_active++;
    return new Slot(s, this.limits.maxRequests);
  }

  private hasIdleConnection(host: SocketAddress): boolean {
    const free: readonly Socket[] | undefined = this.agent.freeSockets[this.agent.getName({ host: host.address, port: host.port })];
    return free !== undefined && free.length > 0;
  }

  close(): void {
    this.agent.destroy();
  }
}
