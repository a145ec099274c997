import { parseConfig, Config, ConfigResult, ROLE_AUTO, ROLE_PRODUCTION, ROLE_SHADOW } from "../filter/config";

function parse(s: string): ConfigResult {
  const b = String.UTF8.encode(s);
  return parseConfig(changetype<usize>(b), b.byteLength);
}

function ok(s: string): Config {
  const r = parse(s);
  expect(r.error).toBe("", "unexpected error for " + s);
  return r.config!;
}

function err(s: string): string {
  const r = parse(s);
  expect(r.config === null).toBe(true, "expected an error for " + s);
  return r.error;
}

function has(message: string, part: string): void {
  expect(message.includes(part)).toBe(true, message + " should contain " + part);
}

function str(b: ArrayBuffer | null): string {
  return b === null ? "<null>" : String.UTF8.decode(b);
}

describe("configuration defaults", () => {
  it("treats an empty configuration as all defaults", () => {
    const r = parseConfig(0, 0);
    expect(r.error).toBe("");
    const c = r.config!;
    expect(c.role).toBe(ROLE_AUTO);
    expect(c.shadowCluster === null).toBe(true);
    expect(c.shadowAuthority === null).toBe(true);
    expect(c.samplePercent).toBe(100);
    expect(str(c.correlationHeader)).toBe("x-shadow-correlation-id");
    expect(str(c.markerHeader)).toBe("x-shadow-request");
    expect(c.routes.length).toBe(0);
    expect(c.maxBodyBytes).toBe(65536);
    expect(c.shadowTimeoutMs).toBe(5000);
    expect(c.stripHeaders.length).toBe(0);
    expect(c.redactHeaders.length).toBe(4);
    expect(str(c.redactHeaders[3])).toBe("proxy-authorization");
    expect(str(c.collectorCluster)).toBe("collector");
    expect(str(c.collectorAuthority)).toBe("collector");
    expect(str(c.collectorPath)).toBe("/v1/records");
    expect(c.collectorToken === null).toBe(true);
    expect(c.batchMaxRecords).toBe(64);
    expect(c.batchMaxBytes).toBe(1048576);
    expect(c.flushIntervalMs).toBe(1000);
    expect(c.maxQueuedRecords).toBe(4096);
    expect(c.baselineCluster === null).toBe(true);
    expect(c.baselineAuthority === null).toBe(true);
    expect(c.breakerFailures).toBe(20);
    expect(c.breakerCooldownMs).toBe(30000);
    expect(c.stripTraceHeaders).toBe(true);
    expect(c.debugResponseHeader === null).toBe(true);
    expect(c.meshMirrorHeader === null).toBe(true);
    expect(c.meshMirrorCluster === null).toBe(true);
  });
  it("treats {} as all defaults", () => {
    const c = ok("  { }  ");
    expect(c.samplePercent).toBe(100);
  });
});

describe("version 1.1 keys", () => {
  it("reads baseline, breaker, trace stripping, debug header and mesh mirror keys", () => {
    const c = ok(`{"baseline_cluster": "outbound|80||svc.ns", "baseline_authority": "svc-baseline:80",
      "shadow_breaker": {"failures": 3, "cooldown_ms": 500}, "strip_trace_headers": false,
      "debug_response_header": "X-Shadow-Correlation-Id"}`);
    expect(str(c.baselineCluster)).toBe("outbound|80||svc.ns");
    expect(str(c.baselineAuthority)).toBe("svc-baseline:80");
    expect(c.breakerFailures).toBe(3);
    expect(c.breakerCooldownMs).toBe(500);
    expect(c.stripTraceHeaders).toBe(false);
    expect(str(c.debugResponseHeader)).toBe("x-shadow-correlation-id");
    const m = ok(`{"mesh_mirror_cluster_header": "X-Mirror-Cluster", "mesh_mirror_cluster": "shadow"}`);
    expect(str(m.meshMirrorHeader)).toBe("x-mirror-cluster");
    expect(str(m.meshMirrorCluster)).toBe("shadow");
  });
  it("keeps the other breaker default when only one key is given; failures 0 turns it off", () => {
    const c = ok(`{"shadow_breaker": {"failures": 0}}`);
    expect(c.breakerFailures).toBe(0);
    expect(c.breakerCooldownMs).toBe(30000);
    expect(ok(`{"shadow_breaker": {}}`).breakerFailures).toBe(20);
  });
  it("names the key that is wrong", () => {
    has(err(`{"shadow_breaker": {"failures": 2, "cooldown_ms": -5}}`), "\"shadow_breaker.cooldown_ms\"");
    has(err(`{"shadow_breaker": {"probe": 1}}`), "\"shadow_breaker.probe\" is not a known shadow_breaker key");
    has(err(`{"shadow_breaker": []}`), "\"shadow_breaker\" must be an object");
    has(err(`{"strip_trace_headers": 1}`), "\"strip_trace_headers\" must be a boolean");
    has(err(`{"baseline_authority": "x"}`), "\"baseline_authority\" needs \"baseline_cluster\"");
    has(err(`{"mesh_mirror_cluster": "s"}`), "\"mesh_mirror_cluster\" must be set together");
    has(err(`{"shadow_cluster": "s", "mesh_mirror_cluster": "s", "mesh_mirror_cluster_header": "x-m"}`), "cannot be used with \"shadow_cluster\"");
  });
});

describe("configuration keys", () => {
  it("reads every key", () => {
    const c = ok(`{
      "role": "production", "shadow_cluster": "outbound|80||svc-shadow.ns.svc.cluster.local",
      "shadow_authority": "svc-shadow:8080", "sample_percent": 12.5,
      "correlation_header": "X-Corr-Id", "shadow_marker_header": "x-mirror",
      "routes": [{"name": "predict", "path_prefix": "/predict", "methods": ["POST"], "sample_percent": 50},
                 {"path_prefix": "/health"}],
      "max_body_bytes": 1024, "shadow_timeout_ms": 250, "strip_headers": ["Authorization", "cookie"],
      "redact_headers": ["x-secret"], "collector_cluster": "sm-collector", "collector_authority": "collector.local",
      "collector_path": "/ingest", "collector_token": "t0k3n", "batch_max_records": 10, "batch_max_bytes": 4096,
      "flush_interval_ms": 250, "max_queued_records": 100
    }`);
    expect(c.role).toBe(ROLE_PRODUCTION);
    expect(str(c.shadowCluster)).toBe("outbound|80||svc-shadow.ns.svc.cluster.local");
    expect(str(c.shadowAuthority)).toBe("svc-shadow:8080");
    expect(c.samplePercent).toBe(12.5);
    expect(str(c.correlationHeader)).toBe("x-corr-id");
    expect(str(c.markerHeader)).toBe("x-mirror");
    expect(c.routes.length).toBe(2);
    expect(c.routes[0].name).toBe("predict");
    expect(str(c.routes[0].nameJson)).toBe("\"predict\"");
    expect(str(c.routes[0].prefix)).toBe("/predict");
    expect(c.routes[0].methods.length).toBe(1);
    expect(c.routes[0].threshold).toBe(5000);
    expect(c.routes[1].name).toBe("/health");
    expect(c.routes[1].threshold).toBe(1250);
    expect(c.maxBodyBytes).toBe(1024);
    expect(c.shadowTimeoutMs).toBe(250);
    expect(str(c.stripHeaders[0])).toBe("authorization");
    expect(str(c.redactHeaders[0])).toBe("x-secret");
    expect(c.redactHeaders.length).toBe(1);
    expect(str(c.collectorCluster)).toBe("sm-collector");
    expect(str(c.collectorAuthority)).toBe("collector.local");
    expect(str(c.collectorPath)).toBe("/ingest");
    expect(str(c.collectorToken)).toBe("t0k3n");
    expect(c.batchMaxRecords).toBe(10);
    expect(c.batchMaxBytes).toBe(4096);
    expect(c.flushIntervalMs).toBe(250);
    expect(c.maxQueuedRecords).toBe(100);
  });
  it("reads the roles", () => {
    expect(ok("{\"role\":\"shadow\"}").role).toBe(ROLE_SHADOW);
    expect(ok("{\"role\":\"auto\"}").role).toBe(ROLE_AUTO);
  });
  it("reads decimal, exponent and boundary percentages", () => {
    expect(ok("{\"sample_percent\":0}").samplePercent).toBe(0);
    expect(ok("{\"sample_percent\":100}").samplePercent).toBe(100);
    expect(ok("{\"sample_percent\":0.01}").samplePercent).toBe(0.01);
    expect(ok("{\"sample_percent\":2.5e1}").samplePercent).toBe(25);
    expect(ok("{\"sample_percent\":33.33}").samplePercent).toBe(33.33);
  });
  it("reads escaped strings", () => {
    const c = ok("{\"routes\":[{\"name\":\"a\\\"b\\u00e9\",\"path_prefix\":\"/\"}]}");
    expect(c.routes[0].name).toBe("a\"bé");
    expect(str(c.routes[0].nameJson)).toBe("\"a\\\"bé\"");
  });
});

describe("configuration errors", () => {
  it("names an unknown key", () => {
    expect(err("{\"sample_pct\": 5}")).toBe("invalid configuration: key \"sample_pct\" is not a known configuration key");
  });
  it("names the key of a wrong type", () => {
    has(err("{\"sample_percent\": \"5\"}"), "\"sample_percent\" must be a number");
    has(err("{\"role\": 1}"), "\"role\" must be a string");
    has(err("{\"shadow_cluster\": true}"), "\"shadow_cluster\" must be a string");
    has(err("{\"routes\": {}}"), "\"routes\" must be an array");
    has(err("{\"strip_headers\": \"authorization\"}"), "\"strip_headers\" must be an array");
    has(err("{\"strip_headers\": [1]}"), "\"strip_headers[0]\" must be a string");
    has(err("{\"max_body_bytes\": 1.5}"), "\"max_body_bytes\" must be an integer");
    has(err("{\"batch_max_records\": null}"), "\"batch_max_records\" must be an integer");
    has(err("{\"collector_token\": 5}"), "\"collector_token\" must be a string");
  });
  it("names the key of an out-of-range value", () => {
    has(err("{\"sample_percent\": 100.5}"), "\"sample_percent\" must be from 0 to 100");
    has(err("{\"sample_percent\": -1}"), "\"sample_percent\"");
    has(err("{\"role\": \"canary\"}"), "\"role\" must be \"production\", \"shadow\" or \"auto\"");
    has(err("{\"batch_max_records\": 0}"), "\"batch_max_records\" must be from 1");
    has(err("{\"max_queued_records\": 0}"), "\"max_queued_records\"");
    has(err("{\"flush_interval_ms\": 0}"), "\"flush_interval_ms\"");
    has(err("{\"routes\": []}"), "\"routes\" must not be empty");
    has(err("{\"collector_path\": \"v1\"}"), "\"collector_path\" must be a path");
    has(err("{\"correlation_header\": \"bad header\"}"), "\"correlation_header\" must be a header name");
    has(err("{\"shadow_cluster\": \"\"}"), "\"shadow_cluster\"");
  });
  it("names keys inside routes", () => {
    has(err("{\"routes\": [{\"path\": \"/a\"}]}"), "\"routes[0].path\" is not a known route key");
    has(err("{\"routes\": [{\"path_prefix\": \"/a\"}, {\"path_prefix\": \"a\"}]}"), "\"routes[1].path_prefix\" must start with /");
    has(err("{\"routes\": [{\"methods\": \"GET\"}]}"), "\"routes[0].methods\" must be an array");
    has(err("{\"routes\": [{\"sample_percent\": 101}]}"), "\"routes[0].sample_percent\"");
    has(err("{\"routes\": [5]}"), "\"routes[0]\" must be an object");
  });
  it("bounds a route's name at 256 characters, counting a surrogate pair as one", () => {
    const name256 = "r".repeat(256);
    expect(ok("{\"routes\": [{\"name\": \"" + name256 + "\"}]}").routes[0].name).toBe(name256);
    const e = err("{\"routes\": [{\"path_prefix\": \"/a\"}, {\"name\": \"" + name256 + "x\"}]}");
    has(e, "\"routes[1].name\" must be at most 256 characters long");
    // 256 emoji are 512 UTF-16 units but 256 characters, as the collector counts them.
    const emoji = "\u{1F600}".repeat(256);
    expect(ok("{\"routes\": [{\"name\": \"" + emoji + "\"}]}").routes[0].name.length).toBe(512);
    has(err("{\"routes\": [{\"name\": \"" + emoji + "a\"}]}"), "\"routes[0].name\" must be at most 256");
  });
  it("bounds the path prefix that names an unnamed route, not a named route's", () => {
    const prefix = "/" + "p".repeat(256);
    has(err("{\"routes\": [{\"path_prefix\": \"" + prefix + "\"}]}"), "\"routes[0].path_prefix\" names the route when \"name\" is not set, and is longer than 256 characters");
    expect(ok("{\"routes\": [{\"name\": \"long\", \"path_prefix\": \"" + prefix + "\"}]}").routes[0].name).toBe("long");
    expect(ok("{\"routes\": [{\"path_prefix\": \"/" + "p".repeat(255) + "\"}]}").routes[0].name.length).toBe(256);
  });
  it("rejects input that is not a JSON object", () => {
    has(err("[]"), "must be a JSON object");
    has(err("42"), "must be a JSON object");
    has(err("{"), "not valid JSON");
    has(err("{\"a\":1,}"), "not valid JSON");
    has(err("{\"role\":\"auto\"} x"), "not valid JSON");
    has(err("{'role':'auto'}"), "not valid JSON");
    has(err("{\"x\":\"\\q\"}"), "not valid JSON");
    has(err("{\"x\":01}"), "not valid JSON");
    has(err("\xff"), "not valid JSON");
  });
  it("survives deep nesting without a trap", () => {
    has(err("[".repeat(10000)), "nesting too deep");
  });
});
