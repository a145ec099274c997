// Envoy's route table lookup: pick the virtual host by :authority (exact, then
// longest suffix wildcard, then longest prefix wildcard, then "*"; the port is
// part of the authority unless strip_any_host_port), then the
// first route whose path and header matchers all match.
import type { HeaderMatcher, RouteConfig, RouteMatch, VirtualHost } from './config/model.js';
import { type HeaderList, getHeader } from './headers.js';

export function selectVirtualHost(vhosts: readonly VirtualHost[], authority: string, stripAnyHostPort = false): VirtualHost | undefined {
  // Envoy compares the whole Host, port included, unless strip_any_host_port is set.
  const host = stripAnyHostPort ? authority.toLowerCase().replace(/:\d+$/, '') : authority.toLowerCase();
  const exact = vhosts.find((v) => v.domains.includes(host));
  if (exact) return exact;
  let best: { vh: VirtualHost; len: number } | undefined;
  for (const vh of vhosts) {
    for (const d of vh.domains) {
      if (d.length > 1 && d.startsWith('*') && host.length > d.length - 1 && host.endsWith(d.slice(1))) {
        if (!best || d.length > best.len) best = { vh, len: d.length };
      }
    }
  }
  if (best) return best.vh;
  for (const vh of vhosts) {
    for (const d of vh.domains) {
      if (d.length > 1 && d.endsWith('*') && host.startsWith(d.slice(0, -1))) {
        if (!best || d.length > best.len) best = { vh, len: d.length };
      }
    }
  }
  if (best) return best.vh;
  return vhosts.find((v) => v.domains.includes('*'));
}

function pathMatches(m: RouteMatch, fullPath: string): boolean {
  if (m.path !== undefined) {
    const q = fullPath.indexOf('?');
    const p = q === -1 ? fullPath : fullPath.slice(0, q);
    return m.caseSensitive ? p === m.path : p.toLowerCase() === m.path.toLowerCase();
  }
  if (m.prefix !== undefined) {
    return m.caseSensitive ? fullPath.startsWith(m.prefix) : fullPath.toLowerCase().startsWith(m.prefix.toLowerCase());
  }
  return false;
}

function headerMatches(m: HeaderMatcher, headers: HeaderList): boolean {
  // Envoy compares against all values of a repeated header joined by ",".
  const values = headers.filter(([k]) => k === m.name).map(([, v]) => v);
  const value = values.length > 0 ? values.join(',') : undefined;
  let ok: boolean;
  if (m.present !== undefined) ok = (value !== undefined) === m.present;
  else if (value === undefined) ok = false;
  else if (m.exact !== undefined) ok = value === m.exact;
  else if (m.prefix !== undefined) ok = value.startsWith(m.prefix);
  else if (m.suffix !== undefined) ok = value.endsWith(m.suffix);
  else if (m.contains !== undefined) ok = value.includes(m.contains);
  else ok = true;
  return m.invert ? !ok : ok;
}

export function selectRoute(vhosts: readonly VirtualHost[], headers: HeaderList, stripAnyHostPort = false): RouteConfig | undefined {
  const vh = selectVirtualHost(vhosts, getHeader(headers, ':authority') ?? '', stripAnyHostPort);
  if (!vh) return undefined;
  const path = getHeader(headers, ':path') ?? '/';
  return vh.routes.find((r) => pathMatches(r.match, path) && r.match.headers.every((h) => headerMatches(h, headers)));
}
