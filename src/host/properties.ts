// proxy_get_property: Envoy's attribute tree, serialized the way Envoy serializes CEL values
// (strings raw, int/uint/double 8 bytes little-endian, bool 1 byte, timestamps and durations as
// int64 nanoseconds, maps as pairs). Root contexts have no stream, so stream attributes are
// NotFound there, as in Envoy.

import { encodePairs, encodeUtf8, headerValue, utf8Length, type HeaderList } from './codec.js';
import { WasmResult } from './envoy-abi.js';
import type { Context, StreamState, Vm } from './vm.js';

function int64(n: number | bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, typeof n === 'bigint' ? n : BigInt(Math.trunc(n)), true);
  return b;
}

function bool(v: boolean): Uint8Array {
  return new Uint8Array([v ? 1 : 0]);
}

function str(s: string | undefined): Uint8Array | number {
  return s === undefined ? WasmResult.NotFound : encodeUtf8(s);
}

function msToNs(ms: number): bigint {
  return BigInt(Math.round(ms * 1e6));
}

function portOf(addr: string | undefined): Uint8Array | number {
  if (!addr) return WasmResult.NotFound;
  const i = addr.lastIndexOf(':');
  const p = i >= 0 ? Number(addr.slice(i + 1)) : NaN;
  return Number.isInteger(p) ? int64(p) : WasmResult.NotFound;
}

/** A header-map attribute: the whole map as pairs, or one header by the next path segment. */
function headerMap(map: HeaderList | null, rest: readonly string[]): Uint8Array | number {
  // Envoy's header-map attribute exists even when the map is gone; it is then empty.
  if (rest.length === 0) return encodePairs(map ?? []);
  if (!map) return WasmResult.NotFound;
  if (rest.length > 1) return WasmResult.NotFound;
  return str(headerValue(map, rest[0]!));
}

function requestHeaders(vm: Vm, s: StreamState): HeaderList | null {
  return s.reqHeaders ?? (s.logPhase ? s.lastReqHeaders : null) ?? (vm.opts.requestAttributesAfterHeaders ? s.lastReqHeaders : null);
}

function responseHeaders(vm: Vm, s: StreamState): HeaderList | null {
  return s.respHeaders ?? (s.logPhase ? s.lastRespHeaders : null) ?? (vm.opts.requestAttributesAfterHeaders || s.isComplete ? s.lastRespHeaders : null);
}

function request(vm: Vm, s: StreamState, key: string, rest: readonly string[]): Uint8Array | number {
  const info = s.info;
  switch (key) {
    case 'time': return info.startTimeMs === undefined ? WasmResult.NotFound : int64(msToNs(info.startTimeMs));
    case 'protocol': return str(info.protocol);
    case 'duration':
      return s.isComplete && info.endTimeMs !== undefined && info.startTimeMs !== undefined
        ? int64(msToNs(Math.max(0, info.endTimeMs - info.startTimeMs)))
        : WasmResult.NotFound;
  }
  const h = requestHeaders(vm, s);
  switch (key) {
    case 'headers': return headerMap(h, rest);
    case 'size': {
      // Envoy: the content-length header when the headers are at hand, else the bytes received.
      const cl = h ? headerValue(h, 'content-length') : undefined;
      const n = cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : (info.requestBodyBytes ?? 0);
      return int64(n);
    }
    case 'total_size': {
      let hs = 0;
      if (h) for (const [k, v] of h) hs += utf8Length(k) + utf8Length(v);
      return int64((info.requestBodyBytes ?? 0) + hs);
    }
  }
  if (!h) return WasmResult.NotFound;
  switch (key) {
    case 'path': return str(headerValue(h, ':path'));
    case 'url_path': {
      const p = headerValue(h, ':path');
      if (p === undefined) return WasmResult.NotFound;
      const q = p.indexOf('?');
      return encodeUtf8(q >= 0 ? p.slice(0, q) : p);
    }
    case 'host': return str(headerValue(h, ':authority'));
    case 'scheme': return str(headerValue(h, ':scheme'));
    case 'method': return str(headerValue(h, ':method'));
    case 'referer': return str(headerValue(h, 'referer'));
    case 'useragent': return str(headerValue(h, 'user-agent'));
    case 'id': return str(headerValue(h, 'x-request-id'));
  }
  return WasmResult.NotFound;
}

function response(vm: Vm, s: StreamState, key: string, rest: readonly string[]): Uint8Array | number {
  const info = s.info;
  switch (key) {
    case 'code': return info.responseCode === undefined ? WasmResult.NotFound : int64(info.responseCode);
    case 'code_details': return str(info.responseCodeDetails);
    case 'size': return int64(info.responseBodyBytes ?? 0);
    case 'headers': return headerMap(responseHeaders(vm, s), rest);
    case 'trailers': return headerMap(s.respTrailers ?? (s.logPhase ? s.lastRespTrailers : null) ?? s.lastRespTrailers, rest);
  }
  return WasmResult.NotFound;
}

function fromEnv(vm: Vm, path: readonly string[]): Uint8Array | number {
  const v = vm.opts.env.properties?.(path);
  if (v === undefined) return WasmResult.NotFound;
  return typeof v === 'string' ? encodeUtf8(v) : v;
}

/** The attributes Envoy 1.33 removed from the top level; they live under `xds` now. */
const LEGACY_TOP = new Set(['node', 'cluster_name', 'cluster_metadata', 'route_name', 'route_metadata',
  'upstream_host_metadata', 'listener_direction', 'listener_metadata']);

/**
 * `xds.*` (Envoy's XDSWrapper): `node` is the bootstrap node, readable from root contexts too
 * (the data plane supplies it as `node.*`); the rest need a stream.
 */
function xds(vm: Vm, s: StreamState | null, rest: readonly string[]): Uint8Array | number {
  const key = rest[0];
  if (key === 'node') return rest.length > 1 ? fromEnv(vm, ['node', ...rest.slice(1)]) : WasmResult.NotFound;
  if (!s || key === undefined) return WasmResult.NotFound;
  if (key === 'cluster_name') return rest.length > 1 ? WasmResult.NotFound : str(s.info.clusterName);
  if (key === 'route_name') return rest.length > 1 ? WasmResult.NotFound : str(s.info.routeName);
  // Metadata, listener and filter-chain attributes come from the data plane, by their xds path.
  return fromEnv(vm, ['xds', ...rest]);
}

/** Resolves a property path (already split on NUL) for a context. */
export function getProperty(vm: Vm, ctx: Context, path: readonly string[]): Uint8Array | number {
  if (path.length === 0) return WasmResult.NotFound;
  const top = path[0]!;
  const rest = path.slice(1);
  const s = ctx.stream;
  const key = rest[0];
  // Current Envoy (1.33 on) serves these only under xds.*; an older Envoy only at the top level.
  if (top === 'xds') return vm.opts.legacyAttributes ? WasmResult.NotFound : xds(vm, s, rest);
  if (LEGACY_TOP.has(top) && !vm.opts.legacyAttributes) return WasmResult.NotFound;
  switch (top) {
    case 'plugin_name': return rest.length ? WasmResult.NotFound : encodeUtf8(vm.opts.name);
    case 'plugin_root_id': return rest.length ? WasmResult.NotFound : encodeUtf8(vm.opts.rootId);
    case 'plugin_vm_id': return rest.length ? WasmResult.NotFound : encodeUtf8(vm.opts.vmId);
    case 'node':
    case 'listener_direction':
    case 'listener_metadata':
      return fromEnv(vm, path);
  }
  if (!s) return WasmResult.NotFound;
  const info = s.info;
  switch (top) {
    case 'request': return key === undefined ? WasmResult.NotFound : request(vm, s, key, rest.slice(1));
    case 'response': return key === undefined ? WasmResult.NotFound : response(vm, s, key, rest.slice(1));
    case 'source':
      if (key === 'address' && rest.length === 1) return str(info.downstreamAddress);
      if (key === 'port' && rest.length === 1) return portOf(info.downstreamAddress);
      return WasmResult.NotFound;
    case 'destination':
      if (key === 'address' && rest.length === 1) return str(info.localAddress);
      if (key === 'port' && rest.length === 1) return portOf(info.localAddress);
      return WasmResult.NotFound;
    case 'upstream':
      if (key === 'address' && rest.length === 1) return str(info.upstreamAddress);
      if (key === 'port' && rest.length === 1) return portOf(info.upstreamAddress);
      return WasmResult.NotFound;
    case 'connection':
      if (key === 'id' && rest.length === 1) return info.connectionId === undefined ? WasmResult.NotFound : int64(info.connectionId);
      if (key === 'mtls' && rest.length === 1) return bool(false);
      return WasmResult.NotFound;
    case 'connection_id': return info.connectionId === undefined ? WasmResult.NotFound : int64(info.connectionId);
    case 'cluster_name': return rest.length ? WasmResult.NotFound : str(info.clusterName);
    case 'route_name': return rest.length ? WasmResult.NotFound : str(info.routeName);
    case 'metadata':
    case 'cluster_metadata':
    case 'route_metadata':
    case 'upstream_host_metadata':
    case 'filter_state':
      return fromEnv(vm, path);
  }
  // Anything else is a value the module stored with proxy_set_property (Envoy's filter state).
  const v = s.filterState?.get(top);
  if (v === undefined || rest.length > 0) return fromEnv(vm, path);
  return v;
}

/** proxy_set_property: stored per stream; a root context has no stream (NotFound, as Envoy). */
export function setProperty(ctx: Context, path: string, value: Uint8Array): number {
  const s = ctx.stream;
  if (!s) return WasmResult.NotFound;
  (s.filterState ??= new Map()).set(path, value.slice());
  return WasmResult.Ok;
}
