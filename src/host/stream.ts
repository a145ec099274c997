// One HTTP stream through the filter, with Envoy's order and visibility rules:
// - the in-VM context is created lazily (on the first callback, or at complete() for a stream
//   another filter answered locally);
// - a header map or body is the module's only during its callback, and stays so while the
//   callback's result holds the stream (stop); after Continue it is gone;
// - StopIteration on headers holds body and trailers until proxy_continue_stream;
// - body callbacks see the current chunk, or everything buffered so far after a
//   StopIterationAndBuffer;
// - send_local_response / continue_stream / close_stream act after the callback returns;
// - complete(): on_log (with the access-log maps) → on_done → on_delete.

import type { HeaderList } from './codec.js';
import { headerValue } from './codec.js';
import type { BodyResult, ContinueEvent, HostClock, LocalResponse, StreamInfo } from './types.js';
import type { BodyBuffer, Context, StreamState, Vm } from './vm.js';

const EMPTY = new Uint8Array(0);
const STOP_ALL = 4;

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** One direction's stop/buffer bookkeeping. */
class Direction {
  /** Headers callback returned a stop: body and trailers are held until continue. */
  headersStopped = false;
  /** The headers carried end of stream while stopped: continue releases just the end. */
  headersEnd = false;
  /** Last body callback returned StopIterationAndBuffer/Watermark: later chunks accumulate. */
  buffering = false;
  /** Bytes the filter saw and held with a body stop. */
  held: Uint8Array = EMPTY;
  /** The filter saw end of stream while holding the body. */
  heldEnd = false;
  /** Chunks that arrived while the headers were stopped; the filter has not seen them yet. */
  unseen: Uint8Array = EMPTY;
  unseenEnd = false;
  heldTrailers: HeaderList | undefined;
  /** The trailers callback returned a stop: heldTrailers (seen) wait for continue with the held body. */
  trailersStopped = false;
  seenHeaders = false;
  bytes = 0;
  /** The body the module sees during a body callback (one object per direction, reused). */
  readonly box: BodyBuffer = { data: EMPTY };
}

/**
 * A StreamInfo with every field present from the start: the host fills in the response code,
 * body byte counts and end time later, and an object that keeps its shape stays cheap to write.
 */
export function newStreamInfo(from: StreamInfo, clock: HostClock): StreamInfo {
  return {
    downstreamAddress: from.downstreamAddress,
    localAddress: from.localAddress,
    protocol: from.protocol,
    startTimeMs: from.startTimeMs ?? clock.nowMs(),
    upstreamAddress: from.upstreamAddress,
    clusterName: from.clusterName,
    routeName: from.routeName,
    responseCode: from.responseCode,
    responseCodeDetails: from.responseCodeDetails,
    connectionId: from.connectionId,
    requestBodyBytes: from.requestBodyBytes,
    responseBodyBytes: from.responseBodyBytes,
    endTimeMs: from.endTimeMs,
  };
}

export interface CompleteOptions {
  /** Maps the access-log phase sees when the filter did not see them itself (e.g. a local reply by another filter). */
  requestHeaders?: HeaderList;
  responseHeaders?: HeaderList;
  responseTrailers?: HeaderList;
}

export interface HttpStream {
  readonly contextId: number;
  readonly info: StreamInfo;
  onRequestHeaders(headers: HeaderList, endOfStream: boolean): number;
  onRequestBody(chunk: Uint8Array, endOfStream: boolean): BodyResult;
  onRequestTrailers(trailers: HeaderList): number;
  onResponseHeaders(headers: HeaderList, endOfStream: boolean): number;
  onResponseBody(chunk: Uint8Array, endOfStream: boolean): BodyResult;
  onResponseTrailers(trailers: HeaderList): number;
  /** End of stream (after the response, a reset, or a local reply): on_log → on_done → on_delete. */
  complete(opts?: CompleteOptions): void;
  readonly completed: boolean;
  /** A local response the module (or a fail-closed VM) sent, once it took effect. */
  readonly localResponse: LocalResponse | undefined;
  /** Set when the module called proxy_close_stream (the data plane resets the stream). */
  readonly closed: 'request' | 'response' | undefined;
  onLocalResponse?: (r: LocalResponse) => void;
  onContinue?: (e: ContinueEvent) => void;
  onClose?: (direction: 'request' | 'response') => void;
}

export class HttpStreamImpl implements HttpStream, StreamState {
  reqHeaders: HeaderList | null = null;
  reqTrailers: HeaderList | null = null;
  respHeaders: HeaderList | null = null;
  respTrailers: HeaderList | null = null;
  reqBody: BodyBuffer | null = null;
  respBody: BodyBuffer | null = null;
  logPhase = false;
  lastReqHeaders: HeaderList | null = null;
  lastRespHeaders: HeaderList | null = null;
  lastRespTrailers: HeaderList | null = null;
  isComplete = false;
  filterState: Map<string, Uint8Array> | null = null;
  localResponse: LocalResponse | undefined;
  closed: 'request' | 'response' | undefined;
  onLocalResponse?: (r: LocalResponse) => void;
  onContinue?: (e: ContinueEvent) => void;
  onClose?: (direction: 'request' | 'response') => void;

  private readonly req = new Direction();
  private readonly resp = new Direction();
  private failedStream = false;
  private completedFlag = false;

  constructor(private readonly vm: Vm, private readonly ctx: Context, readonly info: StreamInfo) {
    ctx.stream = this;
  }

  get contextId(): number { return this.ctx.id; }
  get completed(): boolean { return this.completedFlag; }

  // ---- deferred actions (called from host functions; applied after the callback) ----

  deferLocalResponse(r: LocalResponse): void {
    this.vm.defer(() => this.applyLocalResponse(r));
  }

  deferContinue(direction: 'request' | 'response'): void {
    this.vm.defer(() => this.applyContinue(direction));
  }

  deferClose(direction: 'request' | 'response'): void {
    if (this.info.responseCodeDetails === undefined) this.info.responseCodeDetails = 'wasm_close_stream';
    this.vm.defer(() => {
      if (this.closed) return;
      this.closed = direction;
      this.onClose?.(direction);
    });
  }

  private applyLocalResponse(r: LocalResponse): void {
    if (this.localResponse || this.completedFlag) return;
    this.localResponse = r;
    this.info.responseCode = r.status;
    this.info.responseCodeDetails = r.details;
    this.onLocalResponse?.(r);
  }

  private applyContinue(direction: 'request' | 'response'): void {
    if (this.completedFlag) return;
    const d = direction === 'request' ? this.req : this.resp;
    if (!d.headersStopped && !d.buffering && !d.trailersStopped) return;
    // Trailers held while the headers were stopped have not been through the filter yet;
    // trailers the filter itself stopped on have.
    const trailersUnseen = d.headersStopped;
    d.headersStopped = false;
    d.buffering = false;
    d.trailersStopped = false;
    let data = d.held;
    let end = d.heldEnd || d.headersEnd;
    d.held = EMPTY;
    d.heldEnd = false;
    d.headersEnd = false;
    this.dropBody(direction);
    const trailers = d.heldTrailers;
    d.heldTrailers = undefined;
    if (d.unseen.length > 0 || d.unseenEnd) {
      // Chunks that arrived while the headers were stopped now go through the body callback.
      const chunk = d.unseen;
      const chunkEnd = d.unseenEnd;
      d.unseen = EMPTY;
      d.unseenEnd = false;
      const r = this.body(direction, chunk, chunkEnd);
      if (r.status !== 0) {
        // The body callback holds (or dropped) the bytes. Envoy then decodes the held trailers:
        // if their callback continues, it releases any buffered body along with them.
        if (trailers) {
          if (this.trailers(direction, trailers) !== 0) {
            d.heldTrailers = trailers;
            d.trailersStopped = true;
          } else {
            data = concat(data, d.held);
            d.held = EMPTY;
            d.heldEnd = false;
            d.buffering = false;
            this.dropBody(direction);
            this.onContinue?.({ direction, data, endOfStream: false, trailers });
            return;
          }
        }
        if (data.length > 0) this.onContinue?.({ direction, data, endOfStream: false });
        return;
      }
      data = concat(data, r.data);
      end = chunkEnd;
    }
    const ev: ContinueEvent = { direction, data, endOfStream: end };
    if (trailers) {
      if (trailersUnseen) this.trailers(direction, trailers);
      ev.trailers = trailers;
      ev.endOfStream = false;
    }
    this.onContinue?.(ev);
  }

  private dropBody(direction: 'request' | 'response'): void {
    if (direction === 'request') this.reqBody = null;
    else this.respBody = null;
  }

  // ---- Envoy's CHECK_FAIL: a failed VM lets streams through or answers 503 wasm_fail_stream ----

  private failClosed(): boolean {
    if (this.vm.opts.failOpen) return false;
    if (!this.failedStream) {
      this.failedStream = true;
      this.applyLocalResponse({ status: 503, body: EMPTY, headers: [], details: 'wasm_fail_stream', grpcStatus: 14 });
    }
    return true;
  }

  /** The 503 wasm_fail_stream this stream already answered is encoded through the filter untouched. */
  private passLocalReply(isRequest: boolean): boolean {
    return !isRequest && this.failedStream;
  }

  private ensureCreated(): void {
    if (this.ctx.inVmCreated || this.vm.failed) return;
    this.ctx.inVmCreated = true;
    this.vm.call(this.ctx, 'proxy_on_context_create', this.ctx.root.id);
  }

  private headersStatus(r: number | undefined): number {
    if (this.vm.lastCallStopped) return STOP_ALL;
    const v = (r ?? 0) >>> 0;
    if (v > STOP_ALL) return STOP_ALL;
    // ABI 0.2.x: StopIteration on headers becomes StopAllIterationAndWatermark.
    if (v === 1) return STOP_ALL;
    return v;
  }

  // ---- request / response callbacks ----

  onRequestHeaders(headers: HeaderList, endOfStream: boolean): number {
    return this.headers('request', headers, endOfStream);
  }

  onResponseHeaders(headers: HeaderList, endOfStream: boolean): number {
    const status = Number(headerValue(headers, ':status'));
    if (Number.isInteger(status)) this.info.responseCode = status;
    return this.headers('response', headers, endOfStream);
  }

  private headers(direction: 'request' | 'response', headers: HeaderList, endOfStream: boolean): number {
    const isReq = direction === 'request';
    const d = isReq ? this.req : this.resp;
    if (isReq) this.lastReqHeaders = headers;
    else this.lastRespHeaders = headers;
    if (this.vm.failed) return this.passLocalReply(isReq) || !this.failClosed() ? 0 : STOP_ALL;
    if (!isReq && !this.req.seenHeaders) return 0;
    this.ensureCreated();
    d.seenHeaders = true;
    if (isReq) this.reqHeaders = headers;
    else this.respHeaders = headers;
    const r = this.vm.call(this.ctx, isReq ? 'proxy_on_request_headers' : 'proxy_on_response_headers', headers.length, endOfStream ? 1 : 0);
    if (r === undefined) {
      if (isReq) this.reqHeaders = null;
      else this.respHeaders = null;
      return this.failClosed() ? STOP_ALL : 0;
    }
    const status = this.headersStatus(r);
    if (status === 0 || status === 2) {
      if (isReq) this.reqHeaders = null;
      else this.respHeaders = null;
      return 0;
    }
    d.headersStopped = true;
    if (endOfStream) d.headersEnd = true;
    return status;
  }

  onRequestBody(chunk: Uint8Array, endOfStream: boolean): BodyResult {
    return this.incomingBody('request', chunk, endOfStream);
  }

  onResponseBody(chunk: Uint8Array, endOfStream: boolean): BodyResult {
    return this.incomingBody('response', chunk, endOfStream);
  }

  private incomingBody(direction: 'request' | 'response', chunk: Uint8Array, endOfStream: boolean): BodyResult {
    const isReq = direction === 'request';
    const d = isReq ? this.req : this.resp;
    d.bytes += chunk.length;
    if (isReq) this.info.requestBodyBytes = d.bytes;
    else this.info.responseBodyBytes = d.bytes;
    if (this.vm.failed) return this.passLocalReply(isReq) || !this.failClosed() ? { status: 0, data: chunk } : { status: 3, data: EMPTY };
    if (!d.seenHeaders) return { status: 0, data: chunk };
    if (d.headersStopped) {
      d.unseen = concat(d.unseen, chunk);
      if (endOfStream) d.unseenEnd = true;
      return { status: 1, data: EMPTY };
    }
    return this.body(direction, chunk, endOfStream);
  }

  /** Runs one body callback over the visible bytes (held + chunk when buffering). */
  private body(direction: 'request' | 'response', chunk: Uint8Array, endOfStream: boolean): BodyResult {
    const isReq = direction === 'request';
    const d = isReq ? this.req : this.resp;
    const visible = d.buffering ? concat(d.held, chunk) : chunk;
    const buf = d.box;
    buf.data = visible;
    if (isReq) this.reqBody = buf;
    else this.respBody = buf;
    const r = this.vm.call(this.ctx, isReq ? 'proxy_on_request_body' : 'proxy_on_response_body', visible.length, endOfStream ? 1 : 0);
    if (r === undefined) {
      if (isReq) this.reqBody = null;
      else this.respBody = null;
      d.buffering = false;
      d.held = EMPTY;
      return this.failClosed() ? { status: 3, data: EMPTY } : { status: 0, data: visible };
    }
    let status = (r >>> 0);
    if (this.vm.lastCallStopped || status > 3) status = 3;
    const data = buf.data;
    if (status === 0) {
      if (isReq) this.reqBody = null;
      else this.respBody = null;
      d.buffering = false;
      d.held = EMPTY;
      return { status, data };
    }
    if (status === 3) {
      // StopIterationNoBuffer: the filter keeps nothing and nothing is passed on.
      d.buffering = false;
      d.held = EMPTY;
      if (isReq) this.reqBody = null;
      else this.respBody = null;
      return { status, data: EMPTY };
    }
    d.buffering = true;
    d.held = data;
    if (endOfStream) d.heldEnd = true;
    return { status, data: EMPTY };
  }

  onRequestTrailers(trailers: HeaderList): number {
    return this.trailersIn('request', trailers);
  }

  onResponseTrailers(trailers: HeaderList): number {
    this.lastRespTrailers = trailers;
    return this.trailersIn('response', trailers);
  }

  private trailersIn(direction: 'request' | 'response', trailers: HeaderList): number {
    const d = direction === 'request' ? this.req : this.resp;
    if (this.vm.failed) return this.passLocalReply(direction === 'request') || !this.failClosed() ? 0 : 1;
    if (!d.seenHeaders) return 0;
    if (d.headersStopped) {
      d.heldTrailers = trailers;
      return 1;
    }
    const status = this.trailers(direction, trailers);
    if (status !== 0) {
      // The filter holds the stream on its trailers: continue_stream releases them, with any body it buffered.
      d.heldTrailers = trailers;
      d.trailersStopped = true;
      return status;
    }
    if (d.buffering) {
      // Trailers that continue also release the body the filter was buffering (Envoy resumes
      // the stream): it is handed over first, the trailers follow as this call's result.
      const data = d.held;
      d.held = EMPTY;
      d.buffering = false;
      d.heldEnd = false;
      if (direction === 'request') this.reqBody = null;
      else this.respBody = null;
      this.onContinue?.({ direction, data, endOfStream: false });
    }
    return status;
  }

  private trailers(direction: 'request' | 'response', trailers: HeaderList): number {
    const isReq = direction === 'request';
    if (isReq) this.reqTrailers = trailers;
    else this.respTrailers = trailers;
    const r = this.vm.call(this.ctx, isReq ? 'proxy_on_request_trailers' : 'proxy_on_response_trailers', trailers.length);
    if (r === undefined) {
      if (isReq) this.reqTrailers = null;
      else this.respTrailers = null;
      return this.failClosed() ? 1 : 0;
    }
    const status = this.vm.lastCallStopped || r !== 0 ? 1 : 0;
    if (status === 0) {
      if (isReq) this.reqTrailers = null;
      else this.respTrailers = null;
    }
    return status;
  }

  complete(opts?: CompleteOptions): void {
    if (this.completedFlag) return;
    this.completedFlag = true;
    this.isComplete = true;
    this.info.endTimeMs = this.vm.opts.env.clock.nowMs();
    if (opts) {
      if (opts.requestHeaders && !this.lastReqHeaders) this.lastReqHeaders = opts.requestHeaders;
      if (opts.responseHeaders && !this.lastRespHeaders) this.lastRespHeaders = opts.responseHeaders;
      if (opts.responseTrailers && !this.lastRespTrailers) this.lastRespTrailers = opts.responseTrailers;
    }
    const vm = this.vm;
    if (!vm.failed && !vm.closed) {
      this.ensureCreated();
      this.reqHeaders = this.respHeaders = this.reqTrailers = this.respTrailers = null;
      this.reqBody = this.respBody = null;
      this.logPhase = true;
      vm.call(this.ctx, 'proxy_on_log');
      this.logPhase = false;
      vm.call(this.ctx, 'proxy_on_done');
      vm.call(this.ctx, 'proxy_on_delete');
    }
    this.ctx.stream = null;
    vm.contexts.delete(this.ctx.id);
  }

  /** Alias of complete(): Envoy runs the same log/done/delete sequence for a reset stream. */
  destroy(): void {
    this.complete();
  }
}

