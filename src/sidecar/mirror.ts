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
  not_sampled: number;
}

const DENOMINATORS = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 } as const;

/**
 * Envoy samples with a "stable random" taken from the request id, so every hop
 * decides alike for one request: the UUID extension reads the last 8 hex digits
 * of a 36-character id (Envoy before UUIDv7 support read the first 8), and the
 * copy is made when that number modulo the denominator is below the numerator.
 * Without a usable id it falls back to a random number, as Envoy does.
 */
export function mirrorSampled(policy: MirrorPolicy, requestId: string | undefined): boolean {
  const denominator = DENOMINATORS[policy.denominator];
  if (policy.numerator <= 0) return false;
  if (policy.numerator >= denominator) return true;
  const tail = requestId !== undefined && requestId.length >= 36 ? requestId.slice(28, 36) : '';
  const r = /^[0-9a-fA-F]{8}$/.test(tail) ? Number.parseInt(tail, 16) : Math.floor(Math.random() * 0x1_0000_0000);
  return r % denominator < policy.numerator;
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
    const cluster = this.clusters.get(this.policy.cluster);
    const host = cluster?.pick();
    if (!cluster || !host) {
      this.stats.skipped_no_host++;
      return;
    }
    const body = Buffer.concat(this.chunks);
    const headers: HeaderList = this.headers.filter(([k]) => k !== 'content-length');
    const authority = getHeader(headers, ':authority') ?? '';
    const raw = toRawHeaders(headers);
    raw.push('host', this.policy.disableShadowHostSuffixAppend ? authority : shadowAuthority(authority));
    if (body.length > 0 || getHeader(this.headers, 'content-length') !== undefined) raw.push('content-length', String(body.length));
    this.stats.sent++;
    const up = openUpstream(cluster, host, getHeader(headers, ':method') ?? 'GET', getHeader(headers, ':path') ?? '/', raw, {
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
