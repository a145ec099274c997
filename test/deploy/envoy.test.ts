// The Envoy bootstraps under envoy/: each one is read by the local sidecar's
// config reader (the same files real Envoy runs in docker-compose.yml), uses
// Envoy's current field names, and carries plugin configurations the filter
// itself accepts, naming only clusters the bootstrap defines.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { ConfigError, loadEnvoyConfig, parseEnvoyConfig } from '../../src/sidecar/index.js';
import type { WasmFilterConfig } from '../../src/sidecar/config/model.js';
import { EMPTY_WASM, bootstrap, listener, staticCluster, tempDir, writeFile } from '../sidecar/helpers.js';
import { REPO, assertAccepted, requireFilterWasm } from './support.js';

const tmp = tempDir();
after(() => tmp.cleanup());
const anyWasm = writeFile(tmp.dir, 'filter.wasm', EMPTY_WASM);
// Every Envoy bootstrap the project ships: envoy/*.yaml and the examples that are bootstraps.
const BOOTSTRAPS = [
  ...readdirSync(`${REPO}envoy`).filter((f) => f.endsWith('.yaml')).map((f) => `envoy/${f}`),
  ...readdirSync(`${REPO}examples`).filter((f) => f.endsWith('.yaml') && /^static_resources:/m.test(readFileSync(`${REPO}examples/${f}`, 'utf8'))).map((f) => `examples/${f}`),
].sort();

function wasmFilters(file: string): WasmFilterConfig[] {
  const c = loadEnvoyConfig(`${REPO}${file}`, { wasmPath: anyWasm });
  return c.listeners.flatMap((l) => l.hcm.httpFilters.filter((f): f is WasmFilterConfig => f.kind === 'wasm'));
}

describe('the Envoy bootstraps', () => {
  it('include envoy/envoy.yaml and envoy/envoy-mirror.yaml', () => {
    for (const f of ['envoy/envoy-mirror.yaml', 'envoy/envoy.yaml']) assert.ok(BOOTSTRAPS.includes(f), f);
  });

  for (const file of BOOTSTRAPS) {
    it(`${file} is read by the sidecar with nothing left unimplemented`, () => {
      const c = loadEnvoyConfig(`${REPO}${file}`, { wasmPath: anyWasm });
      assert.deepEqual(c.unimplemented, []);
      assert.ok(wasmFilters(file).length > 0, 'runs the filter');
    });

    it(`${file} uses failure_policy, not the deprecated fail_open`, () => {
      const text = readFileSync(`${REPO}${file}`, 'utf8');
      assert.doesNotMatch(text, /^\s*fail_open:/m);
      for (const f of wasmFilters(file)) assert.equal(f.failOpen, true, `${f.yamlPath}: FAIL_OPEN never breaks production`);
    });

    it(`${file}: every plugin configuration is accepted by the filter and names defined clusters`, async () => {
      requireFilterWasm();
      const c = loadEnvoyConfig(`${REPO}${file}`, { wasmPath: anyWasm });
      const clusters = [...c.clusters.keys()];
      for (const f of wasmFilters(file)) {
        assert.ok(f.configuration, `${f.yamlPath} has a configuration`);
        await assertAccepted(`${file} ${f.yamlPath}`, f.configuration, clusters);
        const cfg = JSON.parse(f.configuration) as Record<string, unknown>;
        for (const key of ['shadow_cluster', 'baseline_cluster', 'collector_cluster']) {
          const name = cfg[key] ?? (key === 'collector_cluster' ? 'collector' : undefined);
          if (typeof name === 'string') assert.ok(c.clusters.has(name), `${f.yamlPath}: ${key} "${name}" is a cluster of ${file}`);
        }
      }
    });
  }

  it('envoy.yaml has production, shadow, baseline and collector clusters on the compose ports', () => {
    const c = loadEnvoyConfig(`${REPO}envoy/envoy.yaml`, { wasmPath: anyWasm });
    const endpoints = Object.fromEntries([...c.clusters].map(([name, cl]) => [name, cl.endpoints.map((e) => `${e.address}:${e.port}`)]));
    assert.deepEqual(endpoints, {
      production: ['production:8001'],
      shadow: ['shadow:8002'],
      baseline: ['baseline:8003'],
      collector: ['collector:8700'],
    });
  });
});

describe('the sidecar reads failure_policy as Envoy does', () => {
  const sourcePath = `${tmp.dir}/envoy.yaml`;
  function withPolicy(lines: string): string {
    const filter = `
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: shadowmesh
                root_id: shadowmesh${lines}
                vm_config:
                  runtime: envoy.wasm.runtime.v8
                  code: { local: { filename: ${JSON.stringify(anyWasm)} } }`;
    return bootstrap([listener({ routes: '\n              - match: { prefix: "/" }\n                route: { cluster: production }', filters: filter })], [staticCluster('production', 1)]);
  }
  function failOpen(lines: string): boolean {
    const c = parseEnvoyConfig(withPolicy(lines), { sourcePath });
    assert.deepEqual(c.unimplemented, []);
    return (c.listeners[0]!.hcm.httpFilters[0] as WasmFilterConfig).failOpen;
  }
  function refused(lines: string, pattern: RegExp): void {
    assert.throws(() => parseEnvoyConfig(withPolicy(lines), { sourcePath }), (err: Error) => {
      assert.ok(err instanceof ConfigError, err.message);
      assert.match(err.message, pattern);
      return true;
    });
  }

  it('FAIL_OPEN fails open, FAIL_CLOSED and UNSPECIFIED fail closed (Envoy\'s default)', () => {
    assert.equal(failOpen('\n                failure_policy: FAIL_OPEN'), true);
    assert.equal(failOpen('\n                failure_policy: FAIL_CLOSED'), false);
    assert.equal(failOpen('\n                failure_policy: UNSPECIFIED'), false);
    assert.equal(failOpen(''), false);
  });

  it('the deprecated fail_open still works alone', () => {
    assert.equal(failOpen('\n                fail_open: true'), true);
    assert.equal(failOpen('\n                fail_open: false\n                failure_policy: FAIL_OPEN'), true);
  });

  it('refuses fail_open: true with a failure_policy, as Envoy does', () => {
    refused('\n                fail_open: true\n                failure_policy: FAIL_OPEN', /failure_policy: only one of fail_open or failure_policy/);
  });

  it('refuses FAIL_RELOAD (no VM reload here) and unknown policies, naming the YAML path', () => {
    refused('\n                failure_policy: FAIL_RELOAD', /config\.failure_policy: FAIL_RELOAD is not supported/);
    refused('\n                failure_policy: FAIL_SOMETIMES', /failure_policy: expected one of UNSPECIFIED, FAIL_CLOSED, FAIL_OPEN, FAIL_RELOAD/);
  });
});
