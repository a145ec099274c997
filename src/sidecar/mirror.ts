// Envoy's request mirroring (route request_mirror_policies, Istio `mirror`):
// a copy of the request, with the headers as the filters left them, goes
// straight to the mirror cluster; its response is read and thrown away. The
// copy's body is buffered up to Envoy's 1 MiB limit, over which it is not sent.
// Nothing here can delay or fail the production request.
import type { MirrorPolicy } from './config/model.js';
import type { ClusterManager } from './clusters.js';
import { type HeaderList, getHeader, toRawHeaders } from './headers.js';
import { openUpstream } from './upstream.js';

export const MIRROR_BODY_LIMIT = 1024 * 1024;

export interface MirrorStats {
  sent: number;
  responses: number;
  failures: number;
  skipped_body_too_large: number;
  skipped_no_host: number;
  /** Copies the mirror cluster's circuit breakers refused (its upstream_rq_pending_overflow). */
  skipped_overflow: number;
  not_sampled: number;
  /** Policies with cluster_header skipped because the request's header was absent or empty. */
  no_cluster_header: number;
}

const DENOMINATORS = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 } as const;

/**
 * Envoy's router decides each mirror policy with
 * `runtime.featureEnabled(key, default_value, callbacks->streamId())`, i.e.
 * `stream_id % denominator < numerator`. The stream id is a random number the
 * connection manager draws for every stream (`random_generator_.random()` in
 * ActiveStream's constructor); it is not derived from x-request-id (only tracing
 * and access-log sampling read the request id). So the decision is random per
 * stream: nothing outside the proxy can predict which requests are mirrored.
 * `random` is injectable for tests.
 */
export function mirrorSampled(policy: MirrorPolicy, random: () => number = Math.random): boolean {
  const denominator = DENOMINATORS[policy.denominator];
  if (policy.numerator <= 0) return false;
  if (policy.numerator >= denominator) return true;
  return Math.floor(random() * denominator) < policy.numerator;
}

/**
 * The cluster a sampled policy mirrors to: its `cluster`, or the first value of its
 * `cluster_header` in the headers as the filters left them; undefined (no copy) when
 * that header is absent or empty, as Envoy's router does.
 */
export function mirrorCluster(policy: MirrorPolicy, headers: HeaderList): string | undefined {
  if (policy.clusterHeader === undefined) return policy.cluster;
  const v = getHeader(headers, policy.clusterHeader);
  return v === undefined || v === '' ? undefined : v;
}

/** host:port → host-shadow:port, as Envoy's shadow writer does. */
export function shadowAuthority(authority: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(:\d+)?$/.exec(authority);
  if (!m) return `${authority}-shadow`;
  return `${m[1]}-shadow${m[2] ?? ''}`;
}

/** One pending mirror copy: fed the body as it passes the router, sent at end of stream. */
export class MirrorCopy {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  private overflow = false;

  constructor(
    private readonly clusters: ClusterManager,
    private readonly policy: MirrorPolicy,
    private readonly cluster: string,
    private readonly headers: HeaderList,
    private readonly timeoutMs: number,
    private readonly stats: MirrorStats,
  ) {}

  addBody(data: Uint8Array): void {
    if (this.overflow) return;
    this.size += data.length;
    if (this.size > MIRROR_BODY_LIMIT) {
      this.overflow = true;
      this.chunks.length = 0;
      return;
    }
    if (data.length > 0) this.chunks.push(Buffer.from(data));
  }

  send(): void {
    if (this.overflow) {
      this.stats.skipped_body_too_large++;
      return;
    }
    const cluster = this.clusters.get(this.cluster);
    const host = cluster?.pick();
    if (!cluster || !host) {
      this.stats.skipped_no_host++;
      return;
    }
    const slot = cluster.admit(host);
    if (!slot) {
      this.stats.skipped_overflow++;
      return;
    }
    const body = Buffer.concat(this.chunks);
    this.chunks.length = 0;
    const headers: HeaderList = this.headers.filter(([k]) => k !== 'content-length');
    const authority = getHeader(headers, ':authority') ?? '';
    const raw = toRawHeaders(headers);
    raw.push('host', this.policy.disableShadowHostSuffixAppend ? authority : shadowAuthority(authority));
    if (body.length > 0 || getHeader(this.headers, 'content-length') !== undefined) raw.push('content-length', String(body.length));
    this.stats.sent++;
    const up = openUpstream(cluster, host, slot, getHeader(headers, ':method') ?? 'GET', getHeader(headers, ':path') ?? '/', raw, {
      onResponse: (res) => {
        this.stats.responses++;
        res.resume();
      },
      onFailure: () => {
        this.stats.failures++;
      },
    });
    up.req.end(body);
    up.armTimeout(this.timeoutMs);
  }
}
