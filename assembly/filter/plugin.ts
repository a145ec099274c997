// The shadowmesh filter: a root context holding the configuration, the reporter
// and the pending shadow calls, and a pooled stream context per HTTP stream.
// Every callback returns Continue: production traffic is never held, and the only
// change made to it is the correlation header.
import { ByteBuf, bytesEqual, lowerInPlace, startsWith } from "../abi/bytes";
import { PairTable } from "../abi/pairs";
import { ACTION_CONTINUE, RootContext, StreamContext } from "../abi/context";
import {
  BUFFER_HTTP_CALL_RESPONSE_BODY, BUFFER_PLUGIN_CONFIGURATION, BUFFER_REQUEST_BODY, BUFFER_RESPONSE_BODY,
  LOG_ERROR, MAP_HTTP_CALL_RESPONSE_HEADERS, MAP_REQUEST_HEADERS, MAP_RESPONSE_HEADERS, RESULT_OK,
  getProperty, getStatus, httpCall, lastToken, log, monoNanos, nowNanos, randomBytes, readBuffer, readHeaderMap,
  refreshLogLevel, replaceHeader, setTickPeriod,
} from "../abi/host";
import { Config, MAX_ROUTE_NAME_CHARS, ROLE_AUTO, ROLE_PRODUCTION, ROLE_SHADOW, parseConfig } from "./config";
import { hexId, isValidId } from "./ids";
import { writeJsonString } from "./json";
import {
  bump, defineMetrics, pushMetrics, M_BODY_OVER_BUDGET, M_BODY_TOO_LARGE, M_SAMPLED_OUT,
} from "./metrics";
import { buildMirrorHeaders, inList } from "./mirror";
import { addHeader, beginHeaders, endHeaders, writePrefix, writeRecord, writeSource, ROLE_FIELD_PRODUCTION, ROLE_FIELD_SHADOW } from "./record";
import { COPY_BASELINE, COPY_SHADOW, baselineTarget, configureCopies, copyTarget, sendCopy, shadowTarget } from "./copies";
import { COLLECTOR_TIMEOUT_MS, Reporter } from "./reporter";
import { PendingCall, dropCalls, recycleCall, takeCall } from "./calls";
import { Drain } from "./drain";
import { ROUTE_ALL, ROUTE_NONE, isShadowAuthority, matchRoute, parseStatus, pathWithoutQuery } from "./route";
import { isSampled } from "./sampling";
import { resetControl, sampleThreshold } from "./control";
import { bodyRoom, giveBody, setBodyBudget, takeBody } from "./budget";

const H_PATH = String.UTF8.encode(":path");
const H_METHOD = String.UTF8.encode(":method");
const H_AUTHORITY = String.UTF8.encode(":authority");
const H_STATUS = String.UTF8.encode(":status");
const H_REQUEST_ID = String.UTF8.encode("x-request-id");
const H_UPGRADE = String.UTF8.encode("upgrade");
const V_CONNECT = String.UTF8.encode("CONNECT");
const P_RESPONSE_CODE = String.UTF8.encode("response\0code");
// Envoy 1.33 serves the node only as xds.node; older versions as node.
const P_XDS_NODE_ID = String.UTF8.encode("xds\0node\0id");
const P_NODE_ID = String.UTF8.encode("node\0id");
const E_RESET = String.UTF8.encode("reset");
const E_TIMEOUT = String.UTF8.encode("timeout");
const ENVOY_TIMEOUT_BODY = String.UTF8.encode("upstream request timeout");
// Envoy's async client answers a call it could not connect with a local reply,
// not a reset: these bodies mean the shadow never answered.
const ENVOY_CONNECT_FAILURE_BODY = String.UTF8.encode("upstream connect error");
const ENVOY_NO_UPSTREAM_BODY = String.UTF8.encode("no healthy upstream");

// Scratch space shared by every context: a VM runs one callback at a time.
const inPairs = new PairTable();
const outPairs = new PairTable();
const pairsBytes = new ByteBuf();
const record = new ByteBuf();
const routeJson = new ByteBuf();
const authScratch = new ByteBuf();
const headersJson = new ByteBuf();
const bodyScratch = new ByteBuf();
const message = new ByteBuf();
const RANDOM = memory.data(16);

/** Per-stream buffers above this size are given back when the stream ends (pooled streams hold at most 6 × this). */
const KEEP_BYTES: i32 = 4096;
const POOL_MAX: i32 = 256;

function isKey(i: i32, key: ArrayBuffer): bool {
  return bytesEqual(inPairs.keyPtr(i), inPairs.keyLen(i), changetype<usize>(key), key.byteLength);
}


export class ShadowRoot extends RootContext {
  cfg: Config | null = null;
  reporter: Reporter = new Reporter();
  /** `,"source":"<node id>"` for every record, read once at configure time (empty when the host has no node id). */
  source: ByteBuf = new ByteBuf();
  freeStreams: ShadowStream[] = [];
  ticks: u32 = 0;
  /** Set once Envoy removes this root (proxy_on_done answered false). */
  drain: Drain = new Drain();

  onConfigure(configSize: u32): bool {
    refreshLogLevel();
    const raw = bodyScratch;
    raw.clear();
    if (configSize > 0) readBuffer(BUFFER_PLUGIN_CONFIGURATION, 0, <i32>configSize, raw);
    const res = parseConfig(raw.ptr, raw.len);
    raw.reset(KEEP_BYTES);
    const cfg = res.config;
    if (cfg === null) {
      log(LOG_ERROR, "shadowmesh: " + res.error);
      return false;
    }
    if (this.cfg !== null) this.reporter.flush();
    this.cfg = cfg;
    defineMetrics();
    message.clear();
    if (getProperty(P_XDS_NODE_ID, message) != RESULT_OK || message.len == 0) {
      message.clear();
      if (getProperty(P_NODE_ID, message) != RESULT_OK) message.clear();
    }
    writeSource(this.source, message.ptr, message.len);
    this.reporter.rootId = this.id;
    this.reporter.configure(cfg, outPairs);
    configureCopies(cfg);
    resetControl(cfg);
    setBodyBudget(cfg.bodyBudgetBytes);
    setTickPeriod(cfg.flushIntervalMs);
    return true;
  }

  onTick(): void {
    this.reporter.flush();
    // A root being removed only finishes its work; it has no control to hear.
    if (!this.drain.active) this.reporter.poll();
    pushMetrics();
    if (this.drain.active) this.drain.step(this.idle());
    // The log level may change at run time; asking every 16 ticks is often enough.
    if ((++this.ticks & 15) == 0) refreshLogLevel();
  }

  /** Nothing queued, no batch or copy waiting for an answer. */
  idle(): bool {
    return this.reporter.count == 0 && this.reporter.inflight == 0 &&
      copyTarget(COPY_SHADOW).inFlight == 0 && copyTarget(COPY_BASELINE).inFlight == 0;
  }

  /** Removed by the host: done at once only if nothing would be lost (see drain.ts). */
  onDone(): bool {
    this.reporter.flush();
    pushMetrics();
    const cfg = this.cfg;
    if (cfg === null || this.idle()) return true;
    this.drain.start(cfg.shadowTimeoutMs, COLLECTOR_TIMEOUT_MS);
    // Ticks check the deadline and flush what late streams record: keep them frequent.
    if (cfg.flushIntervalMs > 1000) setTickPeriod(1000);
    return false;
  }

  onDelete(): void {
    dropCalls(this.id);
  }

  newStream(id: u32): StreamContext {
    const free = this.freeStreams;
    if (free.length > 0) {
      const s = unchecked(free[free.length - 1]);
      free.length = free.length - 1;
      s.id = id;
      return s;
    }
    return new ShadowStream(id, this);
  }

  releaseStream(stream: StreamContext): void {
    const s = changetype<ShadowStream>(stream);
    s.reset();
    // The collector frees the object, not the raw-heap bytes its buffers hold.
    if (this.freeStreams.length < POOL_MAX) this.freeStreams.push(s);
    else s.releaseBuffers();
  }

  onHttpCallResponse(token: u32, headers: u32, bodySize: u32, trailers: u32): void {
    const call = takeCall(token);
    if (call === null) return;
    if (call.records >= 0) {
      this.reporter.onResponse(call, headers, inPairs, pairsBytes, bodySize);
    } else {
      copyTarget(call.target).inFlight--;
      this.copyAnswered(call, headers, bodySize, trailers);
    }
    recycleCall(call);
    if (this.drain.active) {
      // While removed, send the copy's record now rather than at the next tick.
      this.reporter.flush();
      pushMetrics();
      this.drain.step(this.idle());
    }
  }

  /** The answer to a shadow or baseline copy becomes that side's record. */
  private copyAnswered(p: PendingCall, headers: u32, bodySize: u32, trailers: u32): void {
    const cfg = this.cfg;
    if (cfg === null) return;
    const now = monoNanos();
    const latency = now > p.startNs ? now - p.startNs : 0;
    let status = 0;
    let error: ArrayBuffer | null = null;
    let truncated = false;
    headersJson.clear();
    bodyScratch.clear();
    if (headers == 0 && bodySize == 0 && trailers == 0) {
      // Envoy's failure signal: (0, 0, 0), and proxy_get_status gives (11, "reset") or similar.
      message.clear();
      getStatus(message);
      error = E_RESET;
      if (message.len > 0 && message.len <= 32 && bytesEqual(message.ptr, message.len, changetype<usize>(E_TIMEOUT), E_TIMEOUT.byteLength)) error = E_TIMEOUT;
    } else {
      readHeaderMap(MAP_HTTP_CALL_RESPONSE_HEADERS, inPairs, pairsBytes);
      beginHeaders(headersJson);
      for (let i = 0; i < inPairs.count; i++) {
        if (isKey(i, H_STATUS)) { status = parseStatus(inPairs.valPtr(i), inPairs.valLen(i)); continue; }
        const kp = inPairs.keyPtr(i), kn = inPairs.keyLen(i);
        lowerInPlace(kp, kn);
        addHeader(headersJson, kp, kn, inPairs.valPtr(i), inPairs.valLen(i), inList(cfg.redactHeaders, kp, kn));
      }
      endHeaders(headersJson);
      const max = cfg.maxBodyBytes;
      const want = <i32>bodySize > max ? max : <i32>bodySize;
      truncated = <i32>bodySize > max;
      readBuffer(BUFFER_HTTP_CALL_RESPONSE_BODY, 0, want, bodyScratch);
      if (status < 0) { status = 0; error = E_RESET; }
      // A call that ran out of time may come back as Envoy's own 504.
      if (status == 504 && (bodyScratch.equalsBuf(ENVOY_TIMEOUT_BODY) ||
          (cfg.shadowTimeoutMs > 0 && latency >= <u64>cfg.shadowTimeoutMs * 1000000))) {
        status = 0;
        error = E_TIMEOUT;
      } else if (status == 503 && (startsWith(bodyScratch.ptr, bodyScratch.len, ENVOY_CONNECT_FAILURE_BODY) ||
          bodyScratch.equalsBuf(ENVOY_NO_UPSTREAM_BODY))) {
        status = 0;
        error = E_RESET;
      }
      if (status == 0) {
        headersJson.clear();
        bodyScratch.clear();
        truncated = false;
      }
    }
    const target = copyTarget(p.target);
    target.outcome(status, now);
    record.clear();
    writeRecord(record, p.prefix, target.roleField, status, error, latency, null, headersJson, bodyScratch, truncated, this.source);
    this.reporter.add(record);
    bodyScratch.reset(KEEP_BYTES);
  }
}

export class ShadowStream extends StreamContext {
  /** The request matched a route and is recorded (sampled, or seen by a shadow). */
  recording: bool = false;
  /** The request matched a route and carries a correlation id (sampled or not). */
  tagged: bool = false;
  /** A filter-driven copy (shadow, baseline or both) is to be sent at the end of the request. */
  mirroring: bool = false;
  copyShadow: bool = false;
  copyBaseline: bool = false;
  mirrorDone: bool = false;
  requestTooLarge: bool = false;
  role: i32 = ROLE_PRODUCTION;
  startNs: u64 = 0;
  status: i32 = -1;
  truncated: bool = false;
  corrId: ByteBuf = new ByteBuf();
  prefix: ByteBuf = new ByteBuf();
  requestBody: ByteBuf = new ByteBuf();
  mirrorHeaders: ByteBuf = new ByteBuf();
  baselineHeaders: ByteBuf = new ByteBuf();
  responseHeaders: ByteBuf = new ByteBuf();
  responseBody: ByteBuf = new ByteBuf();

  reset(): void {
    giveBody(this.requestBody.len + this.responseBody.len);
    this.recording = false;
    this.tagged = false;
    this.mirroring = false;
    this.copyShadow = false;
    this.copyBaseline = false;
    this.mirrorDone = false;
    this.requestTooLarge = false;
    this.status = -1;
    this.truncated = false;
    this.corrId.reset(KEEP_BYTES);
    this.prefix.reset(KEEP_BYTES);
    this.requestBody.reset(KEEP_BYTES);
    this.mirrorHeaders.reset(KEEP_BYTES);
    this.baselineHeaders.reset(KEEP_BYTES);
    this.responseHeaders.reset(KEEP_BYTES);
    this.responseBody.reset(KEEP_BYTES);
  }

  /** Gives every raw buffer back; the object is about to be dropped, not pooled. */
  releaseBuffers(): void {
    this.corrId.release();
    this.prefix.release();
    this.requestBody.release();
    this.mirrorHeaders.release();
    this.baselineHeaders.release();
    this.responseHeaders.release();
    this.responseBody.release();
  }

  onRequestHeaders(headers: u32, endOfStream: bool): i32 {
    const root = changetype<ShadowRoot>(this.root);
    const cfg = root.cfg;
    if (cfg === null) return ACTION_CONTINUE;
    const n = readHeaderMap(MAP_REQUEST_HEADERS, inPairs, pairsBytes);
    let path = -1, method = -1, authority = -1, corr = -1, requestId = -1, marker = -1, upgrade = -1, meshMirror = -1;
    const meshHeader = cfg.meshMirrorHeader;
    for (let i = 0; i < n; i++) {
      const kn = inPairs.keyLen(i);
      if (kn > 0 && load<u8>(inPairs.keyPtr(i)) == 58) {
        if (path < 0 && isKey(i, H_PATH)) path = i;
        else if (method < 0 && isKey(i, H_METHOD)) method = i;
        else if (authority < 0 && isKey(i, H_AUTHORITY)) authority = i;
      } else if (corr < 0 && isKey(i, cfg.correlationHeader)) corr = i;
      else if (requestId < 0 && isKey(i, H_REQUEST_ID)) requestId = i;
      else if (marker < 0 && isKey(i, cfg.markerHeader)) marker = i;
      else if (upgrade < 0 && isKey(i, H_UPGRADE)) upgrade = i;
      else if (meshHeader !== null && meshMirror < 0 && isKey(i, meshHeader)) meshMirror = i;
    }
    // Mesh-mirror mode: Envoy mirrors to whatever cluster this header names, so only the
    // filter may set it. An empty value is "no mirror" to Envoy's router.
    if (meshMirror >= 0 && cfg.role != ROLE_SHADOW) replaceHeader(MAP_REQUEST_HEADERS, meshHeader!, changetype<usize>(meshHeader!), 0);
    if (path < 0 || method < 0) return ACTION_CONTINUE;
    const pathPtr = inPairs.valPtr(path), pathLen = inPairs.valLen(path);
    const methodPtr = inPairs.valPtr(method), methodLen = inPairs.valLen(method);
    const route = matchRoute(cfg, pathPtr, pathLen, methodPtr, methodLen);
    if (route == ROUTE_NONE) return ACTION_CONTINUE;

    let role = cfg.role;
    if (role == ROLE_AUTO) {
      const shadow = marker >= 0 || (authority >= 0 && isShadowAuthority(inPairs.valPtr(authority), inPairs.valLen(authority)));
      role = shadow ? ROLE_SHADOW : ROLE_PRODUCTION;
    }
    this.role = role;

    // The correlation id: keep a valid one, else reuse x-request-id, else a new random id.
    const id = this.corrId;
    id.clear();
    if (corr >= 0 && isValidId(inPairs.valPtr(corr), inPairs.valLen(corr))) {
      id.bytes(inPairs.valPtr(corr), inPairs.valLen(corr));
    } else {
      if (requestId >= 0 && isValidId(inPairs.valPtr(requestId), inPairs.valLen(requestId))) {
        id.bytes(inPairs.valPtr(requestId), inPairs.valLen(requestId));
      } else {
        if (!randomBytes(RANDOM, 16)) {
          // No randomness: fall back on the clock, still 32 hex digits.
          store<u64>(RANDOM, nowNanos());
          store<u64>(RANDOM + 8, <u64>this.corrId.ptr ^ 0x9e3779b97f4a7c15);
        }
        id.reserve(32);
        hexId(RANDOM, id.ptr);
        id.len = 32;
      }
      replaceHeader(MAP_REQUEST_HEADERS, cfg.correlationHeader, id.ptr, id.len);
    }
    this.tagged = true;

    // Like Envoy's own mirroring, leave tunnels alone: an upgrade or CONNECT is tagged only.
    if (upgrade >= 0 || bytesEqual(methodPtr, methodLen, changetype<usize>(V_CONNECT), V_CONNECT.byteLength)) {
      return ACTION_CONTINUE;
    }

    if (role == ROLE_PRODUCTION) {
      if (!isSampled(id.ptr, id.len, sampleThreshold(cfg, route))) {
        bump(M_SAMPLED_OUT);
        return ACTION_CONTINUE;
      }
    }

    // Durations from the monotonic clock; ts_ms is wall time.
    this.startNs = monoNanos();
    const wallNs = nowNanos();
    let copyShadow = false, copyBaseline = false;
    if (role == ROLE_PRODUCTION) {
      // An open breaker skips the whole request: no copy and no production record, so the
      // collector sees fewer pairs, not sides that can never pair.
      if (shadowTarget.enabled && !shadowTarget.admit(this.startNs)) return ACTION_CONTINUE;
      copyShadow = shadowTarget.enabled;
      copyBaseline = baselineTarget.enabled && baselineTarget.admit(this.startNs);
    }
    this.recording = true;
    if (meshHeader !== null && role == ROLE_PRODUCTION) {
      // Envoy's mirror policy reads the cluster from this header: exactly the sampled requests are mirrored.
      const cluster = cfg.meshMirrorCluster!;
      replaceHeader(MAP_REQUEST_HEADERS, meshHeader, changetype<usize>(cluster), cluster.byteLength);
    }
    routeJson.clear();
    // Without routes the path names the route: cut to the collector's bound (bytes ≤ characters), so a long path keeps its record.
    if (route == ROUTE_ALL) writeJsonString(routeJson, pathPtr, min(pathWithoutQuery(pathPtr, pathLen), MAX_ROUTE_NAME_CHARS));
    else routeJson.buf(unchecked(cfg.routes[route]).nameJson);
    this.prefix.clear();
    writePrefix(this.prefix, id.ptr, id.len, routeJson, methodPtr, methodLen, pathPtr, pathLen, (wallNs + 500) / 1000000);

    if (copyShadow || copyBaseline) {
      this.mirroring = true;
      this.copyShadow = copyShadow;
      this.copyBaseline = copyBaseline;
      const authPtr = authority >= 0 ? inPairs.valPtr(authority) : 0;
      const authLen = authority >= 0 ? inPairs.valLen(authority) : 0;
      if (copyShadow) buildMirrorHeaders(cfg, inPairs, outPairs, id.ptr, id.len, authPtr, authLen, authScratch, this.mirrorHeaders);
      if (copyBaseline) buildMirrorHeaders(cfg, inPairs, outPairs, id.ptr, id.len, authPtr, authLen, authScratch, this.baselineHeaders, true);
      if (endOfStream) this.endOfRequest(true);
    }
    return ACTION_CONTINUE;
  }

  onRequestBody(size: u32, endOfStream: bool): i32 {
    if (!this.recording) return ACTION_CONTINUE;
    const max = changetype<ShadowRoot>(this.root).cfg!.maxBodyBytes;
    if (!this.requestTooLarge) {
      const have = this.requestBody.len;
      const tooLarge = <i64>have + <i64>size > <i64>max;
      const want = tooLarge ? max - have : <i32>size;
      const room = bodyRoom(want);
      takeBody(readBuffer(BUFFER_REQUEST_BODY, 0, room, this.requestBody));
      if (tooLarge || room < want) {
        // Keep what fits for the record; the copy is not sent.
        this.requestTooLarge = true;
        if (room < want) bump(M_BODY_OVER_BUDGET);
        else if (this.mirroring) bump(M_BODY_TOO_LARGE);
      }
    }
    if (endOfStream) this.endOfRequest(false);
    return ACTION_CONTINUE;
  }

  onRequestTrailers(trailers: u32): i32 {
    if (this.recording) this.endOfRequest(false);
    return ACTION_CONTINUE;
  }

  /** Sends the filter-driven copy, once, when the whole request has passed. */
  private endOfRequest(atHeaders: bool): void {
    if (!this.mirroring || this.mirrorDone) return;
    this.mirrorDone = true;
    if (this.requestTooLarge) return;
    const root = changetype<ShadowRoot>(this.root);
    const cfg = root.cfg!;
    const now = atHeaders ? this.startNs : monoNanos();
    if (this.copyShadow) {
      sendCopy(COPY_SHADOW, cfg, this.mirrorHeaders, this.requestBody, this.prefix, now, now, record, root.source, root.reporter);
    }
    if (this.copyBaseline) {
      sendCopy(COPY_BASELINE, cfg, this.baselineHeaders, this.requestBody, this.prefix, now, now, record, root.source, root.reporter);
    }
  }

  onResponseHeaders(headers: u32, endOfStream: bool): i32 {
    if (!this.tagged) return ACTION_CONTINUE;
    const cfg = changetype<ShadowRoot>(this.root).cfg!;
    // Opt-in (debug_response_header): hand the id to the caller so one request can be looked up.
    const debug = cfg.debugResponseHeader;
    if (debug !== null) replaceHeader(MAP_RESPONSE_HEADERS, debug, this.corrId.ptr, this.corrId.len);
    if (!this.recording) return ACTION_CONTINUE;
    const n = readHeaderMap(MAP_RESPONSE_HEADERS, inPairs, pairsBytes);
    const out = this.responseHeaders;
    beginHeaders(out);
    for (let i = 0; i < n; i++) {
      if (isKey(i, H_STATUS)) { this.status = parseStatus(inPairs.valPtr(i), inPairs.valLen(i)); continue; }
      const kp = inPairs.keyPtr(i), kn = inPairs.keyLen(i);
      lowerInPlace(kp, kn); // records carry lower-case names (Envoy's already are)
      addHeader(out, kp, kn, inPairs.valPtr(i), inPairs.valLen(i), inList(cfg.redactHeaders, kp, kn));
    }
    endHeaders(out);
    return ACTION_CONTINUE;
  }

  onResponseBody(size: u32, endOfStream: bool): i32 {
    if (!this.recording || size == 0 || this.truncated) return ACTION_CONTINUE;
    const max = changetype<ShadowRoot>(this.root).cfg!.maxBodyBytes;
    const left = max - this.responseBody.len;
    const want = <i64>size > <i64>left ? left : <i32>size;
    const room = bodyRoom(want);
    if (<i64>size > <i64>room) this.truncated = true;
    if (room < want) bump(M_BODY_OVER_BUDGET);
    takeBody(readBuffer(BUFFER_RESPONSE_BODY, 0, room, this.responseBody));
    return ACTION_CONTINUE;
  }

  onLog(): void {
    if (!this.recording) return;
    this.recording = false;
    const root = changetype<ShadowRoot>(this.root);
    const now = monoNanos();
    const latency = now > this.startNs ? now - this.startNs : 0;
    let status = this.status;
    let error: ArrayBuffer | null = null;
    if (status < 0) {
      // No response headers passed this filter (reset, or answered elsewhere): ask the host.
      message.clear();
      if (getProperty(P_RESPONSE_CODE, message) == RESULT_OK && message.len == 8) {
        status = <i32>load<u64>(message.ptr);
      }
      if (status <= 0 || status > 999) { status = 0; error = E_RESET; }
    }
    record.clear();
    writeRecord(record, this.prefix, this.role == ROLE_SHADOW ? ROLE_FIELD_SHADOW : ROLE_FIELD_PRODUCTION,
      status, error, latency, this.requestBody, this.responseHeaders, this.responseBody, this.truncated, root.source);
    root.reporter.add(record);
  }
}

export function createShadowRoot(id: u32): RootContext {
  return new ShadowRoot(id);
}
