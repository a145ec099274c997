// A collector_cluster without an endpoint: one warning at start, and each call
// the filter makes to it counted in the admin /stats (sidecar.collector_no_endpoint),
// with the real filter. A collector cluster that has its endpoint stays quiet.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { FILTER_WASM, bootstrap, getJson, listener, send, staticCluster, testScope, until, wasmFilter } from './helpers.js';

const scope = testScope();
const ROUTES = '\n              - match: { prefix: "/" }\n                route: { cluster: production }';
const dnsCluster = (name: string, host: string) => `
  - name: ${name}
    type: STRICT_DNS
    connect_timeout: 1s
    load_assignment:
      cluster_name: ${name}
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: ${host}, port_value: 8700 } } }`;

async function stat(adminPort: number, name: string): Promise<number> {
  const body = await getJson<{ stats: Array<{ name: string; value: number }> }>(`http://127.0.0.1:${adminPort}/stats?format=json`);
  return body.stats.find((s) => s.name === name)?.value ?? NaN;
}

test('build/shadowmesh.wasm exists (run npm run build:wasm)', () => {
  assert.ok(existsSync(FILTER_WASM), `${FILTER_WASM} is missing: run npm run build:wasm`);
});

test('a collector cluster that resolves to nothing: warned once at start, each dropped call counted in /stats', async () => {
  const prod = await scope.upstream();
  const lines: string[] = [];
  const cfg = JSON.stringify({ batch_max_records: 1, flush_interval_ms: 50, collector_cluster: 'records' });
  const sc = await scope.sidecar(
    bootstrap([listener({ routes: ROUTES, filters: wasmFilter(FILTER_WASM, cfg) })], [staticCluster('production', prod.port), dnsCluster('records', 'collector.invalid')], true),
    { log: (l) => lines.push(l), adminPort: 0 },
  );
  const warnings = lines.filter((l) => l.includes('collector_cluster'));
  assert.equal(warnings.length, 1, lines.join('\n'));
  assert.match(warnings[0]!, /collector_cluster "records" has no endpoint .*records will be dropped .*sidecar\.collector_no_endpoint.*--resolve records=127\.0\.0\.1:8700/);
  assert.equal(await stat(sc.adminPort!, 'sidecar.collector_no_endpoint'), 0);
  for (let i = 0; i < 3; i++) assert.equal((await send(sc.port, `/r${i}`)).status, 200);
  await until(() => (sc.stats()['sidecar.collector_no_endpoint'] ?? 0) >= 3);
  assert.ok((await stat(sc.adminPort!, 'sidecar.collector_no_endpoint')) >= 3);
  assert.equal(lines.filter((l) => l.includes('collector_cluster')).length, 1, 'warned once, not per call');
});

test('a collector_cluster that is not in the file is warned about; one with an endpoint is not', async () => {
  const prod = await scope.upstream();
  const collector = await scope.upstream();
  const lines: string[] = [];
  await scope.sidecar(
    bootstrap([listener({ routes: ROUTES, filters: wasmFilter(FILTER_WASM, JSON.stringify({ collector_cluster: 'nowhere' })) })], [staticCluster('production', prod.port)]),
    { log: (l) => lines.push(l) },
  );
  assert.equal(lines.filter((l) => /collector_cluster "nowhere" is not a cluster of this file/.test(l)).length, 1, lines.join('\n'));
  const quiet: string[] = [];
  // No collector_cluster key: the default name "collector", here with an endpoint.
  await scope.sidecar(
    bootstrap([listener({ routes: ROUTES, filters: wasmFilter(FILTER_WASM, '{}') })], [staticCluster('production', prod.port), staticCluster('collector', collector.port)]),
    { log: (l) => quiet.push(l) },
  );
  assert.deepEqual(quiet.filter((l) => l.includes('collector_cluster')), []);
});
