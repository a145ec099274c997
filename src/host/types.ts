// Public types of the host runtime: what the embedding data plane provides and receives.

import type { HeaderList } from './codec.js';
import type { LogLevelName } from './envoy-abi.js';

export type { HeaderList, HeaderPair } from './codec.js';
export type LogLevel = LogLevelName;

/** An outbound call made by the module with proxy_http_call (always owned by the root context). */
export interface HttpCallRequest {
  /** The token the module will see in proxy_on_http_call_response. */
  token: number;
  cluster: string;
  /** Lower-case names, pseudo-headers included; content-length added when there is a body. */
  headers: HeaderList;
  body: Uint8Array;
  trailers: HeaderList;
  /** 0 = no timeout (as Envoy). */
  timeoutMs: number;
}

export interface HttpCallResponse { headers: HeaderList; body: Uint8Array; trailers: HeaderList }
/**
 * 'reset' covers connection failures and resets (delivered as (0, 0, 0) with status 11 "reset").
 * 'timeout' is delivered as Envoy's async client does it: a 504 response "upstream request timeout"
 * (or as a reset when the plugin option httpCallTimeoutAs is 'reset').
 */
export type HttpCallFailure = { failure: 'reset' | 'timeout' };
export type HttpCallResult = HttpCallResponse | HttpCallFailure;
export interface Cancellable { cancel(): void }

export interface HostClock {
  /** Wall-clock time (Unix epoch ms); proxy_get_current_time_nanoseconds and WASI realtime. */
  nowMs(): number;
  /** Optional finer wall clock in ns (Unix epoch); preferred over nowMs × 1e6 when present. */
  nowNs?(): bigint;
  /** Optional finer monotonic clock in ns (WASI clock 1); defaults to nowMs × 1e6. */
  monotonicNs?(): bigint;
  setTimer(ms: number, fn: () => void): Cancellable;
}

/** What the embedding data plane (sidecar, TestVM) gives the host. */
export interface HostEnvironment {
  clusters: { has(name: string): boolean };
  /**
   * Starts an outbound call. Return false when it fails inline (no healthy upstream): the module
   * then gets InternalFailure and no callback. `done` may be called at any time later, from the
   * event loop; the host defers it if a callback is running.
   */
  httpCall(req: HttpCallRequest, done: (res: HttpCallResult) => void): Cancellable | boolean;
  clock: HostClock;
  /** Receives proxy_log / fd_write output at or above logLevel. `vm` tells canary from worker VM. */
  log(level: LogLevel, message: string, pluginName: string, vm: 'canary' | 'worker'): void;
  /** The level answered by proxy_get_log_level (read on every call, so it may change). */
  logLevel: LogLevel;
  /** Extra attributes (node.*, listener_metadata, …) by path segments; strings are sent raw. */
  properties?(path: readonly string[]): Uint8Array | string | undefined;
  /** Fill with random bytes (WASI random_get). Default: node:crypto. */
  random?(buf: Uint8Array): void;
}

/** Per-stream facts the data plane knows (Envoy's StreamInfo). All optional. */
export interface StreamInfo {
  /** "ip:port" of the downstream peer. */
  downstreamAddress?: string;
  /** "ip:port" this listener accepted on. */
  localAddress?: string;
  /** "HTTP/1.1", "HTTP/2", … */
  protocol?: string;
  /** Unix epoch ms; defaults to the clock when the stream is created. */
  startTimeMs?: number;
  /** Set by the data plane once an upstream was picked ("ip:port"). */
  upstreamAddress?: string;
  clusterName?: string;
  routeName?: string;
  /** Set from :status of the response headers if not given. */
  responseCode?: number;
  responseCodeDetails?: string;
  connectionId?: number;
  /** Bytes of request/response body seen so far (kept by the host). */
  requestBodyBytes?: number;
  responseBodyBytes?: number;
  /** Unix epoch ms the stream completed (set by complete()). */
  endTimeMs?: number;
}

export interface LocalResponse {
  status: number;
  body: Uint8Array;
  headers: HeaderList;
  details: string;
  /** gRPC status, undefined when none (-1 in the ABI). */
  grpcStatus?: number;
}

export interface BodyResult {
  /** Proxy-wasm FilterDataStatus (0 Continue, 1 StopIterationAndBuffer, 2 …Watermark, 3 …NoBuffer). */
  status: number;
  /** Bytes to pass on now (possibly modified, possibly earlier buffered chunks); empty when held. */
  data: Uint8Array;
}

/** Released by proxy_continue_stream after a stop: what the data plane should now pass on. */
export interface ContinueEvent {
  direction: 'request' | 'response';
  /** Body bytes held while stopped (after the filter saw them), possibly empty. */
  data: Uint8Array;
  endOfStream: boolean;
  /** Trailers held while stopped, if any. */
  trailers?: HeaderList;
}

export interface MetricValue { type: 'counter' | 'gauge' | 'histogram'; value: number; count?: number; sum?: number }
