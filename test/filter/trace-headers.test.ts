// Issue 7.6: mirrored copies (shadow and baseline) leave production's tracing and
// identity headers behind by default; strip_trace_headers: false keeps them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFilter, exchange, header } from './support/vm.js';

const TRACE: [string, string][] = [
  ['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'], ['tracestate', 'congo=t61rcWkgMzE'],
  ['x-b3-traceid', '80f198ee56343ba864fe8b2a57d3eff7'], ['x-b3-spanid', 'e457b5a2e4d86bd1'], ['x-b3-parentspanid', '05e3ac9a4f6e3b90'],
  ['x-b3-sampled', '1'], ['x-b3-flags', '1'], ['b3', '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1'],
  ['x-ot-span-context', 'abc;def;1'], ['x-cloud-trace-context', '105445aa7843bc8bf206b12000100000/1;o=1'],
  ['x-datadog-trace-id', '1'], ['x-datadog-parent-id', '2'], ['x-datadog-sampling-priority', '1'], ['x-datadog-origin', 'synthetics'],
  ['x-forwarded-client-cert', 'By=spiffe://cluster.local/ns/a/sa/b;Hash=1;Subject="";URI=spiffe://cluster.local/ns/c/sa/d'],
  ['x-envoy-retry-on', '5xx'], ['x-envoy-max-retries', '10'], ['x-envoy-upstream-rq-timeout-ms', '60000'],
  ['x-envoy-upstream-rq-per-try-timeout-ms', '100'], ['x-envoy-force-trace', 'true'], ['x-envoy-internal', 'true'],
  ['x-envoy-expected-rq-timeout-ms', '15000'], ['x-envoy-hedge-on-per-try-timeout', 'true'], ['x-envoy-retry-grpc-on', 'cancelled'],
  ['x-envoy-retriable-status-codes', '503'], ['x-envoy-upstream-alt-stat-name', 'x'], ['x-envoy-decorator-operation', 'op'],
  ['x-envoy-peer-metadata', 'Cg=='], ['x-envoy-peer-metadata-id', 'sidecar~10.0.0.1~a.ns~ns.svc.cluster.local'],
  ['x-envoy-attempt-count', '1'], ['x-envoy-original-path', '/x'],
  ['uber-trace-id', '1:2:0:1'], ['uberctx-user', 'u'], ['baggage', 'k=v'], ['ot-baggage-k', 'v'], ['grpc-trace-bin', 'AAA'],
  ['sw8', '1-x'], ['x-amzn-trace-id', 'Root=1-5759e988-bd862e3fe1be46a994272793'], ['x-client-trace-id', 'c1'],
];
const KEPT: [string, string][] = [
  ['content-type', 'application/json'], ['x-request-id', 'tr-1'], ['accept', '*/*'], ['x-envoy', 'not a prefix match'],
  ['b3x', 'kept'], ['x-b3', 'kept'], ['x-trace', 'kept'], ['x-tenant', 't1'], ['user-agent', 'curl'],
];

test('by default the shadow and baseline copies carry no tracing or identity header; production keeps all', async () => {
  const vm = await startFilter({ role: 'production', shadow_cluster: 'shadow', baseline_cluster: 'baseline' },
    { clusters: ['shadow', 'baseline', 'collector'] });
  const { stream } = exchange(vm, { method: 'POST', body: '{}', headers: [...TRACE, ...KEPT] });
  const copies = [...vm.takeHttpCalls('shadow'), ...vm.takeHttpCalls('baseline')];
  assert.equal(copies.length, 2);
  for (const copy of copies) {
    for (const [name] of TRACE) assert.equal(copy.header(name), undefined, `${copy.cluster}: ${name} was copied`);
    for (const [name, value] of KEPT) assert.equal(copy.header(name), value, `${copy.cluster}: ${name} was dropped`);
    assert.equal(copy.header('x-shadow-correlation-id'), 'tr-1');
  }
  for (const [name, value] of TRACE) assert.equal(header(stream.requestHeaders, name), value, `production lost ${name}`);
});

test('strip_trace_headers: false keeps them on the copies; strip_headers still applies', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', strip_trace_headers: false, strip_headers: ['x-forwarded-client-cert'] });
  exchange(vm, { headers: [...TRACE, ...KEPT] });
  const [copy] = vm.takeHttpCalls('shadow');
  for (const [name, value] of TRACE) {
    if (name === 'x-forwarded-client-cert') assert.equal(copy!.header(name), undefined);
    else assert.equal(copy!.header(name), value, name);
  }
});
