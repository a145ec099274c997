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
