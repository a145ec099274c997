// Thin, allocation-free wrappers over the host functions. Data the host returns
// through the allocator is copied into a ByteBuf (or decoded in place) and freed
// at once. NotFound and every other failure are ordinary results, never traps.
import {
  proxy_log, proxy_get_log_level, proxy_get_status, proxy_get_property, proxy_get_header_map_pairs,
  proxy_replace_header_map_value, proxy_get_buffer_bytes, proxy_http_call, proxy_set_tick_period_milliseconds,
  proxy_get_current_time_nanoseconds, proxy_define_metric, proxy_increment_metric, wasi_random_get,
  wasi_clock_time_get, proxy_done,
} from "./imports";
import { OUT_PTR, OUT_SIZE, OUT_U64 } from "./memory";
import { ByteBuf } from "./bytes";
import { PairTable } from "./pairs";

export const RESULT_OK: i32 = 0;
export const RESULT_NOT_FOUND: i32 = 1;
export const RESULT_BAD_ARGUMENT: i32 = 2;
export const RESULT_INTERNAL_FAILURE: i32 = 10;

export const LOG_TRACE: i32 = 0;
export const LOG_DEBUG: i32 = 1;
export const LOG_INFO: i32 = 2;
export const LOG_WARN: i32 = 3;
export const LOG_ERROR: i32 = 4;
export const LOG_CRITICAL: i32 = 5;

export const MAP_REQUEST_HEADERS: i32 = 0;
export const MAP_RESPONSE_HEADERS: i32 = 2;
export const MAP_HTTP_CALL_RESPONSE_HEADERS: i32 = 6;

export const BUFFER_REQUEST_BODY: i32 = 0;
export const BUFFER_RESPONSE_BODY: i32 = 1;
export const BUFFER_HTTP_CALL_RESPONSE_BODY: i32 = 4;
export const BUFFER_VM_CONFIGURATION: i32 = 6;
export const BUFFER_PLUGIN_CONFIGURATION: i32 = 7;

export const METRIC_COUNTER: i32 = 0;

/** The host's log level, asked at configure time and on ticks, never per message. */
let logLevel: i32 = LOG_INFO;

export function refreshLogLevel(): void {
  store<u32>(OUT_PTR, <u32>LOG_INFO);
  if (proxy_get_log_level(OUT_PTR) == RESULT_OK) logLevel = <i32>load<u32>(OUT_PTR);
}

export function logEnabled(level: i32): bool {
  return level >= logLevel;
}

export function log(level: i32, message: string): void {
  if (level < logLevel) return;
  const b = String.UTF8.encode(message);
  proxy_log(level, changetype<usize>(b), <usize>b.byteLength);
}

function takeOut(): void {
  store<u32>(OUT_PTR, 0);
  store<u32>(OUT_SIZE, 0);
}

/** Host-allocated bytes written to the out-parameters by the last call. */
function freeOut(): void {
  const p = <usize>load<u32>(OUT_PTR);
  if (p != 0) heap.free(p);
}

/**
 * Reads a whole header map into `table` (entries point into `table`'s own copy of the
 * bytes). Returns the pair count; 0 when the map is empty, gone or malformed.
 */
export function readHeaderMap(map: i32, table: PairTable, store_: ByteBuf): i32 {
  takeOut();
  store_.clear();
  table.clear();
  if (proxy_get_header_map_pairs(map, OUT_PTR, OUT_SIZE) != RESULT_OK) return 0;
  const p = <usize>load<u32>(OUT_PTR);
  const n = <i32>load<u32>(OUT_SIZE);
  if (p == 0) return 0;
  // Keep the host's allocation instead of copying: hand it to the ByteBuf.
  store_.release();
  store_.ptr = p;
  store_.len = n;
  store_.cap = n;
  return table.decode(p, n);
}

export function replaceHeader(map: i32, key: ArrayBuffer, vp: usize, vn: i32): i32 {
  return proxy_replace_header_map_value(map, changetype<usize>(key), <usize>key.byteLength, vp, <usize>vn);
}

/** Appends up to `len` bytes of a buffer (from `start`) to `out`; returns how many were appended. */
export function readBuffer(buffer: i32, start: i32, len: i32, out: ByteBuf): i32 {
  if (len <= 0) return 0;
  takeOut();
  if (proxy_get_buffer_bytes(buffer, <usize>start, <usize>len, OUT_PTR, OUT_SIZE) != RESULT_OK) return 0;
  const p = <usize>load<u32>(OUT_PTR);
  let n = <i32>load<u32>(OUT_SIZE);
  if (p == 0) return 0;
  if (n > len) n = len;
  out.bytes(p, n);
  heap.free(p);
  return n;
}

/** Status of the last failed call (e.g. 11 "reset" after a failed http call); message appended to `msg`. */
export function getStatus(msg: ByteBuf): i32 {
  takeOut();
  store<u32>(OUT_U64, 0);
  if (proxy_get_status(OUT_U64, OUT_PTR, OUT_SIZE) != RESULT_OK) return -1;
  const p = <usize>load<u32>(OUT_PTR);
  const n = <i32>load<u32>(OUT_SIZE);
  if (p != 0) {
    msg.bytes(p, n);
    heap.free(p);
  }
  return <i32>load<u32>(OUT_U64);
}

/** Reads a property (path segments separated by NUL) into `out`; returns the WasmResult. */
export function getProperty(path: ArrayBuffer, out: ByteBuf): i32 {
  takeOut();
  const r = proxy_get_property(changetype<usize>(path), <usize>path.byteLength, OUT_PTR, OUT_SIZE);
  if (r == RESULT_OK) {
    const p = <usize>load<u32>(OUT_PTR);
    out.bytes(p, <i32>load<u32>(OUT_SIZE));
    if (p != 0) heap.free(p);
  }
  return r;
}

/** The token of the last call httpCall started. */
export let lastToken: u32 = 0;

/** Starts an http call (no trailers); returns the WasmResult, the token in `lastToken`. */
export function httpCall(cluster: ArrayBuffer, headers: usize, headersLen: i32, body: usize, bodyLen: i32, timeoutMs: u32): i32 {
  store<u32>(OUT_PTR, 0);
  const r = proxy_http_call(changetype<usize>(cluster), <usize>cluster.byteLength, headers, <usize>headersLen,
    body, <usize>bodyLen, 0, 0, timeoutMs, OUT_PTR);
  lastToken = load<u32>(OUT_PTR);
  return r;
}

export function setTickPeriod(ms: u32): void {
  proxy_set_tick_period_milliseconds(ms);
}

/** Host time in nanoseconds since the Unix epoch (0 if unavailable). */
export function nowNanos(): u64 {
  store<u64>(OUT_U64, 0);
  if (proxy_get_current_time_nanoseconds(OUT_U64) != RESULT_OK) return 0;
  return load<u64>(OUT_U64);
}

const WASI_CLOCK_MONOTONIC: u32 = 1;

/**
 * Monotonic host time in nanoseconds (WASI clock_time_get, clock 1), for durations: it never
 * jumps with NTP as wall time does. Falls back on wall time if the host refuses the clock.
 */
export function monoNanos(): u64 {
  store<u64>(OUT_U64, 0);
  if (wasi_clock_time_get(WASI_CLOCK_MONOTONIC, 1, OUT_U64) != 0) return nowNanos();
  return load<u64>(OUT_U64);
}

/** Tells the host a root whose proxy_on_done answered false has finished (it is then deleted). */
export function proxyDone(): i32 {
  return proxy_done();
}

/** Defines a counter; returns its id, or -1 when the host refused. */
export function defineCounter(name: string): i64 {
  const b = String.UTF8.encode(name);
  store<u32>(OUT_PTR, 0);
  if (proxy_define_metric(METRIC_COUNTER, changetype<usize>(b), <usize>b.byteLength, OUT_PTR) != RESULT_OK) return -1;
  return <i64>load<u32>(OUT_PTR);
}

export function incrementMetric(id: u32, delta: i64): void {
  proxy_increment_metric(id, delta);
}

/** Fills `len` bytes at `p` from WASI random_get; false if the host failed. */
export function randomBytes(p: usize, len: i32): bool {
  return wasi_random_get(p, <usize>len) == 0;
}
