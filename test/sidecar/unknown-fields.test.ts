// Unknown fields in the bootstrap are refused as real Envoy refuses them (its
// bootstrap is parsed strictly), naming the path; fields Envoy knows and the
// sidecar does not implement are only listed for the start-up warning.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { ConfigError, parseEnvoyConfig } from '../../src/sidecar/index.js';
import { EMPTY_WASM, REPO, ROUTER_TYPE, bootstrap, listener, runCli, staticCluster, tempDir, wasmFilter, writeFile } from './helpers.js';

const tmp = tempDir();
after(() => tmp.cleanup());
const wasmFile = writeFile(tmp.dir, 'filter.wasm', EMPTY_WASM);
const sourcePath = `${tmp.dir}/envoy.yaml`;
const ROUTES = '\n              - match: { prefix: "/" }\n                route: { cluster: production }';
const base = (opts: { cluster?: string; filters?: string; top?: string } = {}) =>
  `${opts.top ?? ''}${bootstrap([listener({ routes: ROUTES, filters: opts.filters ?? wasmFilter(wasmFile, '{}') })], [staticCluster('production', 8001, opts.cluster ?? '')])}`;

const parse = (yaml: string) => parseEnvoyConfig(yaml, { sourcePath });

function unknown(yaml: string, path: string, detail: RegExp): void {
  assert.throws(
    () => parse(yaml),
    (err: Error) => {
      assert.ok(err instanceof ConfigError, `${err.name}: ${err.message}`);
      assert.equal(err.yamlPath, path);
      assert.match(err.message, detail);
      return true;
    },
  );
}

describe('unknown fields', () => {
  it('a typo in a cluster names the path, the message and the near miss', () => {
    unknown(
      base({ cluster: '\n    conect_timeout: 1s' }),
      'static_resources.clusters[0].conect_timeout',
      /unknown field "conect_timeout" in envoy\.config\.cluster\.v3\.Cluster; Envoy rejects this file \(did you mean "connect_timeout"\?\)/,
    );
  });

  it('at the top level, in an HCM typed_config, a route, and the wasm plugin config', () => {
    unknown(base({ top: 'admn: {}\n' }), 'admn', /in envoy\.config\.bootstrap\.v3\.Bootstrap.*did you mean "admin"/);
    const hcm = base().replace('stat_prefix: ingress', 'stat_prefx: ingress');
    unknown(hcm, 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.stat_prefx', /HttpConnectionManager.*did you mean "stat_prefix"/);
    const route = base().replace('route: { cluster: production }', 'route: { cluster: production, timout: 1s }');
    unknown(route, 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route.timout', /RouteAction/);
    const plugin = base().replace('fail_open: true', 'fail_open: true\n                failure_polcy: FAIL_OPEN');
    unknown(
      plugin,
      'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config.failure_polcy',
      /envoy\.extensions\.wasm\.v3\.PluginConfig.*did you mean "failure_policy"/,
    );
    const router = base().replace(`typed_config: { "@type": ${ROUTER_TYPE} }`, `typed_config: { "@type": ${ROUTER_TYPE}, supress_envoy_headers: true }`);
    unknown(router, 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[1].typed_config.supress_envoy_headers', /Router/);
    unknown(base().replace('address: 127.0.0.1, port_value: 8001', 'address: 127.0.0.1, port_value: 8001, protocl: TCP'), 'static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.protocl', /SocketAddress.*did you mean "protocol"/);
  });

  it('a JSON camelCase name is refused with the proto name to write', () => {
    unknown(base({ cluster: '\n    dnsRefreshRate: 1s' }), 'static_resources.clusters[0].dnsRefreshRate', /write "dns_refresh_rate"/);
  });

  it('known but unimplemented fields only warn (capability_restriction_config); failure_policy is read, not warned', () => {
    const yaml = base({ cluster: '\n    circuit_breakers: { per_host_thresholds: [] }\n    outlier_detection: {}' })
      .replace('fail_open: true', 'failure_policy: FAIL_OPEN\n                capability_restriction_config: {}')
      .replace('stat_prefix: ingress', 'stat_prefix: ingress\n          use_remote_address: true');
    const c = parse(yaml);
    for (const f of [
      'static_resources.clusters[*].circuit_breakers.per_host_thresholds',
      'static_resources.clusters[*].outlier_detection',
      'static_resources.listeners[*].filter_chains[*].filters[*].typed_config.http_filters[*].typed_config.config.capability_restriction_config',
      'static_resources.listeners[*].filter_chains[*].filters[*].typed_config.use_remote_address',
    ]) {
      assert.ok(c.unimplemented.includes(f), `${f} in ${c.unimplemented.join(', ')}`);
    }
    assert.ok(!c.unimplemented.some((f) => f.endsWith('.failure_policy')), c.unimplemented.join(', '));
  });

  it('what the sidecar cannot know is not checked: an optional filter of another type, node metadata', () => {
    const optional = `
          - name: some.other.filter
            is_optional: true
            typed_config: { "@type": type.googleapis.com/some.Other, anything: 1 }`;
    const c = parse(base({ top: 'node:\n  id: n\n  metadata: { free_form_key: x }\n', filters: optional + wasmFilter(wasmFile, '{}') }));
    assert.ok(c.unimplemented.some((u) => u.includes('some.other.filter')));
  });

  it('the shipped bootstrap files have no unknown field', () => {
    for (const f of ['envoy/envoy.yaml', 'envoy/envoy-mirror.yaml']) {
      assert.doesNotThrow(() => parseEnvoyConfig(readFileSync(`${REPO}${f}`, 'utf8'), { sourcePath: `${REPO}${f}`, overrides: { wasmPath: wasmFile } }), f);
    }
  });

  it('the CLI exits 2 with one line naming the file and the path', async () => {
    const file = writeFile(tmp.dir, 'typo.yaml', base({ cluster: '\n    conect_timeout: 1s' }));
    const r = await runCli(['sidecar', '--envoy-config', file]);
    assert.equal(r.code, 2);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, new RegExp(`^shadowmesh sidecar: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: static_resources\\.clusters\\[0\\]\\.conect_timeout: unknown field`));
  });
});
