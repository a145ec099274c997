// One HTTP/1.1 request to a cluster host over the cluster's keep-alive pool,
// with Envoy's connect timeout and failure classification.
import { type ClientRequest, type IncomingMessage, request } from 'node:http';
import type { Socket } from 'node:net';
import type { SocketAddress } from './config/model.js';
import type { PoolSlot } from './circuit-breakers.js';
import type { Cluster } from './clusters.js';

/**
 * Why an upstream request ended without a complete response, in Envoy's reset-reason
 * words: the connection was refused or unreachable, the connect timeout fired, the
 * connection closed, the route timeout fired, or a circuit breaker refused it.
 */
export type UpstreamFailure =
  | { readonly kind: 'remote connection failure'; readonly transport: string }
  | { readonly kind: 'connection timeout' }
  | { readonly kind: 'connection termination' }
  | { readonly kind: 'overflow' }
  | { readonly kind: 'timeout' };

/** Envoy's local reply texts for router failures. */
export const ENVOY_TEXT = {
  noRoute: '',
  noHealthyUpstream: 'no healthy upstream',
  upstreamTimeout: 'upstream request timeout',
  /** Body of the 503 for a failure before response headers (current Envoy wording). */
  beforeHeaders(f: Exclude<UpstreamFailure, { kind: 'timeout' }>): string {
    const base = `upstream connect error or disconnect/reset before headers. reset reason: ${f.kind}`;
    return f.kind === 'remote connection failure' ? `${base}, transport failure reason: ${f.transport}` : base;
  },
} as const;

/** Envoy's response-code details for the same failures. */
export function resetDetails(f: Exclude<UpstreamFailure, { kind: 'timeout' }>): string {
  return `upstream_reset_before_response_started{${f.kind.replace(/ /g, '_')}}`;
}

/** Envoy reports a refused connect as "delayed connect error: <errno>". */
function transportReason(err: NodeJS.ErrnoException): string {
  return `delayed connect error: ${typeof err.errno === 'number' ? Math.abs(err.errno) : (err.code ?? err.message)}`;
}

export interface UpstreamHandlers {
  onResponse(res: IncomingMessage): void;
  /** Called at most once, and never after the response completed. */
  onFailure(kind: UpstreamFailure, responseStarted: boolean): void;
}

export interface UpstreamRequest {
  readonly req: ClientRequest;
  /** Starts the route timeout (Envoy starts it once the downstream request is complete). */
  armTimeout(ms: number): void;
  /** Ends our interest: no more callbacks, the connection is torn down if still busy. */
  abort(): void;
  /** Tears down a request whose body was never finished (its connection cannot be reused anyway). */
  abortUnfinished(): void;
}

/**
 * Sends a request that `cluster.admit(host)` let in (`slot`); the slot is released
 * however the request ends.
 */
export function openUpstream(
  cluster: Cluster,
  host: SocketAddress,
  slot: PoolSlot,
  method: string,
  path: string,
  rawHeaders: string[],
  handlers: UpstreamHandlers,
): UpstreamRequest {
  cluster.stats.upstream_rq_total++;
  let settled = false;
  let responseStarted = false;
  let timer: NodeJS.Timeout | undefined;
  let connectTimer: NodeJS.Timeout | undefined;

  const fail = (f: UpstreamFailure): void => {
    if (settled) return;
    settled = true;
    slot.release();
    clearTimers();
    if (f.kind === 'remote connection failure' || f.kind === 'connection timeout') cluster.stats.upstream_cx_connect_fail++;
    if (f.kind === 'timeout') cluster.stats.upstream_rq_timeout++;
    req.destroy();
    handlers.onFailure(f, responseStarted);
  };
  const clearTimers = (): void => {
    if (timer) clearTimeout(timer);
    if (connectTimer) clearTimeout(connectTimer);
  };

  const req = request({
    host: host.address,
    port: host.port,
    method,
    path,
    headers: rawHeaders,
    agent: cluster.agent,
    // Envoy adds no headers of its own choosing beyond what the router set.
    setHost: false,
  });
  let connected = false;
  // Ended, failed or destroyed, the request gives its place back.
  req.once('close', () => slot.release());
  req.on('socket', (socket: Socket) => {
    if (!socket.connecting) {
      connected = true;
      if (!slot.attached()) fail({ kind: 'overflow' });
      return;
    }
    if (cluster.connectTimeoutMs > 0) {
      connectTimer = setTimeout(() => fail({ kind: 'connection timeout' }), cluster.connectTimeoutMs);
    }
    socket.once('connect', () => {
      connected = true;
      if (connectTimer) clearTimeout(connectTimer);
      // Refused now, the request has not been written: the connection is closed unused
      // (Envoy would keep it idle in the pool).
      if (!slot.attached()) fail({ kind: 'overflow' });
    });
  });
  req.on('response', (res) => {
    if (settled) {
      res.resume();
      return;
    }
    responseStarted = true;
    res.on('end', () => {
      settled = true;
      slot.release();
      clearTimers();
    });
    res.on('error', () => fail({ kind: 'connection termination' }));
    res.on('aborted', () => fail({ kind: 'connection termination' }));
    handlers.onResponse(res);
  });
  req.on('error', (err: NodeJS.ErrnoException) =>
    fail(connected ? { kind: 'connection termination' } : { kind: 'remote connection failure', transport: transportReason(err) }),
  );

  return {
    req,
    armTimeout(ms: number) {
      if (ms <= 0 || settled) return;
      timer = setTimeout(() => fail({ kind: 'timeout' }), ms);
    },
    abort() {
      if (settled) return;
      settled = true;
      slot.release();
      clearTimers();
      req.destroy();
    },
    abortUnfinished() {
      settled = true;
      slot.release();
      clearTimers();
      if (!req.writableEnded) req.destroy();
    },
  };
}
