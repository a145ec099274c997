// Issue 8 end to end through the local sidecar with baseline_cluster set: three
// model servers (production v1, shadow v2, baseline v1), the real filter and a real
// collector process. Records of all three roles arrive, and a field that differs on
// every call (served_at) is learned as noise while a real difference still counts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { type RunningSidecar, startSidecar } from '../../src/sidecar/index.js';
import { FILTER_WASM, REPO, type Upstream, getJson, requireFilterWasm, send, spawnCli, startUpstream, tempDir, writeFile } from './helpers.js';

requireFilterWasm();

interface Noise { path: string; baseline_diffs: number; shadow_diffs: number; triples: number }
interface Route { production: number; shadow: number; baseline: number; pairs: number; noise: Noise[]; fields: { path: string; diffs: number }[]; match_rate: number | null; adjusted_match_rate: number | null }

let calls = 0;
/** A model: the score is the same in every version; served_at differs on every call; v2 labels x ≥ 30 differently. */
function model(version: string): Promise<Upstream> {
  return startUpstream((r, res) => {
    const x = (JSON.parse(r.body || '{}') as { x?: number }).x ?? 0;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ label: version === 'v2' && x >= 30 ? 'b' : 'a', score: x * 2, served_at: `${Date.now()}-${++calls}` }));
  });
}

describe('baseline copies through the local sidecar teach the collector its noise', () => {
  it('three roles reach the collector; served_at becomes noise, the label difference still counts', async () => {
    const tmp = tempDir();
    const prod = await model('v1');
    const shadow = await model('v2');
    const baseline = await model('v1');
    const collector = await spawnCli(['collector', '--port', '0', '--db', ':memory:']);
    let sc: RunningSidecar | undefined;
    try {
      sc = await startSidecar({
        envoyConfigPath: writeFile(tmp.dir, 'envoy.yaml', readFileSync(`${REPO}test/sidecar/fixtures/filter-driven-baseline.yaml`, 'utf8')),
        wasmPath: FILTER_WASM, listenAddress: '127.0.0.1', listenerPorts: { ingress: 0 }, adminPort: 0, log: () => {},
        resolve: {
          production: `127.0.0.1:${prod.port}`, shadow: `127.0.0.1:${shadow.port}`, baseline: `127.0.0.1:${baseline.port}`,
          collector: new URL(collector.url).host,
        },
      });
      const n = 40;
      for (let i = 0; i < n; i++) {
        const r = await send(sc.port, '/predict', { method: 'POST', body: JSON.stringify({ x: i }), headers: { 'content-type': 'application/json' } });
        assert.equal(r.status, 200);
        assert.equal((JSON.parse(r.body) as { label: string }).label, 'a', 'the caller sees production only');
      }
      await baseline.waitFor(n);
      await shadow.waitFor(n);
      const copy = baseline.requests[0]!;
      assert.equal(copy.headers['x-shadow-request'], '1');
      assert.equal(copy.headers['x-shadow-correlation-id'], prod.requests[0]!.headers['x-shadow-correlation-id']);
      let s: Route | undefined;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        s = (await getJson<{ routes: Record<string, Route> }>(`${collector.url}/v1/stats?route=predict`)).routes['predict'];
        if (s && s.production === n && s.shadow === n && s.baseline === n) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.ok(s, 'the route has stats');
      assert.deepEqual([s.production, s.shadow, s.baseline, s.pairs], [n, n, n, n], 'records of all three roles, every pair joined');
      const served = s.noise.find((x) => x.path === '/served_at');
      assert.ok(served, `served_at is noise: ${JSON.stringify(s.noise)}`);
      assert.equal(served.triples, n);
      assert.equal(served.baseline_diffs, n);
      assert.ok(!s.noise.some((x) => x.path === '/label'), 'the label never differs on the baseline: not noise');
      assert.deepEqual(s.fields.map((f) => f.path), ['/label'], 'fields lists only what is not noise');
      assert.equal(s.fields[0]!.diffs, 10);
      assert.equal(s.match_rate, 0, 'without noise every pair differs (served_at)');
      assert.equal(s.adjusted_match_rate, 30 / 40, 'with noise excused only the label mismatches remain');
    } finally {
      await sc?.close();
      await collector.stop();
      await prod.close();
      await shadow.close();
      await baseline.close();
      tmp.cleanup();
    }
  });
});
