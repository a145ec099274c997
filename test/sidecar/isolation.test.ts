// A shadow that is slow, failing or gone, or a collector that is down, never
// changes what production callers get: each scenario sends 20 concurrent
// requests through the real filter and checks every status and body.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningSidecar, startSidecar } from '../../src/sidecar/index.js';
import { FILTER_WASM, REPO, type Upstream, deadPort, requireFilterWasm, send, startUpstream, until } from './helpers.js';

requireFilterWasm();
const N = 20;

describe('production isolation (filter-driven, envoy/envoy.yaml)', () => {
  let prod: Upstream;
  let collector: Upstream;
  const toClose: Array<{ close(): Promise<void> }> = [];
  before(async () => {
    prod = await startUpstream((r, res) => {
      res.setHeader('content-type', 'application/json');
      // Production's own status and body, different per request.
      res.writeHead(r.url.endsWith('/teapot') ? 418 : 200);
      res.end(JSON.stringify({ echo: r.body }));
    });
    collector = await startUpstream((_r, res) => res.end('{"accepted":0,"rejected":0,"errors":[]}'));
  });
  after(async () => {
    for (const c of toClose.reverse()) await c.close();
    await prod.close();
    await collector.close();
  });

  async function sidecarWith(shadowAddr: string, collectorAddr: string): Promise<RunningSidecar> {
    const sc = await startSidecar({
      envoyConfigPath: `${REPO}envoy/envoy.yaml`,
      wasmPath: FILTER_WASM,
      listenAddress: '127.0.0.1',
      listenerPorts: { ingress: 0 },
      adminPort: 0,
      resolve: { production: `127.0.0.1:${prod.port}`, shadow: shadowAddr, collector: collectorAddr },
      log: () => {},
    });
    toClose.push(sc);
    return sc;
  }

  async function burst(sc: RunningSidecar): Promise<void> {
    const replies = await Promise.all(
      Array.from({ length: N }, (_, i) => send(sc.port, i % 5 === 0 ? '/predict/teapot' : '/predict', { method: 'POST', body: `{"i":${i}}` })),
    );
    replies.forEach((r, i) => {
      assert.equal(r.status, i % 5 === 0 ? 418 : 200, `request ${i}`);
      assert.deepEqual(JSON.parse(r.body), { echo: `{"i":${i}}` });
      assert.equal(r.headers['x-shadow-request'], undefined);
    });
  }

  it('shadow that does not answer until released', async () => {
    // The shadow holds every copy until the test lets go, so "production answered
    // while the copies were outstanding" is a fact of ordering, not of speed.
    const held: Array<() => void> = [];
    const slow = await startUpstream((_r, res) => {
      held.push(() => res.end('{"slow":true}'));
    });
    toClose.push(slow);
    const sc = await sidecarWith(`127.0.0.1:${slow.port}`, `127.0.0.1:${collector.port}`);
    await burst(sc);
    await slow.waitFor(N);
    assert.ok(sc.stats()['wasm.shadowmesh.pending_http_calls']! > 0, 'copies outstanding after every production answer');
    for (const release of held.splice(0)) release();
    await until(() => sc.stats()['wasm.shadowmesh.pending_http_calls'] === 0);
  });

  it('shadow answering 500', async () => {
    const failing = await startUpstream((_r, res) => {
      res.writeHead(500);
      res.end('boom');
    });
    toClose.push(failing);
    const sc = await sidecarWith(`127.0.0.1:${failing.port}`, `127.0.0.1:${collector.port}`);
    await burst(sc);
    await failing.waitFor(N);
  });

  it('shadow refusing connections: production unaffected, and each copy is recorded as status 0 / reset', async () => {
    // Its own collector, so only this scenario's records arrive there.
    const own = await startUpstream((_r, res) => res.end('{"accepted":0,"rejected":0,"errors":[]}'));
    toClose.push(own);
    const sc = await sidecarWith(`127.0.0.1:${await deadPort()}`, `127.0.0.1:${own.port}`);
    await burst(sc);
    // Envoy answers a copy it cannot connect with a 503 local reply; the filter
    // reads that as "the shadow never answered".
    const shadowRecords = (): Array<{ status: number; error?: string }> =>
      own.requests.flatMap((r) => JSON.parse(r.body) as Array<{ role: string; status: number; error?: string }>).filter((x) => x.role === 'shadow');
    await until(() => shadowRecords().length >= N, 5000);
    assert.equal(shadowRecords().length, N);
    for (const rec of shadowRecords()) {
      assert.equal(rec.status, 0);
      assert.equal(rec.error, 'reset');
    }
  });

  it('collector down', async () => {
    const shadow = await startUpstream((r, res) => res.end(r.body));
    toClose.push(shadow);
    const sc = await sidecarWith(`127.0.0.1:${shadow.port}`, `127.0.0.1:${await deadPort()}`);
    await burst(sc);
    await shadow.waitFor(N);
  });
});

describe('production isolation (Envoy-mirror mode, envoy/envoy-mirror.yaml)', () => {
  it('a slow shadow behind the shadow sidecar and a dead collector change nothing for production', async () => {
    const prod = await startUpstream((r, res) => res.end(`prod ${r.body}`));
    const slow = await startUpstream((_r, res) => {
      const t = setTimeout(() => res.end('late'), 2000);
      res.on('close', () => clearTimeout(t));
    });
    const sc = await startSidecar({
      envoyConfigPath: `${REPO}envoy/envoy-mirror.yaml`,
      wasmPath: FILTER_WASM,
      listenAddress: '127.0.0.1',
      listenerPorts: { ingress: 0, shadow_inbound: 0 },
      adminPort: 0,
      resolve: { production: `127.0.0.1:${prod.port}`, shadow: `127.0.0.1:${slow.port}`, collector: `127.0.0.1:${await deadPort()}` },
      log: () => {},
    });
    try {
      const replies = await Promise.all(Array.from({ length: N }, (_, i) => send(sc.port, '/predict', { method: 'POST', body: `b${i}` })));
      replies.forEach((r, i) => {
        assert.equal(r.status, 200);
        assert.equal(r.body, `prod b${i}`);
      });
      await slow.waitFor(N);
    } finally {
      await sc.close();
      await prod.close();
      await slow.close();
    }
  });
});
