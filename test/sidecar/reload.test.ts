// Reloading the sidecar's configuration mid-traffic replaces the shadowmesh plugin the way
// Envoy/Istio do; the old root's delayed done (proxy_on_done false … proxy_done) means every
// record made before the reload still reaches the collector, even for copies in flight.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { startSidecar } from '../../src/sidecar/index.js';
import { FILTER_WASM, bootstrap, requireFilterWasm, listener, send, staticCluster, testScope, until, wasmFilter, writeFile } from './helpers.js';

requireFilterWasm();
const scope = testScope();
const ROUTE = '\n              - match: { prefix: "/" }\n                route: { cluster: production }';

interface Rec { id: string; role: string; status: number }

describe('sidecar configuration reload', () => {
  it('records queued and copies in flight before the reload all reach the collector; new streams use the new plugin', async () => {
    const prod = await scope.upstream((_r, res) => res.end('prod'));
    const held: ServerResponse[] = [];
    const shadow = await scope.upstream((_r, res) => held.push(res));
    const records: Rec[] = [];
    const collector = await scope.upstream((r, res) => {
      records.push(...(JSON.parse(r.body) as Rec[]));
      res.setHeader('content-type', 'application/json');
      res.end('{"accepted":1,"rejected":0,"errors":[]}');
    });
    const yaml = (cfg: object): string => bootstrap(
      [listener({ routes: ROUTE, filters: wasmFilter(FILTER_WASM, JSON.stringify(cfg)) })],
      [staticCluster('production', prod.port), staticCluster('shadow', shadow.port), staticCluster('collector', collector.port)],
    );
    // Before: records wait for a tick a minute away, so they are queued when the reload comes.
    const path = writeFile(scope.dir, 'reload.yaml', yaml({ shadow_cluster: 'shadow', flush_interval_ms: 60000, batch_max_records: 1000 }));
    const sc = scope.track(await startSidecar({ envoyConfigPath: path, log: () => {} }));
    const n = 8;
    for (let i = 0; i < n; i++) assert.equal((await send(sc.port, `/before/${i}`)).body, 'prod');
    await shadow.waitFor(n);
    const before = prod.requests.map((r) => r.headers['x-shadow-correlation-id'] as string);
    assert.equal(records.length, 0, 'nothing sent yet');

    writeFile(scope.dir, 'reload.yaml', yaml({ shadow_cluster: 'shadow', flush_interval_ms: 50 }));
    const reloaded = sc.reload();
    // on_done flushed the queued production records; the root waits for its copies.
    await until(() => records.length >= n);
    assert.deepEqual(records.map((r) => r.role), Array(n).fill('production'));
    assert.equal(sc.stats()['wasm.shadowmesh.pending_http_calls'], 0, 'stats show the new plugin');
    // A request after the reload goes through the new plugin.
    assert.equal((await send(sc.port, '/after')).body, 'prod');
    await shadow.waitFor(n + 1);
    for (const res of held.splice(0)) res.end('shadow');
    await reloaded;
    for (const id of before) {
      assert.deepEqual(records.filter((r) => r.id === id).map((r) => r.role).sort(), ['production', 'shadow'], id);
    }
    const afterId = prod.requests[n]!.headers['x-shadow-correlation-id'] as string;
    await until(() => records.filter((r) => r.id === afterId).length === 2);
  });

  it('a reload whose new plugin configuration is invalid is refused and the old plugin keeps working', async () => {
    const prod = await scope.upstream((_r, res) => res.end('prod'));
    const records: Rec[] = [];
    const collector = await scope.upstream((r, res) => {
      records.push(...(JSON.parse(r.body) as Rec[]));
      res.end('{}');
    });
    const yaml = (cfg: object): string => bootstrap(
      [listener({ routes: ROUTE, filters: wasmFilter(FILTER_WASM, JSON.stringify(cfg)) })],
      [staticCluster('production', prod.port), staticCluster('collector', collector.port)],
    );
    const path = writeFile(scope.dir, 'bad-reload.yaml', yaml({ flush_interval_ms: 50 }));
    const lines: string[] = [];
    const sc = scope.track(await startSidecar({ envoyConfigPath: path, log: (l) => lines.push(l) }));
    writeFile(scope.dir, 'bad-reload.yaml', yaml({ flush_interval_ms: 50, max_body_bytes: 'lots' }));
    await assert.rejects(sc.reload(), /proxy_on_configure returned false/);
    assert.ok(lines.some((l) => l.includes('"max_body_bytes"')), lines.join('\n'));
    await send(sc.port, '/still');
    await until(() => records.length === 1);
    assert.equal(records[0]!.role, 'production');
  });
});
