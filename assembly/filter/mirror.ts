// The filter-driven copies' headers (shadow and baseline): the production request's headers
// without hop-by-hop headers (the fixed list and any the Connection header names), content-length (the host sets it from the body),
// strip_headers, tracing and identity headers (unless strip_trace_headers is false),
// and any incoming marker or correlation header; then the
// copy's :authority, the correlation id and the shadow marker "1".
import { ByteBuf, bytesEqual } from "../abi/bytes";
import { PairTable } from "../abi/pairs";
import { Config } from "./config";
import { shadowAuthorityOf } from "./route";

const HOP_BY_HOP: ArrayBuffer[] = [
  String.UTF8.encode("connection"), String.UTF8.encode("keep-alive"), String.UTF8.encode("proxy-connection"),
  String.UTF8.encode("transfer-encoding"), String.UTF8.encode("upgrade"), String.UTF8.encode("te"),
  String.UTF8.encode("trailer"), String.UTF8.encode("content-length"),
];
// Tracing and identity headers (strip_trace_headers): a copy carrying them would join
// production's traces (its spans appear under the caller's trace, and a sampled flag
// forces tracing downstream of the shadow) and present production's identity.
const TRACE_HEADERS: ArrayBuffer[] = [
  String.UTF8.encode("traceparent"), String.UTF8.encode("tracestate"), String.UTF8.encode("b3"),
  String.UTF8.encode("x-ot-span-context"), String.UTF8.encode("x-cloud-trace-context"), String.UTF8.encode("grpc-trace-bin"),
  String.UTF8.encode("uber-trace-id"), String.UTF8.encode("baggage"), String.UTF8.encode("x-amzn-trace-id"),
  String.UTF8.encode("sw8"), String.UTF8.encode("sw8-correlation"), String.UTF8.encode("sw8-x"),
  String.UTF8.encode("x-client-trace-id"), String.UTF8.encode("x-forwarded-client-cert"),
];
// Prefixes: B3 and Datadog propagation, Jaeger and OpenTracing baggage, and every
// x-envoy-* header (Envoy's router and connection manager act on many of them: retries,
// timeouts, forced tracing, internal-request trust, Istio's peer metadata).
const TRACE_PREFIXES: ArrayBuffer[] = [
  String.UTF8.encode("x-b3-"), String.UTF8.encode("x-datadog-"), String.UTF8.encode("uberctx-"),
  String.UTF8.encode("ot-baggage-"), String.UTF8.encode("x-envoy-"),
];
const H_AUTHORITY = String.UTF8.encode(":authority");
const H_CONNECTION = String.UTF8.encode("connection");
const V_ONE = String.UTF8.encode("1");

export function inList(list: ArrayBuffer[], kp: usize, kn: i32): bool {
  for (let i = 0, n = list.length; i < n; i++) {
    const h = unchecked(list[i]);
    if (bytesEqual(kp, kn, changetype<usize>(h), h.byteLength)) return true;
  }
  return false;
}

/** Whether a (lower-case) header name is a tracing or identity header the copies leave out by default. */
export function isTraceHeader(kp: usize, kn: i32): bool {
  if (kn == 0) return false;
  const c = load<u8>(kp);
  // Every listed name starts with one of these letters: most headers are rejected on the first byte.
  if (c != 120 && c != 116 && c != 98 && c != 103 && c != 117 && c != 111 && c != 115) return false;
  if (inList(TRACE_HEADERS, kp, kn)) return true;
  for (let i = 0, n = TRACE_PREFIXES.length; i < n; i++) {
    const p = unchecked(TRACE_PREFIXES[i]);
    if (kn > p.byteLength && memory.compare(kp, changetype<usize>(p), <usize>p.byteLength) == 0) return true;
  }
  return false;
}

/** Whether the header name (kp, kn) is one of the comma-separated tokens of a Connection value (ASCII case-insensitive). */
export function namedInConnection(vp: usize, vn: i32, kp: usize, kn: i32): bool {
  let i = 0;
  while (i < vn) {
    while (i < vn && (load<u8>(vp + <usize>i) == 32 || load<u8>(vp + <usize>i) == 9 || load<u8>(vp + <usize>i) == 44)) i++;
    const start = i;
    while (i < vn && load<u8>(vp + <usize>i) != 44) i++;
    let end = i;
    while (end > start && (load<u8>(vp + <usize>(end - 1)) == 32 || load<u8>(vp + <usize>(end - 1)) == 9)) end--;
    if (end - start == kn && kn > 0) {
      let same = true;
      for (let j = 0; j < kn; j++) {
        let c = <u32>load<u8>(vp + <usize>(start + j));
        if (c >= 65 && c <= 90) c += 32;
        if (c != <u32>load<u8>(kp + <usize>j)) { same = false; break; }
      }
      if (same) return true;
    }
  }
  return false;
}

/**
 * Encodes the copy's header pairs into `out`. `authScratch` holds the rewritten
 * authority while encoding; (authPtr, authLen) is the production :authority.
 * The shadow copy's authority is shadow_authority or Envoy's `-shadow` rewrite; the
 * baseline copy's is baseline_authority or the production authority unchanged.
 */
export function buildMirrorHeaders(cfg: Config, src: PairTable, dst: PairTable, idPtr: usize, idLen: i32,
  authPtr: usize, authLen: i32, authScratch: ByteBuf, out: ByteBuf, baseline: bool = false): void {
  dst.clear();
  const corr = cfg.correlationHeader;
  const marker = cfg.markerHeader;
  // Headers the Connection header names are hop-by-hop too (RFC 9110 §7.6.1).
  const conn = src.findBuf(H_CONNECTION);
  for (let i = 0; i < src.count; i++) {
    const kp = src.keyPtr(i);
    const kn = src.keyLen(i);
    if (bytesEqual(kp, kn, changetype<usize>(H_AUTHORITY), H_AUTHORITY.byteLength)) continue;
    if (bytesEqual(kp, kn, changetype<usize>(corr), corr.byteLength)) continue;
    if (bytesEqual(kp, kn, changetype<usize>(marker), marker.byteLength)) continue;
    if (inList(HOP_BY_HOP, kp, kn) || inList(cfg.stripHeaders, kp, kn)) continue;
    if (cfg.stripTraceHeaders && isTraceHeader(kp, kn)) continue;
    if (conn >= 0 && namedInConnection(src.valPtr(conn), src.valLen(conn), kp, kn)) continue;
    dst.add(kp, kn, src.valPtr(i), src.valLen(i));
  }
  authScratch.clear();
  const fixed = baseline ? cfg.baselineAuthority : cfg.shadowAuthority;
  if (fixed !== null) authScratch.buf(fixed);
  else if (authLen > 0 && baseline) authScratch.bytes(authPtr, authLen);
  else if (authLen > 0) shadowAuthorityOf(authPtr, authLen, authScratch);
  else authScratch.buf(baseline ? cfg.baselineCluster! : cfg.shadowCluster!); // no authority to derive from (HTTP/1.0): name the cluster
  dst.add(changetype<usize>(H_AUTHORITY), H_AUTHORITY.byteLength, authScratch.ptr, authScratch.len);
  dst.add(changetype<usize>(corr), corr.byteLength, idPtr, idLen);
  dst.add(changetype<usize>(marker), marker.byteLength, changetype<usize>(V_ONE), 1);
  out.clear();
  dst.encode(out);
  dst.clear();
}
