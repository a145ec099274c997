// The host functions Envoy (proxy-wasm-cpp-host) links for a module that declares
// ABI 0.2.1 or 0.2.0. Anything a module imports outside this table fails to load,
// as it would in Envoy ("missing import"); a listed import with another signature
// fails too ("import type mismatch"). Read from proxy-wasm-cpp-host's exports.h.

export type WasmValType = 'i32' | 'i64';
export interface ImportSignature { readonly params: readonly WasmValType[]; readonly results: readonly WasmValType[] }

export const ENV_IMPORTS: Readonly<Record<string, ImportSignature>> = {
  proxy_log: { params: ['i32', 'i32', 'i32'], results: ['i32'] },
  proxy_get_log_level: { params: ['i32'], results: ['i32'] },
  proxy_get_status: { params: ['i32', 'i32', 'i32'], results: ['i32'] },
  proxy_get_property: { params: ['i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  proxy_set_property: { params: ['i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  proxy_send_local_response: { params: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  proxy_continue_stream: { params: ['i32'], results: ['i32'] },
  proxy_close_stream: { params: ['i32'], results: ['i32'] },
  proxy_get_shared_data: { params: ['i32', 'i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  proxy_set_shared_data: { params: ['i32', 'i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  proxy_register_shared_queue: { params: ['i32', 'i32', 'i32'], results: ['i32'] },
  proxy_resolve_shared_queue: { params: ['i32', 'i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  proxy_dequeue_shared_queue: { params: ['i32', 'i32', 'i32'], results: ['i32'] },
  proxy_enqueue_shared_queue: { params: ['i32', 'i32', 'i32'], results: ['i32'] },
  proxy_get_header_map_value: { params: ['i32', 'i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  proxy_add_header_map_value: { params: ['i32', 'i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  proxy_replace_header_map_value: { params: ['i32', 'i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  proxy_remove_header_map_value: { params: ['i32', 'i32', 'i32'], results: ['i32'] },
  proxy_get_header_map_pairs: { params: ['i32', 'i32', 'i32'], results: ['i32'] },
  proxy_set_header_map_pairs: { params: ['i32', 'i32', 'i32'], results: ['i32'] },
  proxy_get_header_map_size: { params: ['i32', 'i32'], results: ['i32'] },
  proxy_get_buffer_status: { params: ['i32', 'i32', 'i32'], results: ['i32'] },
  proxy_get_buffer_bytes: { params: ['i32', 'i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  proxy_set_buffer_bytes: { params: ['i32', 'i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  proxy_http_call: { params: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  proxy_grpc_call: { params: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  proxy_grpc_stream: { params: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  proxy_grpc_send: { params: ['i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  proxy_grpc_cancel: { params: ['i32'], results: ['i32'] },
  proxy_grpc_close: { params: ['i32'], results: ['i32'] },
  proxy_set_tick_period_milliseconds: { params: ['i32'], results: ['i32'] },
  proxy_get_current_time_nanoseconds: { params: ['i32'], results: ['i32'] },
  proxy_define_metric: { params: ['i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  proxy_get_metric: { params: ['i32', 'i32'], results: ['i32'] },
  proxy_set_effective_context: { params: ['i32'], results: ['i32'] },
  proxy_done: { params: [], results: ['i32'] },
  proxy_call_foreign_function: { params: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  proxy_increment_metric: { params: ['i32', 'i64'], results: ['i32'] },
  proxy_record_metric: { params: ['i32', 'i64'], results: ['i32'] },
  pthread_equal: { params: ['i32', 'i32'], results: ['i32'] },
  emscripten_notify_memory_growth: { params: ['i32'], results: [] },
};

/** WASI is linked under both module names. */
export const WASI_MODULES: readonly string[] = ['wasi_snapshot_preview1', 'wasi_unstable'];

/** WASI functions Envoy links (most of them are stubs that answer an error code). */
export const WASI_FUNCTIONS: readonly string[] = [
  'fd_write', 'fd_read', 'fd_seek', 'fd_close', 'fd_fdstat_get', 'fd_fdstat_set_flags',
  'fd_fdstat_set_rights', 'environ_get', 'environ_sizes_get', 'args_get', 'args_sizes_get', 'clock_time_get',
  'clock_res_get', 'fd_advise', 'fd_allocate', 'fd_datasync', 'fd_filestat_set_size', 'fd_filestat_set_times',
  'fd_pread', 'fd_pwrite', 'fd_readdir', 'fd_renumber', 'fd_sync', 'fd_tell',
  'path_create_directory', 'path_filestat_set_times', 'path_link', 'path_readlink', 'path_remove_directory', 'path_rename',
  'path_symlink', 'path_unlink_file', 'sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown',
  'random_get', 'sched_yield', 'poll_oneoff', 'proc_exit', 'path_open', 'fd_prestat_get',
  'fd_prestat_dir_name', 'path_filestat_get', 'fd_filestat_get',
];

/** Older ABI names a 0.2.1 module might still import; Envoy does not link them. */
export const NOT_LINKED: readonly string[] = ['proxy_get_configuration', 'proxy_continue_request', 'proxy_continue_response', 'proxy_clear_route_cache', 'abort', 'seed', 'trace'];

export const ABI_VERSION_EXPORTS: readonly string[] = ['proxy_abi_version_0_2_1', 'proxy_abi_version_0_2_0', 'proxy_abi_version_0_1_0'];

/** Envoy looks up `malloc` first, then `proxy_on_memory_allocate`. */
export const ALLOCATOR_EXPORTS: readonly string[] = ['malloc', 'proxy_on_memory_allocate'];

/** Whether an import (module, name) is one Envoy links. */
export function isLinkedImport(module: string, name: string): boolean {
  if (module === 'env') return Object.prototype.hasOwnProperty.call(ENV_IMPORTS, name);
  return WASI_MODULES.includes(module) && WASI_FUNCTIONS.includes(name);
}

// ---------------------------------------------------------------------------
// Additions for the host runtime (types and codes shared by src/host/*).

export type AbiVersion = '0.1.0' | '0.2.0' | '0.2.1';

export const ABI_EXPORT_TO_VERSION: Readonly<Record<string, AbiVersion>> = {
  proxy_abi_version_0_2_1: '0.2.1',
  proxy_abi_version_0_2_0: '0.2.0',
  proxy_abi_version_0_1_0: '0.1.0',
};

const i32 = 'i32' as const;
const i64 = 'i64' as const;
function sig(params: WasmValType[], results: WasmValType[] = [i32]): ImportSignature {
  return { params, results };
}

/** Functions every ABI version links (FOR_ALL_HOST_FUNCTIONS plus the emscripten/pthread helpers). */
const COMMON_ENV = Object.keys(ENV_IMPORTS).filter(
  (n) => !['proxy_continue_stream', 'proxy_close_stream', 'proxy_get_log_level'].includes(n),
);

/** Functions only linked for one ABI version (registerCallbacks in proxy-wasm-cpp-host's wasm.cc). */
const ABI_SPECIFIC_ENV: Readonly<Record<AbiVersion, Readonly<Record<string, ImportSignature>>>> = {
  '0.1.0': {
    proxy_get_configuration: sig([i32, i32]),
    proxy_continue_request: sig([]),
    proxy_continue_response: sig([]),
    proxy_clear_route_cache: sig([]),
  },
  '0.2.0': {
    proxy_continue_stream: ENV_IMPORTS.proxy_continue_stream!,
    proxy_close_stream: ENV_IMPORTS.proxy_close_stream!,
  },
  '0.2.1': {
    proxy_continue_stream: ENV_IMPORTS.proxy_continue_stream!,
    proxy_close_stream: ENV_IMPORTS.proxy_close_stream!,
    proxy_get_log_level: ENV_IMPORTS.proxy_get_log_level!,
  },
};

/** The `env` functions Envoy links for a module declaring `abi`. */
export function envImportsFor(abi: AbiVersion): Readonly<Record<string, ImportSignature>> {
  const out: Record<string, ImportSignature> = {};
  for (const n of COMMON_ENV) out[n] = ENV_IMPORTS[n]!;
  Object.assign(out, ABI_SPECIFIC_ENV[abi]);
  return out;
}

/**
 * WASI signatures as proxy-wasm-cpp-host declares them. Note path_link (6 params) and
 * path_symlink (4 params) differ from the WASI spec: the host's own declarations are what the
 * link check compares against, so we keep them.
 */
export const WASI_SIGNATURES: Readonly<Record<string, ImportSignature>> = {
  fd_write: sig([i32, i32, i32, i32]),
  fd_read: sig([i32, i32, i32, i32]),
  fd_seek: sig([i32, i64, i32, i32]),
  fd_close: sig([i32]),
  fd_fdstat_get: sig([i32, i32]),
  fd_fdstat_set_flags: sig([i32, i32]),
  fd_fdstat_set_rights: sig([i32, i64, i64]),
  environ_get: sig([i32, i32]),
  environ_sizes_get: sig([i32, i32]),
  args_get: sig([i32, i32]),
  args_sizes_get: sig([i32, i32]),
  clock_time_get: sig([i32, i64, i32]),
  clock_res_get: sig([i32, i32]),
  fd_advise: sig([i32, i64, i64, i32]),
  fd_allocate: sig([i32, i64, i64]),
  fd_datasync: sig([i32]),
  fd_filestat_set_size: sig([i32, i64]),
  fd_filestat_set_times: sig([i32, i64, i64, i32]),
  fd_pread: sig([i32, i32, i32, i64, i32]),
  fd_pwrite: sig([i32, i32, i32, i64, i32]),
  fd_readdir: sig([i32, i32, i32, i64, i32]),
  fd_renumber: sig([i32, i32]),
  fd_sync: sig([i32]),
  fd_tell: sig([i32, i32]),
  path_create_directory: sig([i32, i32, i32]),
  path_filestat_set_times: sig([i32, i32, i32, i32, i64, i64, i32]),
  path_link: sig([i32, i32, i32, i32, i32, i32]),
  path_readlink: sig([i32, i32, i32, i32, i32, i32]),
  path_remove_directory: sig([i32, i32, i32]),
  path_rename: sig([i32, i32, i32, i32, i32, i32]),
  path_symlink: sig([i32, i32, i32, i32]),
  path_unlink_file: sig([i32, i32, i32]),
  sock_accept: sig([i32, i32, i32]),
  sock_recv: sig([i32, i32, i32, i32, i32, i32]),
  sock_send: sig([i32, i32, i32, i32, i32]),
  sock_shutdown: sig([i32, i32]),
  random_get: sig([i32, i32]),
  sched_yield: sig([]),
  poll_oneoff: sig([i32, i32, i32, i32]),
  proc_exit: sig([i32], []),
  path_open: sig([i32, i32, i32, i32, i32, i64, i64, i32, i32]),
  fd_prestat_get: sig([i32, i32]),
  fd_prestat_dir_name: sig([i32, i32, i32]),
  path_filestat_get: sig([i32, i32, i32, i32, i32]),
  fd_filestat_get: sig([i32, i32]),
};

/**
 * Imports a module may call while `_initialize`/`_start` runs (WasmBase::startVm's restricted
 * callback list). Anything else traps with "restricted_callback".
 */
export const ALLOWED_DURING_START: ReadonlySet<string> = new Set([
  'env.emscripten_notify_memory_growth',
  'env.proxy_log',
  ...['fd_write', 'args_sizes_get', 'args_get', 'environ_sizes_get', 'environ_get', 'clock_time_get', 'clock_res_get',
    'random_get', 'poll_oneoff', 'fd_fdstat_get', 'fd_fdstat_set_flags', 'fd_advise', 'fd_allocate', 'fd_datasync',
    'fd_fdstat_set_rights', 'fd_filestat_get', 'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread',
    'fd_prestat_dir_name', 'fd_prestat_get', 'fd_pwrite', 'fd_readdir', 'fd_renumber', 'fd_sync', 'fd_tell',
    'path_create_directory', 'path_filestat_get', 'path_filestat_set_times', 'path_link', 'path_readlink',
    'path_remove_directory', 'path_rename', 'path_symlink', 'path_unlink_file', 'sock_accept', 'sock_recv',
    'sock_send', 'sock_shutdown'].flatMap((f) => WASI_MODULES.map((m) => `${m}.${f}`)),
]);

export const WasmResult = {
  Ok: 0, NotFound: 1, BadArgument: 2, SerializationFailure: 3, ParseFailure: 4, BadExpression: 5,
  InvalidMemoryAccess: 6, Empty: 7, CasMismatch: 8, ResultMismatch: 9, InternalFailure: 10,
  BrokenConnection: 11, Unimplemented: 12,
} as const;

export const MapType = {
  RequestHeaders: 0, RequestTrailers: 1, ResponseHeaders: 2, ResponseTrailers: 3,
  GrpcInitialMetadata: 4, GrpcTrailingMetadata: 5, HttpCallResponseHeaders: 6, HttpCallResponseTrailers: 7,
} as const;

export const BufferType = {
  HttpRequestBody: 0, HttpResponseBody: 1, DownstreamData: 2, UpstreamData: 3, HttpCallResponseBody: 4,
  GrpcReceiveBuffer: 5, VmConfiguration: 6, PluginConfiguration: 7, CallData: 8,
} as const;

export const MetricType = { Counter: 0, Gauge: 1, Histogram: 2 } as const;

/** Header callback results (FilterHeadersStatus) and body results (FilterDataStatus). */
export const HeadersStatus = { Continue: 0, StopIteration: 1, ContinueAndEndStream: 2, StopAllIterationAndBuffer: 3, StopAllIterationAndWatermark: 4 } as const;
export const DataStatus = { Continue: 0, StopIterationAndBuffer: 1, StopIterationAndWatermark: 2, StopIterationNoBuffer: 3 } as const;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'critical'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/**
 * Signatures Envoy expects of the module's exports it looks up (WasmBase::getFunctions). An
 * export with another signature fails the load ("Bad function signature for: …").
 */
export function expectedExports(abi: AbiVersion): Readonly<Record<string, ImportSignature>> {
  const w = (n: number): ImportSignature => sig(Array<WasmValType>(n).fill(i32));
  const v = (n: number): ImportSignature => sig(Array<WasmValType>(n).fill(i32), []);
  const headersArity = abi === '0.1.0' ? 2 : 3;
  return {
    _initialize: v(0), _start: v(0), main: w(2), __main_void: w(0), malloc: w(1), proxy_on_memory_allocate: w(1),
    proxy_validate_configuration: w(2), proxy_on_vm_start: w(2), proxy_on_configure: w(2), proxy_on_tick: v(1),
    proxy_on_context_create: v(2), proxy_on_new_connection: w(1), proxy_on_downstream_data: w(3),
    proxy_on_upstream_data: w(3), proxy_on_downstream_connection_close: v(2), proxy_on_upstream_connection_close: v(2),
    proxy_on_request_headers: w(headersArity), proxy_on_request_body: w(3), proxy_on_request_trailers: w(2),
    proxy_on_request_metadata: w(2), proxy_on_response_headers: w(headersArity), proxy_on_response_body: w(3),
    proxy_on_response_trailers: w(2), proxy_on_response_metadata: w(2), proxy_on_http_call_response: v(5),
    proxy_on_grpc_receive: v(3), proxy_on_grpc_close: v(3), proxy_on_grpc_receive_initial_metadata: v(3),
    proxy_on_grpc_receive_trailing_metadata: v(3), proxy_on_queue_ready: v(2), proxy_on_done: w(1), proxy_on_log: v(1),
    proxy_on_delete: v(1), ...(abi === '0.1.0' ? {} : { proxy_on_foreign_function: v(3) }),
  };
}
