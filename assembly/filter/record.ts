// Writing records (contract §2) as JSON bytes. The fields every side shares
// (v, id, route, method, path, ts_ms) are written once per request into a prefix;
// each side's record is that prefix plus its own fields.
import { ByteBuf } from "../abi/bytes";
import { isValidUtf8, writeBase64, writeJsonString } from "./json";

const K_V_ID = String.UTF8.encode("{\"v\":1,\"id\":\"");
const K_ROUTE = String.UTF8.encode("\",\"route\":");
const K_METHOD = String.UTF8.encode(",\"method\":");
const K_PATH = String.UTF8.encode(",\"path\":");
const K_TS = String.UTF8.encode(",\"ts_ms\":");
const K_ROLE_PRODUCTION = String.UTF8.encode(",\"role\":\"production\"");
const K_ROLE_SHADOW = String.UTF8.encode(",\"role\":\"shadow\"");
const K_ROLE_BASELINE = String.UTF8.encode(",\"role\":\"baseline\"");
const K_STATUS = String.UTF8.encode(",\"status\":");
const K_ERROR = String.UTF8.encode(",\"error\":");
const K_LATENCY = String.UTF8.encode(",\"latency_ms\":");
const K_REQUEST_BODY = String.UTF8.encode(",\"request_body\":");
const K_RESPONSE_HEADERS = String.UTF8.encode(",\"response_headers\":");
const K_RESPONSE_BODY = String.UTF8.encode(",\"response_body\":");
const K_BASE64 = String.UTF8.encode(",\"body_encoding\":\"base64\"");
const K_TRUNCATED = String.UTF8.encode(",\"response_body_truncated\":true");
const K_REDACTED = String.UTF8.encode("[redacted]");
const K_SOURCE = String.UTF8.encode(",\"source\":");

export const ROLE_FIELD_PRODUCTION: i32 = 1;
export const ROLE_FIELD_SHADOW: i32 = 2;
export const ROLE_FIELD_BASELINE: i32 = 3;

/** `,"source":"…"` for the node id the host reports, or nothing when it has none. */
export function writeSource(out: ByteBuf, p: usize, n: i32): void {
  out.clear();
  if (n <= 0) return;
  out.buf(K_SOURCE);
  writeJsonString(out, p, n);
}

/** `{"v":1,"id":"…","route":…,"method":…,"path":…,"ts_ms":N` (no closing brace). */
export function writePrefix(out: ByteBuf, idPtr: usize, idLen: i32, routeJson: ByteBuf,
  methodPtr: usize, methodLen: i32, pathPtr: usize, pathLen: i32, tsMs: u64): void {
  out.buf(K_V_ID);
  out.bytes(idPtr, idLen); // ids are [A-Za-z0-9._:-] only: nothing to escape
  out.buf(K_ROUTE);
  out.from(routeJson);
  out.buf(K_METHOD);
  writeJsonString(out, methodPtr, methodLen);
  out.buf(K_PATH);
  writeJsonString(out, pathPtr, pathLen);
  out.buf(K_TS);
  out.dec(tsMs);
}

/** Starts a response-headers object; call addHeader per header, then endHeaders. */
export function beginHeaders(out: ByteBuf): void {
  out.clear();
  out.byte(123);
}

/** Adds one header (pseudo-headers are skipped); `redacted` replaces the value. */
export function addHeader(out: ByteBuf, kp: usize, kn: i32, vp: usize, vn: i32, redacted: bool): void {
  if (kn > 0 && load<u8>(kp) == 58) return;
  if (out.len > 1) out.byte(44);
  writeJsonString(out, kp, kn);
  out.byte(58);
  if (redacted) writeJsonString(out, changetype<usize>(K_REDACTED), K_REDACTED.byteLength);
  else writeJsonString(out, vp, vn);
}

export function endHeaders(out: ByteBuf): void {
  out.byte(125);
}

/**
 * One side's record. `requestBody` may be null (not recorded for that side);
 * `source`, if given, is the prepared `,"source":…` field (see writeSource);
 * `headersJson` null or empty means no response headers. Bodies that are not
 * valid UTF-8 make both bodies base64 (body_encoding applies to both).
 */
export function writeRecord(out: ByteBuf, prefix: ByteBuf, role: i32, status: i32, error: ArrayBuffer | null,
  latencyNs: u64, requestBody: ByteBuf | null, headersJson: ByteBuf | null, responseBody: ByteBuf | null,
  truncated: bool, source: ByteBuf | null = null): void {
  out.from(prefix);
  out.buf(role == ROLE_FIELD_SHADOW ? K_ROLE_SHADOW : role == ROLE_FIELD_BASELINE ? K_ROLE_BASELINE : K_ROLE_PRODUCTION);
  out.buf(K_STATUS);
  out.dec(<u64>(status < 0 ? 0 : status));
  if (error !== null) {
    out.buf(K_ERROR);
    writeJsonString(out, changetype<usize>(error), error.byteLength);
  }
  out.buf(K_LATENCY);
  out.millisFromNanos(latencyNs);
  const hasReq = requestBody !== null && requestBody.len > 0;
  const hasResp = responseBody !== null && responseBody.len > 0;
  let base64 = false;
  if (hasReq && !isValidUtf8(requestBody!.ptr, requestBody!.len)) base64 = true;
  if (!base64 && hasResp && !isValidUtf8(responseBody!.ptr, responseBody!.len)) base64 = true;
  if (hasReq) {
    out.buf(K_REQUEST_BODY);
    if (base64) writeBase64(out, requestBody!.ptr, requestBody!.len);
    else writeJsonString(out, requestBody!.ptr, requestBody!.len);
  }
  if (headersJson !== null && headersJson.len > 0) {
    out.buf(K_RESPONSE_HEADERS);
    out.from(headersJson);
  }
  if (hasResp) {
    out.buf(K_RESPONSE_BODY);
    if (base64) writeBase64(out, responseBody!.ptr, responseBody!.len);
    else writeJsonString(out, responseBody!.ptr, responseBody!.len);
  }
  if (base64) out.buf(K_BASE64);
  if (truncated) out.buf(K_TRUNCATED);
  if (source !== null) out.from(source);
  out.byte(125);
}
