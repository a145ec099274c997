// Request classification: which configured route a request belongs to, whether
// it is the shadow's copy, and small parsers for values read from headers.
import { ByteBuf, bytesEqual, startsWith } from "../abi/bytes";
import { Config } from "./config";

/** matchRoute result when no routes are configured: every request matches. */
export const ROUTE_ALL: i32 = -2;
export const ROUTE_NONE: i32 = -1;

/** Index of the first route whose prefix and methods match; ROUTE_NONE; or ROUTE_ALL without routes. */
export function matchRoute(cfg: Config, pathPtr: usize, pathLen: i32, methodPtr: usize, methodLen: i32): i32 {
  const routes = cfg.routes;
  const n = routes.length;
  if (n == 0) return ROUTE_ALL;
  for (let i = 0; i < n; i++) {
    const r = unchecked(routes[i]);
    if (!startsWith(pathPtr, pathLen, r.prefix)) continue;
    const m = r.methods.length;
    if (m == 0) return i;
    for (let j = 0; j < m; j++) {
      const want = unchecked(r.methods[j]);
      if (bytesEqual(methodPtr, methodLen, changetype<usize>(want), want.byteLength)) return i;
    }
  }
  return ROUTE_NONE;
}

/** Length of the path before any query string. */
export function pathWithoutQuery(p: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    if (load<u8>(p + <usize>i) == 63) return i;
  }
  return n;
}

/** Length of the host part of an authority ("host:port" → "host", "[::1]:80" → "[::1]"). */
export function hostLength(p: usize, n: i32): i32 {
  for (let i = n - 1; i >= 0; i--) {
    const c = load<u8>(p + <usize>i);
    if (c == 58) return i;
    if (c < 48 || c > 57) return n; // not a port: no colon-digits suffix
  }
  return n;
}

const SHADOW_SUFFIX = String.UTF8.encode("-shadow");

/** Whether the host part of the authority ends in "-shadow" (Envoy's mirror rewrite). */
export function isShadowAuthority(p: usize, n: i32): bool {
  const h = hostLength(p, n);
  const s = SHADOW_SUFFIX.byteLength;
  return h >= s && memory.compare(p + <usize>(h - s), changetype<usize>(SHADOW_SUFFIX), <usize>s) == 0;
}

/** Appends the mirrored copy's authority as Envoy writes it: host + "-shadow" + optional ":port". */
export function shadowAuthorityOf(p: usize, n: i32, out: ByteBuf): void {
  const h = hostLength(p, n);
  out.bytes(p, h);
  out.buf(SHADOW_SUFFIX);
  out.bytes(p + <usize>h, n - h);
}

/** A 1–3 digit status code; -1 when the value is not one. */
export function parseStatus(p: usize, n: i32): i32 {
  if (n < 1 || n > 3) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = <i32>load<u8>(p + <usize>i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + c - 48;
  }
  return v;
}
