// The Envoy bootstrap subset: what is read, what is named as not implemented
// (once), and what is refused with the YAML path of the problem.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ConfigError, loadEnvoyConfig, parseEnvoyConfig } from '../../src/sidecar/index.js';
import type { WasmFilterConfig } from '../../src/sidecar/config/model.js';
import { EMPTY_WASM, HCM_TYPE, REPO, ROUTER_TYPE, WASM_TYPE, bootstrap, listener, staticCluster, tempDir, wasmFilter, writeFile } from './helpers.js';

const tmp = tempDir();
after(() => tmp.cleanup());
const wasmFile = writeFile(tmp.dir, 'filter.wasm', EMPTY_WASM);
const sourcePath = `${tmp.dir}/envoy.yaml`;

function parse(yaml: string, overrides = {}) {
  return parseEnvoyConfig(yaml, { sourcePath, overrides });
}

function rejects(yaml: string, pattern: RegExp, overrides = {}): void {
  assert.throws(
    () => parse(yaml, overrides),
    (err: Error) => {
      assert.ok(err instanceof ConfigError, `ConfigError, got ${err.name}: ${err.message}`);
      assert.match(err.message, pattern);
      return true;
    },
  );
}

const FULL = `
node:
  id: sidecar-1
  cluster: models
  metadata: { zone: a, replicas: 3 }
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 9901 } }
static_resources:
  listeners:
  - name: ingress
    address: { socket_address: { address: 0.0.0.0, port_value: 10000 } }
    per_connection_buffer_limit_bytes: 1024
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": ${HCM_TYPE}
          stat_prefix: ingress
          use_remote_address: true
          route_config:
            name: r
            virtual_hosts:
            - name: api
              domains: ["api.example", "*.api.example"]
              routes:
              - name: predict
                match:
                  prefix: /predict
                  headers:
                  - { name: X-Canary, string_match: { exact: "1" } }
                  - { name: x-debug, present_match: true, invert_match: true }
                route:
                  cluster: production
                  timeout: 2.5s
                  request_mirror_policies:
                  - cluster: shadow
                    runtime_fraction: { default_value: { numerator: 25, denominator: TEN_THOUSAND } }
                    disable_shadow_host_suffix_append: true
              - match: { path: /exact, case_sensitive: false }
                route: { cluster: production, timeout: 0s }
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": ${WASM_TYPE}
              config:
                name: shadowmesh
                root_id: sm_root
                fail_open: true
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: '{"role":"production"}'
                vm_config:
                  vm_id: vm1
                  runtime: envoy.wasm.runtime.v8
                  configuration: { "@type": type.googleapis.com/google.protobuf.StringValue, value: "vmcfg" }
                  code: { local: { filename: filter.wasm } }
          - name: envoy.filters.http.router
            typed_config: { "@type": ${ROUTER_TYPE} }
  clusters:
  - name: production
    type: STRICT_DNS
    connect_timeout: 0.25s
    circuit_breakers: { thresholds: [{ priority: HIGH, max_connections: 3 }, { max_connections: 10, max_pending_requests: 7 }], per_host_thresholds: [] }
    load_assignment:
      cluster_name: production
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: prod-a, port_value: 8080 } } }
        - endpoint: { address: { socket_address: { address: prod-b, port_value: 8080 } } }
  - name: shadow
    type: LOGICAL_DNS
    circuit_breakers: {}
    load_assignment:
      cluster_name: shadow
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: shadow, port_value: 8080 } } } }] }]
`;

describe('Envoy bootstrap parsing', () => {
  it('reads listeners, routes, mirror policies, the wasm filter and clusters', () => {
    const c = parse(FULL);
    assert.deepEqual(c.admin, { address: '127.0.0.1', port: 9901 });
    assert.deepEqual(c.node, { id: 'sidecar-1', cluster: 'models', metadata: { zone: 'a' } });
    const l = c.listeners[0]!;
    assert.equal(l.name, 'ingress');
    assert.deepEqual(l.address, { address: '0.0.0.0', port: 10000 });
    const vh = l.hcm.virtualHosts[0]!;
    assert.deepEqual(vh.domains, ['api.example', '*.api.example']);
    const r0 = vh.routes[0]!;
    assert.equal(r0.name, 'predict');
    assert.equal(r0.match.prefix, '/predict');
    assert.deepEqual(r0.match.headers, [
      { name: 'x-canary', exact: '1', invert: false },
      { name: 'x-debug', present: true, invert: true },
    ]);
    assert.equal(r0.action.kind, 'route');
    if (r0.action.kind !== 'route') return;
    assert.equal(r0.action.timeoutMs, 2500);
    assert.deepEqual(r0.action.mirrorPolicies, [{ cluster: 'shadow', numerator: 25, denominator: 'TEN_THOUSAND', disableShadowHostSuffixAppend: true }]);
    const r1 = vh.routes[1]!;
    assert.equal(r1.match.path, '/exact');
    assert.equal(r1.match.caseSensitive, false);
    assert.equal(r1.action.kind === 'route' && r1.action.timeoutMs, 0);
    const [wasm, router] = l.hcm.httpFilters as [WasmFilterConfig, { kind: string }];
    assert.equal(router.kind, 'router');
    assert.equal(wasm.kind, 'wasm');
    assert.equal(wasm.pluginName, 'shadowmesh');
    assert.equal(wasm.rootId, 'sm_root');
    assert.equal(wasm.vmId, 'vm1');
    assert.equal(wasm.configuration, '{"role":"production"}');
    assert.equal(wasm.vmConfiguration, 'vmcfg');
    assert.equal(wasm.failOpen, true);
    assert.equal(wasm.codePath, wasmFile, 'relative filenames resolve against the YAML file\'s directory');
    const prod = c.clusters.get('production')!;
    assert.equal(prod.type, 'STRICT_DNS');
    assert.equal(prod.connectTimeoutMs, 250);
    assert.deepEqual(prod.endpoints, [{ address: 'prod-a', port: 8080 }, { address: 'prod-b', port: 8080 }]);
    assert.equal(c.clusters.get('shadow')!.type, 'LOGICAL_DNS');
    assert.equal(c.clusters.get('shadow')!.connectTimeoutMs, 5000, 'Envoy default connect timeout');
    assert.deepEqual(prod.circuitBreakers, { maxConnections: 10, maxPendingRequests: 7, maxRequests: 1024 }, 'DEFAULT priority, Envoy defaults for the rest');
    assert.deepEqual(c.clusters.get('shadow')!.circuitBreakers, { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024 });
  });

  it('names each unimplemented field once, with its path', () => {
    const c = parse(FULL);
    assert.deepEqual(c.unimplemented, [
      'node.metadata.replicas',
      'static_resources.clusters[*].circuit_breakers.per_host_thresholds',
      'static_resources.listeners[*].filter_chains[*].filters[*].typed_config.use_remote_address',
      'static_resources.listeners[*].per_connection_buffer_limit_bytes',
    ]);
  });

  it('applies overrides: --resolve, listener ports, listen address, admin port, --wasm', () => {
    const other = writeFile(tmp.dir, 'other.wasm', EMPTY_WASM);
    const c = parse(FULL, { resolve: { production: '127.0.0.1:8001' }, listenerPorts: { ingress: 0 }, listenAddress: '127.0.0.1', adminPort: 0, wasmPath: other, nodeId: 'laptop' });
    assert.equal(c.node.id, 'laptop');
    assert.deepEqual(c.clusters.get('production')!.endpoints, [{ address: '127.0.0.1', port: 8001 }]);
    assert.equal(c.clusters.get('production')!.type, 'STATIC');
    assert.deepEqual(c.listeners[0]!.address, { address: '127.0.0.1', port: 0 });
    assert.deepEqual(c.listeners[0]!.declaredAddress, { address: '0.0.0.0', port: 10000 });
    assert.deepEqual(c.admin, { address: '127.0.0.1', port: 0 });
    assert.equal((c.listeners[0]!.hcm.httpFilters[0] as WasmFilterConfig).codePath, other);
  });

  it('reads the shipped envoy/envoy.yaml and envoy/envoy-mirror.yaml without unimplemented fields', () => {
    for (const f of ['envoy.yaml', 'envoy-mirror.yaml']) {
      const c = loadEnvoyConfig(`${REPO}envoy/${f}`, { wasmPath: wasmFile });
      assert.deepEqual(c.unimplemented, [], f);
      for (const l of c.listeners) {
        const wasm = l.hcm.httpFilters.find((x) => x.kind === 'wasm') as WasmFilterConfig;
        assert.ok(wasm, `${f}: ${l.name} runs the filter`);
        assert.doesNotThrow(() => JSON.parse(wasm.configuration!));
      }
    }
  });
});

describe('configuration errors name the YAML path', () => {
  const routes = '\n              - match: { prefix: "/" }\n                route: { cluster: production }';
  it('no listener', () => {
    rejects(bootstrap([], [staticCluster('production', 1)]).replace('listeners:', 'listeners: []'), /static_resources: at least one listener/);
  });
  it('unknown cluster in a route', () => {
    rejects(
      bootstrap([listener({ routes: '\n              - match: { prefix: "/" }\n                route: { cluster: nowhere }' })], [staticCluster('production', 1)]),
      /static_resources\.listeners\[0\]\.filter_chains\[0\]\.filters\[0\]\.typed_config\.route_config\.virtual_hosts\[0\]\.routes\[0\]\.route\.cluster: unknown cluster "nowhere"/,
    );
  });
  it('unknown mirror cluster', () => {
    rejects(
      bootstrap([listener({ routes: `${routes}\n                  request_mirror_policies: [{ cluster: ghost }]`.replace('route: { cluster: production }', 'route:\n                  cluster: production') })], [staticCluster('production', 1)]),
      /request_mirror_policies\[0\]\.cluster: unknown cluster "ghost"/,
    );
  });
  it('wasm file missing', () => {
    rejects(bootstrap([listener({ routes, filters: wasmFilter('/nonexistent/x.wasm', undefined) })], [staticCluster('production', 1)]), /http_filters\[0\]\.typed_config\.config\.vm_config\.code\.local\.filename: wasm file not found: \/nonexistent\/x\.wasm/);
  });
  it('plugin configuration that is not valid JSON', () => {
    rejects(bootstrap([listener({ routes, filters: wasmFilter(wasmFile, '{"role": ') })], [staticCluster('production', 1)]), /config\.configuration\.value: configuration is not valid JSON/);
  });
  it('configuration with a @type other than StringValue', () => {
    const yaml = bootstrap([listener({ routes, filters: wasmFilter(wasmFile, '{}') })], [staticCluster('production', 1)]).replace('google.protobuf.StringValue', 'google.protobuf.Struct');
    rejects(yaml, /config\.configuration\.@type: expected type\.googleapis\.com\/google\.protobuf\.StringValue/);
  });
  it('YAML syntax errors with line and column', () => {
    rejects('static_resources:\n  listeners: [\n', /line \d+, column \d+: invalid YAML/);
  });
  it('a bad denominator', () => {
    const r = `${routes}`.replace('route: { cluster: production }', 'route:\n                  cluster: production\n                  request_mirror_policies: [{ cluster: production, runtime_fraction: { default_value: { numerator: 1, denominator: THOUSAND } } }]');
    rejects(bootstrap([listener({ routes: r })], [staticCluster('production', 1)]), /denominator: expected one of HUNDRED, TEN_THOUSAND, MILLION, got "THOUSAND"/);
  });
  it('an unsupported http filter', () => {
    const yaml = bootstrap([listener({ routes, filters: '\n          - name: envoy.filters.http.lua\n            typed_config: { "@type": x }' })], [staticCluster('production', 1)]);
    rejects(yaml, /http_filters\[0\]: http filter "envoy.filters.http.lua" is not supported/);
  });
  it('a router that is not last, or missing', () => {
    const noRouter = bootstrap([listener({ routes })], [staticCluster('production', 1)]).replace(/\n {10}- name: envoy\.filters\.http\.router\n.*/, '');
    rejects(noRouter, /http_filters must end with envoy\.filters\.http\.router/);
  });
  it('a cluster without endpoints', () => {
    rejects(bootstrap([listener({ routes })], ['\n  - name: production\n    type: STATIC']), /static_resources\.clusters\[0\]: cluster "production" has no endpoints/);
  });
  it('--resolve naming an unknown cluster, or not HOST:PORT', () => {
    rejects(bootstrap([listener({ routes })], [staticCluster('production', 1)]), /--resolve: no cluster named "nope"/, { resolve: { nope: '127.0.0.1:1' } });
    rejects(bootstrap([listener({ routes })], [staticCluster('production', 1)]), /--resolve production: expected HOST:PORT/, { resolve: { production: 'localhost' } });
  });
  it('a port out of range', () => {
    rejects(bootstrap([listener({ routes })], [staticCluster('production', 70000)]), /socket_address\.port_value: expected an integer in \[0, 65535\], got number 70000/);
  });
  it('a missing file', () => {
    assert.throws(() => loadEnvoyConfig(`${tmp.dir}/none.yaml`), /none\.yaml: \(file\): cannot read/);
  });
});
