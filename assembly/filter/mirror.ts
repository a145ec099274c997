// The filter-driven mirrored copy's headers: the production request's headers
// without hop-by-hop headers, content-length (the host sets it from the body),
// strip_headers, and any incoming marker or correlation header; then the
// rewritten :authority, the correlation id and the shadow marker "1".
import { ByteBuf, bytesEqual } from "../abi/bytes";
import { PairTable } from "../abi/pairs";
import { Config } from "./config";
import { shadowAuthorityOf } from "./route";

const HOP_BY_HOP: ArrayBuffer[] = [
  String.UTF8.encode("connection"), String.UTF8.encode("keep-alive"), String.UTF8.encode("proxy-connection"),
  String.UTF8.encode("transfer-encoding"), String.UTF8.encode("upgrade"), String.UTF8.encode("te"),
  String.UTF8.encode("trailer"), String.UTF8.encode("content-length"),
];
const H_AUTHORITY = String.UTF8.encode(":authority");
const V_ONE = String.UTF8.encode("1");

export function inList(list: ArrayBuffer[], kp: usize, kn: i32): bool {
  for (let i = 0, n = list.length; i < n; i++) {
    const h = unchecked(list[i]);
    if (bytesEqual(kp, kn, changetype<usize>(h), h.byteLength)) return true;
  }
  return false;
}

/**
 * Encodes the copy's header pairs into `out`. `authScratch` holds the rewritten
 * authority while encoding; (authPtr, authLen) is the production :authority.
 */
export function buildMirrorHeaders(cfg: Config, src: PairTable, dst: PairTable, idPtr: usize, idLen: i32,
  authPtr: usize, authLen: i32, authScratch: ByteBuf, out: ByteBuf): void {
  dst.clear();
  const corr = cfg.correlationHeader;
  const marker = cfg.markerHeader;
  for (let i = 0; i < src.count; i++) {
    const kp = src.keyPtr(i);
    const kn = src.keyLen(i);
    if (bytesEqual(kp, kn, changetype<usize>(H_AUTHORITY), H_AUTHORITY.byteLength)) continue;
    if (bytesEqual(kp, kn, changetype<usize>(corr), corr.byteLength)) continue;
    if (bytesEqual(kp, kn, changetype<usize>(marker), marker.byteLength)) continue;
    if (inList(HOP_BY_HOP, kp, kn) || inList(cfg.stripHeaders, kp, kn)) continue;
    dst.add(kp, kn, src.valPtr(i), src.valLen(i));
  }
  authScratch.clear();
  const fixed = cfg.shadowAuthority;
  if (fixed !== null) authScratch.buf(fixed);
  else shadowAuthorityOf(authPtr, authLen, authScratch);
  dst.add(changetype<usize>(H_AUTHORITY), H_AUTHORITY.byteLength, authScratch.ptr, authScratch.len);
  dst.add(changetype<usize>(corr), corr.byteLength, idPtr, idLen);
  dst.add(changetype<usize>(marker), marker.byteLength, changetype<usize>(V_ONE), 1);
  out.clear();
  dst.encode(out);
  dst.clear();
}
