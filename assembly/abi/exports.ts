// Every proxy_on_* function of ABI 0.2.1, dispatched to the registered contexts.
// Header and body callbacks answer Continue when the context is unknown.
//
// The module uses AssemblyScript's "minimal" runtime: its collector does not scan
// the stack, so it runs only here, at the end of an export, when no managed
// reference lives in a local: after configure, on every tick, and every
// COLLECT_EVERY deleted contexts. The request path allocates (almost) no managed
// objects, so this keeps memory flat at a fraction of the incremental runtime's
// code size.
import { createContext, deleteContext, findRoot, findStream, ACTION_CONTINUE } from "./context";
export { malloc, proxy_on_memory_allocate } from "./memory";
// Compiled for asconfig's `use: abort=...`; not exported.
import "./abort";

const COLLECT_EVERY: u32 = 1024;
let deletes: u32 = 0;

export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_context_create(id: u32, rootId: u32): void {
  createContext(id, rootId);
}

export function proxy_on_vm_start(rootId: u32, vmConfigSize: u32): u32 {
  const r = findRoot(rootId);
  return r === null || r.onVmStart(vmConfigSize) ? 1 : 0;
}

export function proxy_on_configure(rootId: u32, configSize: u32): u32 {
  const r = findRoot(rootId);
  const ok = r !== null && r.onConfigure(configSize);
  __collect();
  return ok ? 1 : 0;
}

export function proxy_on_tick(rootId: u32): void {
  const r = findRoot(rootId);
  if (r !== null) r.onTick();
  __collect();
}

export function proxy_on_queue_ready(rootId: u32, token: u32): void {
  const r = findRoot(rootId);
  if (r !== null) r.onQueueReady(token);
}

export function proxy_on_foreign_function(rootId: u32, functionId: u32, dataSize: u32): void {
  const r = findRoot(rootId);
  if (r !== null) r.onForeignFunction(functionId, dataSize);
}

export function proxy_on_http_call_response(rootId: u32, token: u32, headers: u32, bodySize: u32, trailers: u32): void {
  const r = findRoot(rootId);
  if (r !== null) r.onHttpCallResponse(token, headers, bodySize, trailers);
}

export function proxy_on_request_headers(id: u32, headers: u32, endOfStream: u32): i32 {
  const s = findStream(id);
  return s === null ? ACTION_CONTINUE : s.onRequestHeaders(headers, endOfStream != 0);
}

export function proxy_on_request_body(id: u32, size: u32, endOfStream: u32): i32 {
  const s = findStream(id);
  return s === null ? ACTION_CONTINUE : s.onRequestBody(size, endOfStream != 0);
}

export function proxy_on_request_trailers(id: u32, trailers: u32): i32 {
  const s = findStream(id);
  return s === null ? ACTION_CONTINUE : s.onRequestTrailers(trailers);
}

export function proxy_on_request_metadata(id: u32, elements: u32): i32 {
  return ACTION_CONTINUE;
}

export function proxy_on_response_headers(id: u32, headers: u32, endOfStream: u32): i32 {
  const s = findStream(id);
  return s === null ? ACTION_CONTINUE : s.onResponseHeaders(headers, endOfStream != 0);
}

export function proxy_on_response_body(id: u32, size: u32, endOfStream: u32): i32 {
  const s = findStream(id);
  return s === null ? ACTION_CONTINUE : s.onResponseBody(size, endOfStream != 0);
}

export function proxy_on_response_trailers(id: u32, trailers: u32): i32 {
  const s = findStream(id);
  return s === null ? ACTION_CONTINUE : s.onResponseTrailers(trailers);
}

export function proxy_on_response_metadata(id: u32, elements: u32): i32 {
  return ACTION_CONTINUE;
}

export function proxy_on_log(id: u32): void {
  const s = findStream(id);
  if (s !== null) s.onLog();
}

/** Envoy ignores the answer for streams; for a root, false would mean "not done yet". */
export function proxy_on_done(id: u32): u32 {
  const s = findStream(id);
  if (s !== null) return s.onDone() ? 1 : 0;
  const r = findRoot(id);
  return r === null || r.onDone() ? 1 : 0;
}

export function proxy_on_delete(id: u32): void {
  deleteContext(id);
  if (++deletes % COLLECT_EVERY == 0) __collect();
}

// TCP (network filter) callbacks: this is an HTTP filter, so they let data pass.
export function proxy_on_new_connection(id: u32): i32 { return ACTION_CONTINUE; }
export function proxy_on_downstream_data(id: u32, size: u32, endOfStream: u32): i32 { return ACTION_CONTINUE; }
export function proxy_on_upstream_data(id: u32, size: u32, endOfStream: u32): i32 { return ACTION_CONTINUE; }
export function proxy_on_downstream_connection_close(id: u32, peer: u32): void {}
export function proxy_on_upstream_connection_close(id: u32, peer: u32): void {}

// gRPC callbacks: the filter starts no gRPC calls.
export function proxy_on_grpc_receive_initial_metadata(id: u32, token: u32, headers: u32): void {}
export function proxy_on_grpc_receive_trailing_metadata(id: u32, token: u32, trailers: u32): void {}
export function proxy_on_grpc_receive(id: u32, token: u32, size: u32): void {}
export function proxy_on_grpc_close(id: u32, token: u32, status: u32): void {}
