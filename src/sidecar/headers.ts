// Envoy's view of HTTP/1.1 headers: one ordered list of lower-case (name, value)
// pairs with the pseudo-headers (:method, :path, :authority, :scheme, :status)
// first. Hop-by-hop headers belong to one connection and never cross the proxy.
import type { IncomingMessage } from 'node:http';

export type HeaderList = Array<[string, string]>;

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

function connectionTokens(raw: readonly string[]): Set<string> {
  const tokens = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') {
      for (const t of raw[i + 1]!.split(',')) if (t.trim()) tokens.add(t.trim().toLowerCase());
    }
  }
  return tokens;
}

/** rawHeaders → pairs, lower-cased, minus hop-by-hop ones and the names in `skip`. */
export function endToEndHeaders(raw: readonly string[], skip: ReadonlySet<string> = new Set()): HeaderList {
  const listed = connectionTokens(raw);
  const out: HeaderList = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || listed.has(name) || skip.has(name)) continue;
    out.push([name, raw[i + 1]!]);
  }
  return out;
}

const REQUEST_SKIP = new Set(['host']);

export function requestHeadersOf(req: IncomingMessage): HeaderList {
  return [
    [':authority', req.headers.host ?? ''],
    [':path', req.url ?? '/'],
    [':method', req.method ?? 'GET'],
    [':scheme', 'http'],
    ...endToEndHeaders(req.rawHeaders, REQUEST_SKIP),
  ];
}

export function responseHeadersOf(status: number, raw: readonly string[]): HeaderList {
  return [[':status', String(status)], ...endToEndHeaders(raw)];
}

export function getHeader(h: HeaderList, name: string): string | undefined {
  for (const [k, v] of h) if (k === name) return v;
  return undefined;
}

export function setHeader(h: HeaderList, name: string, value: string): void {
  const i = h.findIndex(([k]) => k === name);
  if (i === -1) h.push([name, value]);
  else {
    h[i] = [name, value];
    for (let j = h.length - 1; j > i; j--) if (h[j]![0] === name) h.splice(j, 1);
  }
}

export function removeHeader(h: HeaderList, name: string): void {
  for (let j = h.length - 1; j >= 0; j--) if (h[j]![0] === name) h.splice(j, 1);
}

/** Flat [name, value, …] for node:http, without pseudo-headers. */
export function toRawHeaders(h: HeaderList): string[] {
  const raw: string[] = [];
  for (const [k, v] of h) {
    if (k.startsWith(':')) continue;
    raw.push(k, v);
  }
  return raw;
}

/** A request with no body: Envoy reports end_of_stream with the headers. */
export function requestHasNoBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  if (req.headers['transfer-encoding'] !== undefined) return false;
  return cl === undefined || cl === '0';
}
