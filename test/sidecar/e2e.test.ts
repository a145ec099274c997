// End to end with the real filter (build/shadowmesh.wasm), the real collector
// process and real model servers, from the same envoy/*.yaml real Envoy uses.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningSidecar, startSidecar } from '../../src/sidecar/index.js';
import { FILTER_WASM, REPO, type Upstream, getJson, requireFilterWasm, runCli, send, spawnCli, startUpstream, until } from './helpers.js';

requireFilterWasm();

interface PairSide {
  id: string;
  role: string;
  status: number;
  request_body?: string;
  response_body?: string;
}
interface Pair {
  id: string;
  production: PairSide | null;
  shadow: PairSide | null;
}

function model(version: string): Promise<Upstream> {
  return startUpstream((r, res) => {
    res.setHeader('content-type', 'application/json');
    const x = (JSON.parse(r.body || '{}') as { x?: number }).x ?? 0;
    res.end(JSON.stringify({ version, score: x * 2 }));
  });
}

describe('filter-driven mirroring with envoy/envoy.yaml', () => {
  let prod: Upstream;
  let shadow: Upstream;
  let collector: Awaited<ReturnType<typeof spawnCli>>;
  let sc: RunningSidecar;
  before(async () => {
    prod = await model('v1');
    shadow = await model('v2');
    collector = await spawnCli(['collector', '--port', '0', '--db', ':memory:']);
    sc = await startSidecar({
      envoyConfigPath: `${REPO}envoy/envoy.yaml`,
      wasmPath: FILTER_WASM,
      listenAddress: '127.0.0.1',
      listenerPorts: { ingress: 0 },
      adminPort: 0,
      resolve: { production: `127.0.0.1:${prod.port}`, shadow: `127.0.0.1:${shadow.port}`, collector: new URL(collector.url).host },
      log: () => {},
    });
  });
  after(async () => {
    await sc?.close();
    await collector?.stop();
    await prod?.close();
    await shadow?.close();
  });

  it('answers from production, mirrors to the shadow with the same correlation id, and the collector joins both', async () => {
    const n = 10;
    for (let i = 0; i < n; i++) {
      const r = await send(sc.port, '/predict', { method: 'POST', body: JSON.stringify({ x: i }), headers: { 'content-type': 'application/json' } });
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body), { version: 'v1', score: i * 2 });
    }
    await shadow.waitFor(n);
    for (let i = 0; i < n; i++) {
      const p = prod.requests[i]!;
      const id = p.headers['x-shadow-correlation-id'] as string;
      assert.match(id, /^[0-9a-f-]{32,36}$/);
      assert.equal(p.headers['x-shadow-request'], undefined, 'production never carries the marker');
      const copy = shadow.requests.find((s) => s.headers['x-shadow-correlation-id'] === id);
      assert.ok(copy, `shadow copy of ${id}`);
      assert.equal(copy.headers['x-shadow-request'], '1');
      assert.equal(copy.body, p.body, 'the body is mirrored');
    }
    // Records reach the real collector, which joins them into pairs.
    const ids = prod.requests.map((p) => p.headers['x-shadow-correlation-id'] as string);
    let stats: { total: { pairs: number } } = { total: { pairs: 0 } };
    const deadline = Date.now() + 8000;
    while (stats.total.pairs < n && Date.now() < deadline) {
      stats = await getJson(`${collector.url}/v1/stats`);
      if (stats.total.pairs < n) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(stats.total.pairs, n);
    const pair = await getJson<Pair>(`${collector.url}/v1/pairs/${ids[3]}`);
    assert.equal(pair.production?.status, 200);
    assert.equal(pair.shadow?.status, 200);
    assert.deepEqual(JSON.parse(pair.production!.response_body!), { version: 'v1', score: 6 });
    assert.deepEqual(JSON.parse(pair.shadow!.response_body!), { version: 'v2', score: 6 });
  });

  it('leaves requests outside the configured routes untouched', async () => {
    // The filter starts its copy (an http_call to the shadow cluster, counted when it
    // opens) before production answers, so once the response is here the count is
    // final: no waiting for something not to happen.
    const copies = (): number => sc.stats()['cluster.shadow.upstream_rq_total'] ?? NaN;
    const before = copies();
    const r = await send(sc.port, '/health');
    assert.equal(r.status, 200);
    assert.equal(prod.requests.at(-1)!.headers['x-shadow-correlation-id'], undefined);
    assert.equal(copies(), before);
    // The same count does move for a routed request (so the check above can fail).
    await send(sc.port, '/predict', { method: 'POST', body: '{"x":1}' });
    assert.equal(copies(), before + 1);
  });
});

describe('Envoy-mirror mode with envoy/envoy-mirror.yaml (filter on both sides)', () => {
  it('production and shadow sidecars both record, with one correlation id', async () => {
    const prod = await model('v1');
    const shadow = await model('v2');
    const records: Array<{ id: string; role: string; status: number; request_body?: string; source?: string }> = [];
    const capture = await startUpstream((r, res) => {
      records.push(...(JSON.parse(r.body) as typeof records));
      res.setHeader('content-type', 'application/json');
      res.end('{"accepted":1,"rejected":0,"errors":[]}');
    });
    const sc = await startSidecar({
      envoyConfigPath: `${REPO}envoy/envoy-mirror.yaml`,
      wasmPath: FILTER_WASM,
      listenAddress: '127.0.0.1',
      listenerPorts: { ingress: 0, shadow_inbound: 0 },
      adminPort: 0,
      resolve: { production: `127.0.0.1:${prod.port}`, shadow: `127.0.0.1:${shadow.port}`, collector: `127.0.0.1:${capture.port}` },
      log: () => {},
    });
    try {
      const n = 5;
      for (let i = 0; i < n; i++) {
        const r = await send(sc.port, '/predict', { method: 'POST', body: JSON.stringify({ x: i }), headers: { host: 'model:8080' } });
        assert.deepEqual(JSON.parse(r.body), { version: 'v1', score: i * 2 });
      }
      await shadow.waitFor(n);
      for (const copy of shadow.requests) {
        assert.equal(copy.headers.host, 'model-shadow:8080');
        assert.ok(copy.headers['x-shadow-correlation-id']);
      }
      await until(() => records.length >= 2 * n, 8000);
      for (const p of prod.requests) {
        const id = p.headers['x-shadow-correlation-id'] as string;
        const sides = records.filter((r) => r.id === id).map((r) => r.role).sort();
        assert.deepEqual(sides, ['production', 'shadow']);
      }
      // The bootstrap's node.id reaches the records as their source.
      assert.ok(records.every((r) => r.source === 'model-mirror-sidecar'), JSON.stringify(records[0]));
    } finally {
      await sc.close();
      await capture.close();
      await prod.close();
      await shadow.close();
    }
  });
});

describe('shadowmesh sidecar (CLI)', () => {
  it('starts from envoy/envoy.yaml with overrides and proxies', async () => {
    const prod = await model('v1');
    const cli = await spawnCli([
      'sidecar', '--envoy-config', 'envoy/envoy.yaml', '--wasm', 'build/shadowmesh.wasm', '--listen-address', '127.0.0.1', '--port', '0', '--admin-port', '0',
      '--resolve', `production=127.0.0.1:${prod.port}`, '--resolve', 'shadow=127.0.0.1:1', '--resolve', 'collector=127.0.0.1:1',
    ]);
    try {
      const r = await send(Number(new URL(cli.url).port), '/predict', { method: 'POST', body: '{"x":2}' });
      assert.deepEqual(JSON.parse(r.body), { version: 'v1', score: 4 });
    } finally {
      await cli.stop();
      await prod.close();
    }
  });

  it('exits 2 with the YAML path on a configuration error', async () => {
    const r = await runCli(['sidecar', '--envoy-config', 'envoy/envoy.yaml', '--wasm', 'does/not/exist.wasm']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /static_resources\.listeners\[0\].*vm_config\.code\.local\.filename: wasm file not found/);
  });

  it('exits 2 on an unknown --resolve cluster', async () => {
    const r = await runCli(['sidecar', '--envoy-config', 'envoy/envoy.yaml', '--wasm', 'build/shadowmesh.wasm', '--resolve', 'nope=127.0.0.1:1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--resolve: no cluster named "nope"/);
  });
});
