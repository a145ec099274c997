// The shadowmesh filter's per-request work, written on the published AssemblyScript
// SDK (@solo-io/proxy-runtime 0.1.8, AssemblyScript 0.17, ABI 0.2.0), used unmodified.
// It exists to measure what our own ABI layer saves, and to give the host's
// conformance test a real ABI 0.2.0 SDK module. Settings are fixed (the SDK's
// onConfigure writes the configuration size through a pointer, so we skip it):
// shadow cluster "shadow", collector "collector", 100% sampling, batches of 64
// records or a 1 s tick, bodies up to 64 KiB.
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, FilterDataStatusValues,
  stream_context, HeaderPair, Headers, Counter, log, LogLevelValues, BaseContext,
} from "@solo-io/proxy-runtime";
import { get_current_time_nanoseconds, get_buffer_bytes, set_tick_period_milliseconds } from "@solo-io/proxy-runtime/runtime";
import { random_get } from "bindings/wasi_snapshot_preview1";

const MAX_BODY: i32 = 65536;
const BATCH: i32 = 64;

function hex(bytes: Uint8Array): string {
  let s = "";
  const digits = "0123456789abcdef";
  for (let i = 0; i < bytes.length; i++) {
    s += digits.charAt(bytes[i] >> 4) + digits.charAt(bytes[i] & 15);
  }
  return s;
}

function validId(id: string): bool {
  if (id.length == 0 || id.length > 128) return false;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 46 || c == 95 || c == 58 || c == 45;
    if (!ok) return false;
  }
  return true;
}

function fnv(id: string): u32 {
  const b = Uint8Array.wrap(String.UTF8.encode(id));
  let h: u32 = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) { h ^= b[i]; h *= 16777619; }
  return h;
}

function esc(s: string): string {
  let out = "\"";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 34) out += "\\\"";
    else if (c == 92) out += "\\\\";
    else if (c < 32) out += "\\u00" + (c < 16 ? "0" : "") + c.toString(16);
    else out += String.fromCharCode(c);
  }
  return out + "\"";
}

function nowNs(): u64 { return get_current_time_nanoseconds(); }

function pair(k: string, v: string): HeaderPair {
  return new HeaderPair(String.UTF8.encode(k), String.UTF8.encode(v));
}

class ShadowRoot extends RootContext {
  queue: Array<string> = new Array<string>();
  mirrored: Counter | null = null;
  sent: Counter | null = null;

  onConfigure(configuration_size: u32): bool {
    set_tick_period_milliseconds(1000);
    this.mirrored = new Counter("sdk_mirrored_total");
    this.sent = new Counter("sdk_records_sent_total");
    return true;
  }
  createContext(context_id: u32): Context {
    return new ShadowStream(context_id, this);
  }
  onTick(): void { this.flush(); }

  enqueue(rec: string): void {
    this.queue.push(rec);
    if (this.queue.length >= BATCH) this.flush();
  }
  flush(): void {
    if (this.queue.length == 0) return;
    const body = "[" + this.queue.join(",") + "]";
    const headers: Headers = [];
    headers.push(pair(":method", "POST"));
    headers.push(pair(":path", "/v1/records"));
    headers.push(pair(":authority", "collector"));
    headers.push(pair("content-type", "application/json"));
    (this.sent as Counter).increment(this.queue.length);
    this.queue = new Array<string>();
    this.httpCall("collector", headers, String.UTF8.encode(body), [], 5000, this, onCollectorResponse);
  }
}

function onCollectorResponse(origin: Context, headers: u32, body_size: usize, trailers: u32): void {
  if (headers == 0) log(LogLevelValues.warn, "collector call failed");
}

class ShadowStream extends Context {
  id: string = "";
  method: string = "";
  path: string = "";
  authority: string = "";
  startNs: u64 = 0;
  status: string = "";
  reqBody: Array<u8> = new Array<u8>();
  respBody: Array<u8> = new Array<u8>();
  mirrorHeaders: Headers = [];
  respHeaders: Headers = [];

  onRequestHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    this.startNs = nowNs();
    let id = stream_context.headers.request.get("x-shadow-correlation-id");
    if (!validId(id)) {
      id = stream_context.headers.request.get("x-request-id");
      if (!validId(id)) {
        const raw = new Uint8Array(16);
        random_get(raw.dataStart, 16);
        id = hex(raw);
      }
      stream_context.headers.request.replace("x-shadow-correlation-id", id);
    }
    this.id = id;
    if (fnv(id) % 10000 >= 10000) return FilterHeadersStatusValues.Continue;
    const all = stream_context.headers.request.get_headers();
    for (let i = 0; i < all.length; i++) {
      const k = String.UTF8.decode(all[i].key);
      const v = String.UTF8.decode(all[i].value);
      if (k == ":method") this.method = v;
      else if (k == ":path") this.path = v;
      if (k == ":authority") { this.authority = v; this.mirrorHeaders.push(pair(k, v + "-shadow")); continue; }
      if (k == "connection" || k == "transfer-encoding" || k == "content-length" || k == "te" || k == "upgrade" || k == "keep-alive") continue;
      this.mirrorHeaders.push(all[i]);
    }
    this.mirrorHeaders.push(pair("x-shadow-request", "1"));
    if (end_of_stream) this.mirror();
    return FilterHeadersStatusValues.Continue;
  }

  onRequestBody(len: usize, end_of_stream: bool): FilterDataStatusValues {
    const chunk = Uint8Array.wrap(get_buffer_bytes(0, 0, len as u32));
    for (let i = 0; i < chunk.length && this.reqBody.length < MAX_BODY; i++) this.reqBody.push(chunk[i]);
    if (end_of_stream) this.mirror();
    return FilterDataStatusValues.Continue;
  }

  mirror(): void {
    const body = new Uint8Array(this.reqBody.length);
    for (let i = 0; i < this.reqBody.length; i++) body[i] = this.reqBody[i];
    const root = this.root_context as ShadowRoot;
    (root.mirrored as Counter).increment(1);
    shadowStarts.set(this.id, nowNs());
    shadowIds.push(this.id);
    root.httpCall("shadow", this.mirrorHeaders, body.buffer, [], 5000, this, onShadowResponse);
  }

  onResponseHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    this.respHeaders = stream_context.headers.response.get_headers();
    this.status = stream_context.headers.response.get(":status");
    return FilterHeadersStatusValues.Continue;
  }

  onResponseBody(len: usize, end_of_stream: bool): FilterDataStatusValues {
    const chunk = Uint8Array.wrap(get_buffer_bytes(1, 0, len as u32));
    for (let i = 0; i < chunk.length && this.respBody.length < MAX_BODY; i++) this.respBody.push(chunk[i]);
    return FilterDataStatusValues.Continue;
  }

  onLog(): void {
    super.onLog();
    const latency = (nowNs() - this.startNs) / 1000000;
    let hdrs = "{";
    for (let i = 0; i < this.respHeaders.length; i++) {
      const k = String.UTF8.decode(this.respHeaders[i].key);
      if (k.charAt(0) == ":") continue;
      let v = String.UTF8.decode(this.respHeaders[i].value);
      if (k == "set-cookie" || k == "authorization" || k == "cookie") v = "[redacted]";
      if (hdrs.length > 1) hdrs += ",";
      hdrs += esc(k) + ":" + esc(v);
    }
    hdrs += "}";
    const rb = new Uint8Array(this.respBody.length);
    for (let i = 0; i < this.respBody.length; i++) rb[i] = this.respBody[i];
    const qb = new Uint8Array(this.reqBody.length);
    for (let i = 0; i < this.reqBody.length; i++) qb[i] = this.reqBody[i];
    const rec = "{\"v\":1,\"id\":" + esc(this.id) + ",\"role\":\"production\",\"route\":" + esc(this.path) +
      ",\"method\":" + esc(this.method) + ",\"path\":" + esc(this.path) + ",\"status\":" + this.status +
      ",\"latency_ms\":" + latency.toString() + ",\"ts_ms\":" + (this.startNs / 1000000).toString() +
      ",\"request_body\":" + esc(String.UTF8.decode(qb.buffer)) + ",\"response_headers\":" + hdrs +
      ",\"response_body\":" + esc(String.UTF8.decode(rb.buffer)) + "}";
    (this.root_context as ShadowRoot).enqueue(rec);
  }
}

const shadowStarts = new Map<string, u64>();
const shadowIds = new Array<string>();

function onShadowResponse(origin: Context, headers: u32, body_size: usize, trailers: u32): void {
  const stream = origin as ShadowStream;
  const root = stream.root_context as ShadowRoot;
  let status = "0";
  let body = "";
  if (headers != 0) {
    status = stream_context.headers.http_callback.get(":status");
    body = String.UTF8.decode(get_buffer_bytes(4, 0, body_size as u32));
  }
  const start = shadowStarts.has(stream.id) ? shadowStarts.get(stream.id) : nowNs();
  if (shadowStarts.has(stream.id)) shadowStarts.delete(stream.id);
  const latency = (nowNs() - start) / 1000000;
  const rec = "{\"v\":1,\"id\":" + esc(stream.id) + ",\"role\":\"shadow\",\"route\":" + esc(stream.path) +
    ",\"method\":" + esc(stream.method) + ",\"path\":" + esc(stream.path) + ",\"status\":" + status +
    ",\"latency_ms\":" + latency.toString() + ",\"ts_ms\":" + (start / 1000000).toString() +
    ",\"response_body\":" + esc(body) + "}";
  root.enqueue(rec);
}

registerRootContext((context_id: u32): RootContext => { return new ShadowRoot(context_id); }, "");
