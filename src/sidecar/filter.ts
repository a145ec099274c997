// The HTTP filter interface the proxy drives, shaped after Envoy's decoder /
// encoder filters: the wasm filter adapter implements it, and so can a test.
import type { HeaderList } from './headers.js';

/**
 * continue: pass the event on. stop: hold this event and all later ones of
 * this direction until resume(). stop-and-buffer (body only): keep the chunk;
 * the next body call sees everything buffered so far.
 */
export type FilterStatus = 'continue' | 'stop' | 'stop-and-buffer';

export interface LocalReply {
  readonly status: number;
  readonly body: Uint8Array;
  readonly headers: HeaderList;
  readonly details: string;
}

/** What a filter may ask of its stream; each takes effect after the current callback returns. */
export interface StreamControl {
  /** proxy_continue_stream: resume the direction this filter stopped. */
  resume(): void;
  /** proxy_send_local_response. */
  sendLocalReply(reply: LocalReply): void;
  /** proxy_close_stream: reset the downstream stream. */
  reset(): void;
}

/** Facts about the stream a filter may read (proxy-wasm properties). */
export interface StreamInfo {
  readonly startTimeMs: number;
  readonly downstreamRemoteAddress: string;
  readonly downstreamLocalAddress: string;
  readonly listenerName: string;
  /** Filled in as the stream advances. */
  routeName: string | undefined;
  clusterName: string | undefined;
  upstreamAddress: string | undefined;
  responseCode: number | undefined;
  responseCodeDetails: string | undefined;
  endTimeMs: number | undefined;
  bytesReceived: number;
  bytesSent: number;
}

/** A body chunk the filter may read and replace in place. */
export interface BodyChunk {
  data: Uint8Array;
}

export interface HttpFilterStream {
  requestHeaders(headers: HeaderList, endOfStream: boolean): FilterStatus;
  requestBody(chunk: BodyChunk, endOfStream: boolean): FilterStatus;
  requestTrailers(trailers: HeaderList): FilterStatus;
  responseHeaders(headers: HeaderList, endOfStream: boolean): FilterStatus;
  responseBody(chunk: BodyChunk, endOfStream: boolean): FilterStatus;
  responseTrailers(trailers: HeaderList): FilterStatus;
  /** Envoy order at the end of a stream: log, then done. */
  log(): void;
  done(): void;
}

export interface HttpFilterFactory {
  readonly name: string;
  newStream(control: StreamControl, info: StreamInfo): HttpFilterStream;
  close(): void | Promise<void>;
}
