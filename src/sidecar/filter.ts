// The HTTP filter interface the proxy drives, shaped after Envoy's decoder /
// encoder filters: the wasm filter adapter implements it, and so can a test.
import type { HeaderList } from './headers.js';

/**
 * continue: pass the event on. stop: hold this event and all later ones of
 * this direction until resume(). stop-and-buffer (body only): the proxy keeps
 * the chunk; the next body call sees everything buffered so far. held (body
 * and trailers): the filter keeps the data itself (chunk.data is what may go
 * on now); later events still reach it, and resume(release) passes on the rest.
 */
export type FilterStatus = 'continue' | 'stop' | 'stop-and-buffer' | 'held';

/** What a filter that held data itself lets go when it resumes. */
export interface Release {
  readonly direction: 'request' | 'response';
  readonly data: Uint8Array;
  readonly endOfStream: boolean;
  readonly trailers?: HeaderList;
}

export interface LocalReply {
  readonly status: number;
  readonly body: Uint8Array;
  readonly headers: HeaderList;
  readonly details: string;
}

/** What a filter may ask of its stream; each takes effect after the current callback returns. */
export interface StreamControl {
  /** proxy_continue_stream: resume what this filter stopped (one direction when `release` says which). */
  resume(release?: Release): void;
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
  /** The request headers as they went upstream / the response headers as sent downstream. */
  requestHeaders: HeaderList | undefined;
  responseHeaders: HeaderList | undefined;
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
