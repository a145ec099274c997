// proxy_http_call on the wire: a real HTTP/1.1 request to a host of the named
// cluster, answered the way Envoy's async client answers. Envoy's async client
// runs the router, so the router's own local replies come back as responses:
// a connect failure is a 503 "upstream connect error …" response and a timeout
// a 504 "upstream request timeout" (the host turns `timeout` into that 504).
// A reset after the response started is a failure (0, 0, 0) / "reset".
import type { Readable } from 'node:stream';
import type { ClusterManager } from './clusters.js';
import { type HeaderList, getHeader, responseHeadersOf, toRawHeaders } from './headers.js';
import { ENVOY_TEXT, openUpstream } from './upstream.js';

export interface HttpCallRequestLike {
  cluster: string;
  headers: HeaderList;
  body: Uint8Array;
  trailers: HeaderList;
  timeoutMs: number;
}

export type HttpCallResultLike =
  | { headers: HeaderList; body: Uint8Array; trailers: HeaderList }
  | { failure: 'reset' | 'timeout' };

export interface HttpCallStats {
  http_calls: number;
  http_call_responses: number;
  http_call_failures: number;
  http_call_inline_failures: number;
}

export interface HttpCallerOptions {
  /**
   * 'response' (Envoy): a connect failure arrives as the router's 503 local reply.
   * 'reset': it arrives as a failure (0, 0, 0) with status "reset".
   */
  readonly connectFailureAs: 'response' | 'reset';
}

export function createHttpCaller(clusters: ClusterManager, options: HttpCallerOptions, stats: HttpCallStats) {
  return (req: HttpCallRequestLike, done: (res: HttpCallResultLike) => void): { cancel(): void } | boolean => {
    const cluster = clusters.get(req.cluster);
    const host = cluster?.pick();
    // Envoy fails these inline (the router's local reply comes while the call is being
    // made, and proxy-wasm drops it): no healthy host, or the cluster's circuit breakers
    // refuse the request. The module gets InternalFailure and no callback.
    const slot = host && cluster?.admit(host);
    if (!cluster || !host || !slot) {
      stats.http_call_inline_failures++;
      return false;
    }
    stats.http_calls++;
    let finished = false;
    const finish = (r: HttpCallResultLike): void => {
      if (finished) return;
      finished = true;
      if ('failure' in r) stats.http_call_failures++;
      else stats.http_call_responses++;
      done(r);
    };
    const headers = req.headers.filter(([k]) => k !== 'host' && k !== 'transfer-encoding');
    const raw = toRawHeaders(headers);
    raw.push('host', getHeader(headers, ':authority') ?? '');
    if (req.body.length > 0 && getHeader(headers, 'content-length') === undefined) raw.push('content-length', String(req.body.length));
    const up = openUpstream(cluster, host, slot, getHeader(headers, ':method') ?? 'GET', getHeader(headers, ':path') ?? '/', raw, {
      onResponse: (res) => {
        const chunks: Buffer[] = [];
        (res as Readable).on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const trailers: HeaderList = [];
          for (let i = 0; i < res.rawTrailers.length; i += 2) trailers.push([res.rawTrailers[i]!.toLowerCase(), res.rawTrailers[i + 1]!]);
          finish({ headers: responseHeadersOf(res.statusCode ?? 0, res.rawHeaders), body: Buffer.concat(chunks), trailers });
        });
      },
      onFailure: (failure, responseStarted) => {
        if (failure.kind === 'timeout') finish({ failure: 'timeout' });
        else if (responseStarted || options.connectFailureAs === 'reset') finish({ failure: 'reset' });
        else {
          const body = Buffer.from(ENVOY_TEXT.beforeHeaders(failure));
          finish({
            headers: [[':status', '503'], ['content-length', String(body.length)], ['content-type', 'text/plain']],
            body,
            trailers: [],
          });
        }
      },
    });
    // A view, not a copy: the host already owns these bytes.
    up.req.end(Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength));
    up.armTimeout(req.timeoutMs);
    return {
      cancel: () => {
        finished = true;
        up.abort();
      },
    };
  };
}
