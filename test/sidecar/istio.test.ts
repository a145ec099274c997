// The Istio and Docker files under envoy/: each plugin configuration they carry
// is accepted by the real filter (proxy_on_configure), and the mirroring and
// image layout Istio needs are there.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments, parseDocument } from 'yaml';
import { PluginHost, realClock } from '../../src/host/index.js';
import { FILTER_WASM, REPO, hasFilter } from './helpers.js';

const skip = hasFilter ? false : 'build/shadowmesh.wasm is missing (npm run build:wasm)';

function docs(file: string): Array<Record<string, any>> {
  return parseAllDocuments(readFileSync(`${REPO}envoy/istio/${file}`, 'utf8')).map((d) => {
    assert.equal(d.errors.length, 0, `${file}: ${d.errors[0]?.message}`);
    return d.toJS() as Record<string, any>;
  });
}

async function configures(configuration: string): Promise<void> {
  const errors: string[] = [];
  const host = await PluginHost.load(readFileSync(FILTER_WASM), {
    name: 'shadowmesh',
    rootId: 'shadowmesh',
    configuration,
    env: {
      clusters: { has: () => true },
      httpCall: () => false,
      clock: realClock,
      log: (level, message) => {
        if (level === 'error' || level === 'critical') errors.push(message);
      },
      logLevel: 'info',
    },
  });
  host.close();
  assert.deepEqual(errors, []);
}

describe('envoy/istio', () => {
  it('WasmPlugin pluginConfigs are accepted by the filter', { skip }, async () => {
    const plugins = [...docs('wasmplugin.yaml'), ...docs('wasmplugin-mirror.yaml')];
    assert.equal(plugins.length, 3);
    for (const p of plugins) {
      assert.equal(p.kind, 'WasmPlugin');
      assert.match(p.spec.url, /^oci:\/\//);
      assert.equal(p.spec.failStrategy, 'FAIL_OPEN');
      await configures(JSON.stringify(p.spec.pluginConfig));
    }
    const [driven] = docs('wasmplugin.yaml');
    assert.match(driven!.spec.pluginConfig.shadow_cluster, /^outbound\|8080\|\|/);
    const [callers, shadowSide] = docs('wasmplugin-mirror.yaml');
    assert.equal(callers!.spec.match[0].mode, 'CLIENT');
    assert.equal(callers!.spec.pluginConfig.shadow_cluster, undefined, 'mirror mode only tags');
    assert.equal(shadowSide!.spec.pluginConfig.role, 'shadow');
  });

  it('EnvoyFilter inserts the wasm filter before the router with a StringValue configuration', { skip }, async () => {
    const [ef] = docs('envoyfilter.yaml');
    const patch = ef!.spec.configPatches[0];
    assert.equal(patch.applyTo, 'HTTP_FILTER');
    assert.equal(patch.patch.operation, 'INSERT_BEFORE');
    assert.equal(patch.match.listener.filterChain.filter.subFilter.name, 'envoy.filters.http.router');
    const config = patch.patch.value.typed_config.config;
    assert.equal(config.vm_config.runtime, 'envoy.wasm.runtime.v8');
    assert.equal(config.configuration['@type'], 'type.googleapis.com/google.protobuf.StringValue');
    await configures(config.configuration.value);
  });

  it('VirtualService mirrors to the v2 subset with a percentage', () => {
    const [vs] = docs('virtualservice.yaml');
    const dr = docs('models.yaml').find((d) => d.kind === 'DestinationRule');
    assert.deepEqual(dr!.spec.subsets.map((s: { name: string }) => s.name), ['v1', 'v2']);
    assert.equal(vs!.spec.http[0].mirror.subset, 'v2');
    assert.equal(typeof vs!.spec.http[0].mirrorPercentage.value, 'number');
  });

  it('the OCI image is FROM scratch with plugin.wasm', () => {
    const text = readFileSync(`${REPO}envoy/istio/Dockerfile`, 'utf8');
    assert.match(text, /^FROM scratch$/m);
    assert.match(text, /^COPY build\/shadowmesh\.wasm \.\/plugin\.wasm$/m);
  });

  it('docker-compose.yml mounts envoy/envoy.yaml and the filter where envoy.yaml expects it', () => {
    const compose = parseDocument(readFileSync(`${REPO}docker-compose.yml`, 'utf8'), { merge: true }).toJS() as Record<string, any>;
    const envoy = compose.services.envoy;
    assert.match(envoy.image, /^envoyproxy\/envoy:/);
    assert.ok(envoy.volumes.includes('./envoy/envoy.yaml:/etc/envoy/envoy.yaml:ro'));
    assert.ok(envoy.volumes.includes('./build/shadowmesh.wasm:/etc/shadowmesh/shadowmesh.wasm:ro'));
    assert.match(readFileSync(`${REPO}envoy/envoy.yaml`, 'utf8'), /filename: \/etc\/shadowmesh\/shadowmesh\.wasm/);
    // Service names are the cluster hostnames in envoy.yaml.
    for (const name of ['production', 'shadow', 'collector']) assert.ok(compose.services[name], name);
    assert.ok(compose.services.collector.command.includes('0.0.0.0'));
  });
});
