// Host functions, declared with exactly the names and signatures Envoy links for
// ABI 0.2.1 (proxy-wasm-cpp-host exports.h). Only what the filter calls is declared;
// AssemblyScript imports a declared function only when it is used.
// All pointers and sizes are 32-bit (wasm32).

// @ts-ignore: decorator
@external("env", "proxy_log")
export declare function proxy_log(level: i32, msg: usize, len: usize): i32;
// @ts-ignore: decorator
@external("env", "proxy_get_log_level")
export declare function proxy_get_log_level(levelPtr: usize): i32;
// @ts-ignore: decorator
@external("env", "proxy_get_status")
export declare function proxy_get_status(codePtr: usize, msgPtrPtr: usize, msgSizePtr: usize): i32;
// @ts-ignore: decorator
@external("env", "proxy_get_property")
export declare function proxy_get_property(path: usize, pathLen: usize, valuePtrPtr: usize, valueSizePtr: usize): i32;
// @ts-ignore: decorator
@external("env", "proxy_get_header_map_pairs")
export declare function proxy_get_header_map_pairs(map: i32, ptrPtr: usize, sizePtr: usize): i32;
// @ts-ignore: decorator
@external("env", "proxy_replace_header_map_value")
export declare function proxy_replace_header_map_value(map: i32, key: usize, keyLen: usize, value: usize, valueLen: usize): i32;
// @ts-ignore: decorator
@external("env", "proxy_get_buffer_bytes")
export declare function proxy_get_buffer_bytes(buffer: i32, start: usize, len: usize, ptrPtr: usize, sizePtr: usize): i32;
// @ts-ignore: decorator
@external("env", "proxy_http_call")
export declare function proxy_http_call(
  upstream: usize, upstreamLen: usize, headers: usize, headersLen: usize, body: usize, bodyLen: usize,
  trailers: usize, trailersLen: usize, timeoutMs: u32, tokenPtr: usize): i32;
// @ts-ignore: decorator
@external("env", "proxy_set_tick_period_milliseconds")
export declare function proxy_set_tick_period_milliseconds(ms: u32): i32;
// @ts-ignore: decorator
@external("env", "proxy_get_current_time_nanoseconds")
export declare function proxy_get_current_time_nanoseconds(ptr: usize): i32;
// @ts-ignore: decorator
@external("env", "proxy_define_metric")
export declare function proxy_define_metric(type: i32, name: usize, nameLen: usize, idPtr: usize): i32;
// @ts-ignore: decorator
@external("env", "proxy_increment_metric")
export declare function proxy_increment_metric(id: u32, delta: i64): i32;

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "random_get")
export declare function wasi_random_get(buf: usize, len: usize): i32;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "clock_time_get")
export declare function wasi_clock_time_get(id: u32, precision: u64, timePtr: usize): i32;
// @ts-ignore: decorator
@external("env", "proxy_done")
export declare function proxy_done(): i32;
