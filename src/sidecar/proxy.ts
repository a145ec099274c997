// One downstream HTTP/1.1 stream through Envoy's HTTP connection manager:
// request id, the HTTP filters, the router (route, upstream, mirrors), and the
// response back through the filters in reverse order.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ListenerConfig, RouteAction } from './config/model.js';
import type { ClusterManager } from './clusters.js';
import type { BodyChunk, FilterStatus, HttpFilterFactory, HttpFilterStream, LocalReply, StreamControl, StreamInfo } from './filter.js';
import {
  type HeaderList,
  getHeader,
  removeHeader,
  requestHasNoBody,
  requestHeadersOf,
  responseHeadersOf,
  setHeader,
  toRawHeaders,
} from './headers.js';
import { MirrorCopy, type MirrorStats, mirrorCluster, mirrorSampled } from './mirror.js';
import { Pipeline, type Stage, type StreamEvent } from './pipeline.js';
import { selectRoute } from './routing.js';
import { ENVOY_TEXT, type UpstreamFailure, type UpstreamRequest, openUpstream, resetDetails } from './upstream.js';

export interface ListenerContext {
  readonly config: ListenerConfig;
  readonly clusters: ClusterManager;
  /** Replaced as a whole by a configuration reload; a stream keeps the chain it started with. */
  filters: readonly HttpFilterFactory[];
  readonly mirrorStats: MirrorStats;
  readonly stats: ListenerStats;
  readonly log: (line: string) => void;
}

export interface ListenerStats {
  downstream_rq_total: number;
  downstream_rq_completed: number;
  downstream_rq_reset: number;
  local_replies: number;
  filter_errors: number;
}

interface FilterSlot {
  stream: HttpFilterStream;
  /** Threw (a host bug, not a wasm trap): skipped for the rest of the stream. */
  broken: boolean;
}

const PASS_THROUGH: HttpFilterStream = {
  requestHeaders: () => 'continue',
  requestBody: () => 'continue',
  requestTrailers: () => 'continue',
  responseHeaders: () => 'continue',
  responseBody: () => 'continue',
  responseTrailers: () => 'continue',
  log: () => {},
  done: () => {},
};

/** The router is not a filter object: its replies pass through every filter. */
const ROUTER = Number.MAX_SAFE_INTEGER;

export class ProxyStream {
  private readonly info: StreamInfo;
  private readonly slots: FilterSlot[] = [];
  private requestPipe!: Pipeline;
  private responsePipe!: Pipeline;
  private upstream: UpstreamRequest | undefined;
  private upstreamResponse: IncomingMessage | undefined;
  private mirrors: MirrorCopy[] = [];
  private route: RouteAction | undefined;
  private upstreamChunked = false;
  private upstreamStartMs = 0;
  private requestEnded = false;
  private method = 'GET';
  private headersSent = false;
  private finished = false;
  private pendingLocal: { reply: LocalReply; from: number } | undefined;
  private pendingReset = false;

  constructor(
    private readonly ctx: ListenerContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    this.info = {
      startTimeMs: Date.now(),
      downstreamRemoteAddress: `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? 0}`,
      downstreamLocalAddress: `${req.socket.localAddress ?? ''}:${req.socket.localPort ?? 0}`,
      listenerName: ctx.config.name,
      routeName: undefined,
      clusterName: undefined,
      upstreamAddress: undefined,
      responseCode: undefined,
      responseCodeDetails: undefined,
      endTimeMs: undefined,
      bytesReceived: 0,
      bytesSent: 0,
      requestHeaders: undefined,
      responseHeaders: undefined,
    };
  }

  start(): void {
    this.ctx.stats.downstream_rq_total++;
    const headers = requestHeadersOf(this.req);
    this.method = this.req.method ?? 'GET';
    const hcm = this.ctx.config.hcm;
    // Envoy adds the request id before any filter runs, so filters can read it.
    if (hcm.generateRequestId && getHeader(headers, 'x-request-id') === undefined) headers.push(['x-request-id', randomUUID()]);
    if (getHeader(headers, 'x-forwarded-proto') === undefined) headers.push(['x-forwarded-proto', 'http']);
    this.info.requestHeaders = headers;
    // Envoy resolves the route before the filters run (route_name / cluster_name are readable
    // in on_request_headers); the router resolves it again with the headers the filters left.
    const initial = selectRoute(hcm.virtualHosts, headers, hcm.stripAnyHostPort);
    if (initial) {
      this.info.routeName = initial.name;
      if (initial.action.kind === 'route') this.info.clusterName = initial.action.cluster;
    }

    this.ctx.filters.forEach((factory, i) => {
      const slot: FilterSlot = { stream: PASS_THROUGH, broken: false };
      this.guard(slot, () => {
        slot.stream = factory.newStream(this.controlFor(i), this.info);
        return 'continue';
      });
      this.slots.push(slot);
    });
    this.requestPipe = new Pipeline(
      this.slots.map((s): Stage => ({ call: (ev) => this.guard(s, () => callRequest(s.stream, ev)) })),
      (ev) => this.router(ev),
      () => this.interrupted(),
    );
    this.responsePipe = this.makeResponsePipe(this.slots.length - 1);

    this.res.on('close', () => {
      if (!this.finished) this.downstreamReset();
    });
    // A client that goes away surfaces as 'close' above; the errors carry nothing more.
    this.req.on('error', () => {});
    this.res.on('error', () => {});
    const eos = requestHasNoBody(this.req);
    this.requestPipe.push({ kind: 'headers', headers, endOfStream: eos });
    if (eos) {
      this.req.resume();
      return;
    }
    this.req.on('data', (chunk: Buffer) => {
      this.info.bytesReceived += chunk.length;
      this.requestPipe.push({ kind: 'data', chunk: { data: chunk }, endOfStream: false });
    });
    this.req.on('end', () => {
      // Envoy's HTTP/1 codec ends the stream with an empty data frame (or trailers).
      const trailers = trailersOf(this.req.rawTrailers);
      if (trailers.length > 0) this.requestPipe.push({ kind: 'trailers', trailers });
      else this.requestPipe.push({ kind: 'data', chunk: { data: new Uint8Array(0) }, endOfStream: true });
    });
  }

  private makeResponsePipe(lastFilter: number): Pipeline {
    const stages: Stage[] = [];
    for (let i = Math.min(lastFilter, this.slots.length - 1); i >= 0; i--) {
      const s = this.slots[i]!;
      stages.push({ call: (ev) => this.guard(s, () => callResponse(s.stream, ev)) });
    }
    return new Pipeline(stages, (ev) => this.encode(ev), () => this.interrupted());
  }

  /**
   * A filter that throws is a bug in the data plane, not in the module (traps are the host's
   * business): production must not pay for it, so the stream goes on without that filter.
   */
  private guard(slot: FilterSlot, call: () => FilterStatus): FilterStatus {
    if (slot.broken) return 'continue';
    try {
      return call();
    } catch (err) {
      slot.broken = true;
      this.ctx.stats.filter_errors++;
      this.ctx.log(`sidecar: filter error on listener ${this.ctx.config.name}, continuing without it: ${(err as Error).stack ?? String(err)}`);
      return 'continue';
    }
  }

  private controlFor(index: number): StreamControl {
    return {
      resume: (release) =>
        queueMicrotask(() => {
          if (this.finished) return;
          if (!release || release.direction === 'request') this.requestPipe.resume(index, release);
          if (!release || release.direction === 'response') this.responsePipe.resume(this.slots.length - 1 - index, release);
        }),
      sendLocalReply: (reply) => {
        if (this.finished || this.pendingLocal) return;
        this.pendingLocal = { reply, from: index };
        queueMicrotask(() => this.applyPending());
      },
      reset: () => {
        if (this.finished) return;
        this.pendingReset = true;
        queueMicrotask(() => this.applyPending());
      },
    };
  }

  private interrupted(): boolean {
    return this.pendingLocal !== undefined || this.pendingReset || this.finished;
  }

  private applyPending(): void {
    if (this.finished) return;
    if (this.pendingReset) {
      this.downstreamReset();
      return;
    }
    const p = this.pendingLocal;
    if (p) {
      this.pendingLocal = undefined;
      this.localReply(p.reply, p.from);
    }
  }

  // ---- router (the last decoder filter) ----

  private router(ev: StreamEvent): void {
    if (ev.kind === 'headers') {
      this.routeHeaders(ev.headers, ev.endOfStream);
      return;
    }
    if (!this.upstream) return;
    if (ev.kind === 'data') {
      for (const m of this.mirrors) m.addBody(ev.chunk.data);
      if (ev.chunk.data.length > 0 && !this.upstream.req.write(ev.chunk.data)) {
        this.req.pause();
        this.upstream.req.once('drain', () => this.req.resume());
      }
      if (ev.endOfStream) this.endUpstreamRequest();
      return;
    }
    // Trailers can follow only a chunked body; Node sends them with the last chunk.
    if (this.upstreamChunked) {
      this.upstream.req.addTrailers(ev.trailers.map(([k, v]) => [k, v] as [string, string]));
    }
    this.endUpstreamRequest();
  }

  private routeHeaders(headers: HeaderList, endOfStream: boolean): void {
    const route = selectRoute(this.ctx.config.hcm.virtualHosts, headers, this.ctx.config.hcm.stripAnyHostPort);
    if (!route) {
      this.localReply(routerReply(404, '', 'route_not_found'), ROUTER);
      return;
    }
    this.info.routeName = route.name;
    if (route.action.kind === 'direct_response') {
      this.localReply(routerReply(route.action.status, route.action.body, 'direct_response'), ROUTER);
      return;
    }
    const action = route.action;
    this.route = action;
    this.info.clusterName = action.cluster;
    const cluster = this.ctx.clusters.get(action.cluster);
    const host = cluster?.pick();
    if (!cluster || !host) {
      this.localReply(routerReply(503, ENVOY_TEXT.noHealthyUpstream, 'no_healthy_upstream'), ROUTER);
      return;
    }
    const slot = cluster.admit(host);
    if (!slot) {
      this.localReply(resetReply({ kind: 'overflow' }), ROUTER);
      return;
    }
    this.info.upstreamAddress = `${host.address}:${host.port}`;
    const up: HeaderList = headers.map(([k, v]) => [k, v]);
    if (action.timeoutMs > 0) setHeader(up, 'x-envoy-expected-rq-timeout-ms', String(Math.round(action.timeoutMs)));
    let path = getHeader(up, ':path') ?? '/';
    if (action.prefixRewrite !== undefined && route.match.prefix !== undefined && path.startsWith(route.match.prefix)) {
      path = action.prefixRewrite + path.slice(route.match.prefix.length);
      setHeader(up, ':path', path);
    }
    if (action.hostRewriteLiteral !== undefined) setHeader(up, ':authority', action.hostRewriteLiteral);

    // The router copies the headers for mirrors here, after every filter ran.
    const isUpgrade = this.method === 'CONNECT' || this.req.headers.upgrade !== undefined;
    if (!isUpgrade) {
      for (const policy of action.mirrorPolicies) {
        if (!mirrorSampled(policy)) {
          this.ctx.mirrorStats.not_sampled++;
          continue;
        }
        const cluster = mirrorCluster(policy, up);
        if (cluster === undefined) {
          this.ctx.mirrorStats.no_cluster_header++;
          continue;
        }
        this.mirrors.push(new MirrorCopy(this.ctx.clusters, policy, cluster, up.map(([k, v]) => [k, v]), action.timeoutMs, this.ctx.mirrorStats));
      }
    }

    const raw = toRawHeaders(up);
    raw.push('host', getHeader(up, ':authority') ?? '');
    this.upstreamChunked = !endOfStream && getHeader(up, 'content-length') === undefined;
    this.upstreamStartMs = Date.now();
    this.upstream = openUpstream(cluster, host, slot, getHeader(up, ':method') ?? 'GET', path, raw, {
      onResponse: (res) => this.upstreamHeaders(res),
      onFailure: (kind, started) => this.upstreamFailure(kind, started),
    });
    if (endOfStream) this.endUpstreamRequest();
  }

  private endUpstreamRequest(): void {
    const up = this.upstream;
    if (!up) return;
    this.requestEnded = true;
    up.req.end();
    up.armTimeout(this.route?.timeoutMs ?? 0);
    const mirrors = this.mirrors;
    this.mirrors = [];
    for (const m of mirrors) m.send();
  }

  private upstreamHeaders(res: IncomingMessage): void {
    if (this.finished) {
      res.resume();
      return;
    }
    this.upstreamResponse = res;
    const status = res.statusCode ?? 502;
    const headers = responseHeadersOf(status, res.rawHeaders);
    setHeader(headers, 'x-envoy-upstream-service-time', String(Date.now() - this.upstreamStartMs));
    const eos =
      this.method === 'HEAD' || status === 204 || status === 304 || (res.headers['content-length'] === '0' && res.headers['transfer-encoding'] === undefined);
    this.responsePipe.push({ kind: 'headers', headers, endOfStream: eos });
    if (eos) {
      res.resume();
      return;
    }
    res.on('data', (chunk: Buffer) => {
      this.responsePipe.push({ kind: 'data', chunk: { data: chunk }, endOfStream: false });
    });
    res.on('end', () => {
      const trailers = trailersOf(res.rawTrailers);
      if (trailers.length > 0) this.responsePipe.push({ kind: 'trailers', trailers });
      else this.responsePipe.push({ kind: 'data', chunk: { data: new Uint8Array(0) }, endOfStream: true });
    });
  }

  private upstreamFailure(failure: UpstreamFailure, responseStarted: boolean): void {
    if (this.finished) return;
    if (responseStarted || this.headersSent) {
      // Too late for a local reply: Envoy resets the downstream stream.
      this.downstreamReset();
      return;
    }
    if (failure.kind === 'timeout') this.localReply(routerReply(504, ENVOY_TEXT.upstreamTimeout, 'upstream_response_timeout'), ROUTER);
    else this.localReply(resetReply(failure), ROUTER);
  }

  // ---- local replies and the downstream side ----

  private localReply(reply: LocalReply, from: number): void {
    if (this.finished) return;
    this.ctx.stats.local_replies++;
    this.requestPipe.halt();
    this.responsePipe.halt();
    this.upstream?.abort();
    this.upstreamResponse?.resume();
    this.mirrors = [];
    this.req.resume();
    if (this.headersSent) {
      this.downstreamReset();
      return;
    }
    this.info.responseCodeDetails = reply.details;
    const headers: HeaderList = [[':status', String(reply.status)]];
    for (const [k, v] of reply.headers) if (!k.startsWith(':')) headers.push([k.toLowerCase(), v]);
    if (reply.body.length > 0 && getHeader(headers, 'content-type') === undefined) headers.push(['content-type', 'text/plain']);
    setHeader(headers, 'content-length', String(reply.body.length));
    this.pendingLocal = undefined;
    this.responsePipe = this.makeResponsePipe(from);
    const empty = reply.body.length === 0 || this.method === 'HEAD';
    this.responsePipe.push({ kind: 'headers', headers, endOfStream: empty });
    if (!empty) this.responsePipe.push({ kind: 'data', chunk: { data: reply.body }, endOfStream: true });
  }

  private encode(ev: StreamEvent): void {
    if (this.finished) return;
    if (ev.kind === 'headers') {
      const status = Number(getHeader(ev.headers, ':status') ?? 502);
      this.info.responseCode = status;
      const headers = ev.headers;
      removeHeader(headers, 'server');
      headers.push(['server', this.ctx.config.hcm.serverName]);
      this.info.responseHeaders = headers;
      this.res.writeHead(status, toRawHeaders(headers));
      this.headersSent = true;
      if (ev.endOfStream) this.endDownstream();
      return;
    }
    if (ev.kind === 'data') {
      const data = ev.chunk.data;
      if (data.length > 0) {
        this.info.bytesSent += data.length;
        if (!this.res.write(data) && this.upstreamResponse) {
          const up = this.upstreamResponse;
          up.pause();
          this.res.once('drain', () => up.resume());
        }
      }
      if (ev.endOfStream) this.endDownstream();
      return;
    }
    this.endDownstream();
  }

  private endDownstream(): void {
    // An upstream that answered before the whole request was sent: like Envoy, stop sending it.
    if (this.upstream && !this.requestEnded) this.upstream.abortUnfinished();
    this.requestPipe.halt();
    this.res.end();
    this.ctx.stats.downstream_rq_completed++;
    this.complete();
  }

  private downstreamReset(): void {
    if (this.finished) return;
    this.ctx.stats.downstream_rq_reset++;
    this.requestPipe.halt();
    this.responsePipe.halt();
    this.upstream?.abort();
    this.mirrors = [];
    this.res.destroy();
    this.complete();
  }

  /** Envoy's end of stream: every filter logs, then every filter is done. */
  private complete(): void {
    if (this.finished) return;
    this.finished = true;
    this.info.endTimeMs = Date.now();
    for (const s of this.slots) this.guard(s, () => (s.stream.log(), 'continue'));
    for (const s of this.slots) this.guard(s, () => (s.stream.done(), 'continue'));
  }
}

function callRequest(f: HttpFilterStream, ev: StreamEvent) {
  if (ev.kind === 'headers') return f.requestHeaders(ev.headers, ev.endOfStream);
  if (ev.kind === 'data') return f.requestBody(ev.chunk as BodyChunk, ev.endOfStream);
  return f.requestTrailers(ev.trailers);
}

function callResponse(f: HttpFilterStream, ev: StreamEvent) {
  if (ev.kind === 'headers') return f.responseHeaders(ev.headers, ev.endOfStream);
  if (ev.kind === 'data') return f.responseBody(ev.chunk as BodyChunk, ev.endOfStream);
  return f.responseTrailers(ev.trailers);
}

function routerReply(status: number, body: string, details: string): LocalReply {
  return { status, body: Buffer.from(body), headers: [], details };
}

/** The router's 503 for a failure before response headers; an overflow (a circuit breaker) adds x-envoy-overloaded. */
function resetReply(failure: Exclude<UpstreamFailure, { kind: 'timeout' }>): LocalReply {
  const reply = routerReply(503, ENVOY_TEXT.beforeHeaders(failure), resetDetails(failure));
  return failure.kind === 'overflow' ? { ...reply, headers: [['x-envoy-overloaded', 'true']] } : reply;
}

function trailersOf(raw: readonly string[]): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  return out;
}

export function handleRequest(ctx: ListenerContext, req: IncomingMessage, res: ServerResponse): void {
  new ProxyStream(ctx, req, res).start();
}
