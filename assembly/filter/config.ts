// The plugin configuration (contract §1): every key optional, unknown keys and
// wrong types rejected with one message naming the key. Strings the hot path
// compares or copies are kept as UTF-8 bytes, encoded once here.
import { asciiLower, ByteBuf, num } from "../abi/bytes";
import { writeJsonString } from "./json";
import { JsonReader, JValue, J_ARR, J_BOOL, J_NUM, J_OBJ, J_STR, kindName } from "./jsonparse";

export const ROLE_AUTO: i32 = 0;
export const ROLE_PRODUCTION: i32 = 1;
export const ROLE_SHADOW: i32 = 2;

export class Route {
  /** The route name as a quoted, escaped JSON string, ready to copy into records. */
  nameJson: ArrayBuffer = new ArrayBuffer(0);
  name: string = "";
  prefix: ArrayBuffer = new ArrayBuffer(0);
  methods: ArrayBuffer[] = [];
  /** sample_percent × 100, compared with the id's bucket 0–9999. */
  threshold: f64 = 10000;
}

export class Config {
  role: i32 = ROLE_AUTO;
  shadowCluster: ArrayBuffer | null = null;
  shadowAuthority: ArrayBuffer | null = null;
  samplePercent: f64 = 100;
  correlationHeader: ArrayBuffer = String.UTF8.encode("x-shadow-correlation-id");
  markerHeader: ArrayBuffer = String.UTF8.encode("x-shadow-request");
  routes: Route[] = [];
  maxBodyBytes: i32 = 65536;
  shadowTimeoutMs: u32 = 5000;
  stripHeaders: ArrayBuffer[] = [];
  redactHeaders: ArrayBuffer[] = [
    String.UTF8.encode("authorization"), String.UTF8.encode("cookie"),
    String.UTF8.encode("set-cookie"), String.UTF8.encode("proxy-authorization"),
  ];
  collectorCluster: ArrayBuffer = String.UTF8.encode("collector");
  collectorAuthority: ArrayBuffer = String.UTF8.encode("collector");
  collectorPath: ArrayBuffer = String.UTF8.encode("/v1/records");
  collectorToken: ArrayBuffer | null = null;
  batchMaxRecords: i32 = 64;
  batchMaxBytes: i32 = 1048576;
  flushIntervalMs: u32 = 1000;
  maxQueuedRecords: i32 = 4096;
  /** (1.1) Second production instance every sampled request is also copied to (role "baseline"). */
  baselineCluster: ArrayBuffer | null = null;
  /** (1.1) The baseline copy's :authority; null = the production request's own. */
  baselineAuthority: ArrayBuffer | null = null;
  /** (1.1) shadow_breaker: consecutive failed copies that open the breaker (0 = off), and its cooldown. */
  breakerFailures: i32 = 20;
  breakerCooldownMs: u32 = 30000;
  /** Tracing and identity headers are left off mirrored copies unless this is false. */
  stripTraceHeaders: bool = true;
  /** Opt-in: the response carries the correlation id in this header (debugging one request). */
  debugResponseHeader: ArrayBuffer | null = null;
  /** Mesh-mirror mode: the filter names the mirror cluster in this header on sampled requests only. */
  meshMirrorHeader: ArrayBuffer | null = null;
  meshMirrorCluster: ArrayBuffer | null = null;
  /** Body bytes all streams in flight may hold together (see budget.ts). */
  bodyBudgetBytes: i32 = 16777216;
}

export class ConfigResult {
  config: Config | null = null;
  /** Empty when the configuration is valid. */
  error: string = "";
}

/** RFC 9110 token characters, the only ones a header name may have. */
function isTokenChar(c: i32): bool {
  if ((c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90)) return true;
  return c == 33 || c == 35 || c == 36 || c == 37 || c == 38 || c == 39 || c == 42 || c == 43 ||
    c == 45 || c == 46 || c == 94 || c == 95 || c == 96 || c == 124 || c == 126;
}

function isHeaderName(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

/** Printable ASCII without spaces (cluster names, authorities, paths). */
function isPlainValue(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c >= 127) return false;
  }
  return true;
}

/** A header value may hold anything but control characters. */
function isHeaderValue(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 32 && c != 9) || c == 127) return false;
  }
  return true;
}

/** Envoy's own mirror buffer limit; a record holds both bodies, up to 6× escaped (docs/filter.md, Memory). */
export const MAX_BODY_BYTES: f64 = 1048576;
/** Keeps twice the budget (buffers grow by doubling) well under Envoy's 1 GiB per VM. */
export const MAX_BODY_BUDGET_BYTES: f64 = 134217728;

/**
 * The longest route name, in characters (code points), a record may carry: the collector
 * rejects longer ones (they cost its memory and /metrics label size). A route named by its
 * path prefix counts that prefix; a route taken from the path (no routes configured) is cut
 * to this many bytes (plugin.ts), never more characters.
 */
export const MAX_ROUTE_NAME_CHARS: i32 = 256;

/** Characters (code points, as the collector counts them) of a string: a surrogate pair is one. */
function codePoints(s: string): i32 {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const prev = s.charCodeAt(i - 1);
      if (prev >= 0xd800 && prev <= 0xdbff) continue;
    }
    n++;
  }
  return n;
}

const CLUSTER = "a cluster name";
const AUTHORITY = "an authority";

class Checker {
  error: string = "";

  bad(key: string, what: string): void {
    if (this.error.length == 0) this.error = "invalid configuration: key \"" + key + "\" " + what;
  }

  str(key: string, v: JValue): string | null {
    if (v.kind != J_STR) { this.bad(key, "must be a string, got " + kindName(v.kind)); return null; }
    return v.str;
  }

  plain(key: string, v: JValue, what: string): ArrayBuffer | null {
    const s = this.str(key, v);
    if (s === null) return null;
    if (!isPlainValue(s)) { this.bad(key, "must be " + what); return null; }
    return String.UTF8.encode(s);
  }

  headerName(key: string, v: JValue): ArrayBuffer | null {
    const s = this.str(key, v);
    if (s === null) return null;
    if (!isHeaderName(s)) { this.bad(key, "must be a header name"); return null; }
    return String.UTF8.encode(asciiLower(s));
  }

  headerList(key: string, v: JValue): ArrayBuffer[] | null {
    if (v.kind != J_ARR) { this.bad(key, "must be an array, got " + kindName(v.kind)); return null; }
    const out: ArrayBuffer[] = [];
    for (let i = 0; i < v.items.length; i++) {
      const h = this.headerName(key + "[" + num(i) + "]", v.items[i]);
      if (h === null) return null;
      out.push(h);
    }
    return out;
  }

  percent(key: string, v: JValue): f64 {
    if (v.kind != J_NUM) { this.bad(key, "must be a number, got " + kindName(v.kind)); return -1; }
    if (!(v.num >= 0 && v.num <= 100)) { this.bad(key, "must be from 0 to 100"); return -1; }
    return v.num;
  }

  bool(key: string, v: JValue): i32 {
    if (v.kind != J_BOOL) { this.bad(key, "must be a boolean, got " + kindName(v.kind)); return -1; }
    return v.flag ? 1 : 0;
  }

  int(key: string, v: JValue, min: f64, max: f64): f64 {
    if (v.kind != J_NUM) { this.bad(key, "must be an integer, got " + kindName(v.kind)); return -1; }
    if (v.num != Math.floor(v.num)) { this.bad(key, "must be an integer"); return -1; }
    if (v.num < min || v.num > max) {
      this.bad(key, "must be from " + num(min) + " to " + num(max));
      return -1;
    }
    return v.num;
  }
}

function jsonName(s: string): ArrayBuffer {
  const raw = String.UTF8.encode(s);
  const b = new ByteBuf();
  writeJsonString(b, changetype<usize>(raw), raw.byteLength);
  const out = b.toArrayBuffer();
  b.release();
  return out;
}

function parseRoute(c: Checker, at: string, v: JValue, defaultThreshold: f64): Route | null {
  if (v.kind != J_OBJ) { c.bad(at, "must be an object, got " + kindName(v.kind)); return null; }
  const r = new Route();
  let named = false;
  let percent: f64 = -1;
  for (let i = 0; i < v.keys.length; i++) {
    const k = v.keys[i];
    const item = v.items[i];
    const key = at + "." + k;
    if (k == "name") {
      const s = c.str(key, item);
      if (s === null) return null;
      if (s.length == 0) { c.bad(key, "must not be empty"); return null; }
      if (codePoints(s) > MAX_ROUTE_NAME_CHARS) { c.bad(key, "must be at most " + num(MAX_ROUTE_NAME_CHARS) + " characters long (the collector rejects longer route names)"); return null; }
      r.name = s;
      named = true;
    } else if (k == "path_prefix") {
      const s = c.str(key, item);
      if (s === null) return null;
      if (s.length == 0 || s.charCodeAt(0) != 47) { c.bad(key, "must start with /"); return null; }
      r.prefix = String.UTF8.encode(s);
    } else if (k == "methods") {
      if (item.kind != J_ARR) { c.bad(key, "must be an array, got " + kindName(item.kind)); return null; }
      for (let j = 0; j < item.items.length; j++) {
        const m = c.plain(key + "[" + num(j) + "]", item.items[j], "an HTTP method");
        if (m === null) return null;
        r.methods.push(m);
      }
    } else if (k == "sample_percent") {
      percent = c.percent(key, item);
      if (percent < 0) return null;
    } else {
      c.bad(key, "is not a known route key");
      return null;
    }
  }
  if (r.prefix.byteLength == 0) r.prefix = String.UTF8.encode("/");
  if (!named) {
    r.name = String.UTF8.decode(r.prefix);
    if (codePoints(r.name) > MAX_ROUTE_NAME_CHARS) {
      c.bad(at + ".path_prefix", "names the route when \"name\" is not set, and is longer than " + num(MAX_ROUTE_NAME_CHARS) + " characters: set a shorter \"name\"");
      return null;
    }
  }
  r.nameJson = jsonName(r.name);
  r.threshold = percent >= 0 ? percent * 100 : defaultThreshold;
  return r;
}

/** Keys that only make sense together, or not together. */
function checkCombinations(c: Checker, cfg: Config): void {
  if ((cfg.meshMirrorHeader === null) != (cfg.meshMirrorCluster === null)) {
    const only = cfg.meshMirrorHeader === null ? "mesh_mirror_cluster" : "mesh_mirror_cluster_header";
    const missing = cfg.meshMirrorHeader === null ? "mesh_mirror_cluster_header" : "mesh_mirror_cluster";
    c.bad(only, "must be set together with \"" + missing + "\"");
  } else if (cfg.meshMirrorHeader !== null && cfg.shadowCluster !== null) {
    c.bad("mesh_mirror_cluster_header", "cannot be used with \"shadow_cluster\" (the request would be mirrored twice)");
  } else if (cfg.baselineAuthority !== null && cfg.baselineCluster === null) {
    c.bad("baseline_authority", "needs \"baseline_cluster\"");
  }
}

/** `shadow_breaker`: {"failures": N, "cooldown_ms": M}, either key optional. */
function parseBreaker(c: Checker, cfg: Config, v: JValue): void {
  const at = "shadow_breaker";
  if (v.kind != J_OBJ) { c.bad(at, "must be an object, got " + kindName(v.kind)); return; }
  for (let i = 0; i < v.keys.length && c.error.length == 0; i++) {
    const k = v.keys[i];
    if (k == "failures") cfg.breakerFailures = <i32>c.int(at + "." + k, v.items[i], 0, 1000000);
    else if (k == "cooldown_ms") cfg.breakerCooldownMs = <u32>c.int(at + "." + k, v.items[i], 0, 86400000);
    else c.bad(at + "." + k, "is not a known shadow_breaker key (failures, cooldown_ms)");
  }
}

/** Parses the plugin configuration bytes; size 0 means all defaults. */
export function parseConfig(p: usize, n: i32): ConfigResult {
  const res = new ConfigResult();
  const cfg = new Config();
  if (n == 0) { res.config = cfg; return res; }
  const reader = new JsonReader(p, n);
  const root = reader.parse();
  if (root === null) { res.error = "invalid configuration: not valid JSON: " + reader.error; return res; }
  if (root.kind != J_OBJ) { res.error = "invalid configuration: must be a JSON object"; return res; }
  const c = new Checker();
  let routes: JValue | null = null;
  for (let i = 0; i < root.keys.length && c.error.length == 0; i++) {
    const k = root.keys[i];
    const v = root.items[i];
    if (k == "role") {
      const s = c.str(k, v);
      if (s === null) break;
      if (s == "auto") cfg.role = ROLE_AUTO;
      else if (s == "production") cfg.role = ROLE_PRODUCTION;
      else if (s == "shadow") cfg.role = ROLE_SHADOW;
      else c.bad(k, "must be \"production\", \"shadow\" or \"auto\"");
    } else if (k == "shadow_cluster") {
      cfg.shadowCluster = c.plain(k, v, CLUSTER);
    } else if (k == "shadow_authority") {
      cfg.shadowAuthority = c.plain(k, v, AUTHORITY);
    } else if (k == "sample_percent") {
      cfg.samplePercent = c.percent(k, v);
    } else if (k == "correlation_header") {
      const h = c.headerName(k, v);
      if (h !== null) cfg.correlationHeader = h;
    } else if (k == "shadow_marker_header") {
      const h = c.headerName(k, v);
      if (h !== null) cfg.markerHeader = h;
    } else if (k == "routes") {
      if (v.kind != J_ARR) c.bad(k, "must be an array, got " + kindName(v.kind));
      else if (v.items.length == 0) c.bad(k, "must not be empty");
      else routes = v;
    } else if (k == "max_body_bytes") {
      cfg.maxBodyBytes = <i32>c.int(k, v, 0, MAX_BODY_BYTES);
    } else if (k == "shadow_timeout_ms") {
      cfg.shadowTimeoutMs = <u32>c.int(k, v, 0, 3600000);
    } else if (k == "strip_headers") {
      const l = c.headerList(k, v);
      if (l !== null) cfg.stripHeaders = l;
    } else if (k == "redact_headers") {
      const l = c.headerList(k, v);
      if (l !== null) cfg.redactHeaders = l;
    } else if (k == "collector_cluster") {
      const b = c.plain(k, v, CLUSTER);
      if (b !== null) cfg.collectorCluster = b;
    } else if (k == "collector_authority") {
      const b = c.plain(k, v, AUTHORITY);
      if (b !== null) cfg.collectorAuthority = b;
    } else if (k == "collector_path") {
      const s = c.str(k, v);
      if (s !== null) {
        if (!isPlainValue(s) || s.charCodeAt(0) != 47) c.bad(k, "must be a path starting with /");
        else cfg.collectorPath = String.UTF8.encode(s);
      }
    } else if (k == "collector_token") {
      const s = c.str(k, v);
      if (s !== null) {
        if (s.length == 0 || !isHeaderValue(s)) c.bad(k, "must be a non-empty header value");
        else cfg.collectorToken = String.UTF8.encode(s);
      }
    } else if (k == "batch_max_records") {
      cfg.batchMaxRecords = <i32>c.int(k, v, 1, 100000);
    } else if (k == "batch_max_bytes") {
      cfg.batchMaxBytes = <i32>c.int(k, v, 1024, 67108864);
    } else if (k == "flush_interval_ms") {
      cfg.flushIntervalMs = <u32>c.int(k, v, 1, 86400000);
    } else if (k == "max_queued_records") {
      cfg.maxQueuedRecords = <i32>c.int(k, v, 1, 1000000);
    } else if (k == "baseline_cluster") {
      cfg.baselineCluster = c.plain(k, v, CLUSTER);
    } else if (k == "baseline_authority") {
      cfg.baselineAuthority = c.plain(k, v, AUTHORITY);
    } else if (k == "shadow_breaker") {
      parseBreaker(c, cfg, v);
    } else if (k == "strip_trace_headers") {
      cfg.stripTraceHeaders = c.bool(k, v) == 1;
    } else if (k == "debug_response_header") {
      cfg.debugResponseHeader = c.headerName(k, v);
    } else if (k == "mesh_mirror_cluster_header") {
      cfg.meshMirrorHeader = c.headerName(k, v);
    } else if (k == "mesh_mirror_cluster") {
      cfg.meshMirrorCluster = c.plain(k, v, CLUSTER);
    } else if (k == "body_budget_bytes") {
      cfg.bodyBudgetBytes = <i32>c.int(k, v, 0, MAX_BODY_BUDGET_BYTES);
    } else {
      c.bad(k, "is not a known configuration key");
    }
  }
  if (c.error.length == 0) checkCombinations(c, cfg);
  if (c.error.length == 0 && routes !== null) {
    const threshold = cfg.samplePercent * 100;
    for (let i = 0; i < routes.items.length; i++) {
      const r = parseRoute(c, "routes[" + num(i) + "]", routes.items[i], threshold);
      if (r === null) break;
      cfg.routes.push(r);
    }
  }
  if (c.error.length != 0) { res.error = c.error; return res; }
  res.config = cfg;
  return res;
}

