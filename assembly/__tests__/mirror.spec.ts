import { isTraceHeader } from "../filter/mirror";

function trace(name: string): bool {
  const b = String.UTF8.encode(name);
  return isTraceHeader(changetype<usize>(b), b.byteLength);
}

describe("tracing and identity headers left off copies", () => {
  it("knows the listed names and prefixes", () => {
    const yes = ["traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-sampled", "x-ot-span-context",
      "x-cloud-trace-context", "x-datadog-trace-id", "x-forwarded-client-cert", "x-envoy-retry-on",
      "x-envoy-upstream-rq-timeout-ms", "x-envoy-peer-metadata", "uber-trace-id", "uberctx-k", "baggage",
      "ot-baggage-k", "grpc-trace-bin", "sw8", "x-amzn-trace-id", "x-client-trace-id"];
    for (let i = 0; i < yes.length; i++) expect(trace(yes[i])).toBe(true, yes[i]);
  });
  it("keeps everything else, including near misses", () => {
    const no = ["", "x-request-id", "content-type", "x-envoy", "x-b3", "b3x", "tracer", "x-trace", "baggages-x",
      "user-agent", "x-shadow-correlation-id", "x-datadog", "sw9", "accept"];
    for (let i = 0; i < no.length; i++) expect(trace(no[i])).toBe(false, no[i]);
  });
});
