// Envoy's own mirroring (route request_mirror_policies): headers copied after
// the filters ran, "-shadow" on the authority, the mirror's answer discarded,
// runtime fraction sampling, bodies buffered up to 1 MiB.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mirrorSampled, shadowAuthority } from '../../src/sidecar/mirror.js';
import { recordingLoader } from './recording-filter.js';
import { EMPTY_WASM, bootstrap, listener, send, startUpstream, staticCluster, testScope, until, wasmFilter, writeFile } from './helpers.js';

const scope = testScope();
const { upstream, sidecar } = scope;
const wasmFile = writeFile(scope.dir, 'empty.wasm', EMPTY_WASM);



function mirrorRoute(fraction: string | undefined, extra = ''): string {
  const rf = fraction === undefined ? '' : `\n                    runtime_fraction: { default_value: ${fraction} }`;
  return `
              - match: { prefix: "/" }
                route:
                  cluster: production
                  request_mirror_policies:
                  - cluster: shadow${rf}${extra}`;
}

describe('Envoy mirroring', () => {
  it('sends a copy with the filter-added headers and a -shadow authority; the caller sees only production', async () => {
    const prod = await upstream((r, res) => res.end(`prod:${r.body}`));
    const shadow = await upstream((r, res) => {
      res.writeHead(500);
      res.end(`shadow:${r.body}`);
    });
    const rec = recordingLoader();
    const filters = wasmFilter(wasmFile, JSON.stringify({ add_request_header: ['x-shadow-correlation-id', 'abc123'] }), { name: 'rec' });
    const sc = await sidecar(bootstrap([listener({ routes: mirrorRoute(undefined), filters })], [staticCluster('production', prod.port), staticCluster('shadow', shadow.port)]), {
      filterLoader: rec.loader,
    });
    const r = await send(sc.port, '/predict?x=1', { method: 'POST', body: ['{"a":', '1}'], gapMs: 10, headers: { host: 'model:8080', 'content-type': 'application/json' } });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'prod:{"a":1}');
    await shadow.waitFor(1);
    const copy = shadow.requests[0]!;
    const orig = prod.requests[0]!;
    assert.equal(copy.headers.host, 'model-shadow:8080');
    assert.equal(orig.headers.host, 'model:8080');
    assert.equal(copy.headers['x-shadow-correlation-id'], 'abc123');
    assert.equal(copy.headers['x-request-id'], orig.headers['x-request-id']);
    assert.equal(copy.method, 'POST');
    assert.equal(copy.url, '/predict?x=1');
    assert.equal(copy.body, '{"a":1}');
    assert.equal(copy.headers['content-type'], 'application/json');
    // The mirrored copy did not go through this listener's filter again.
    assert.equal(rec.filters.get('rec')!.streams.length, 1);
    await until(() => sc.stats()['sidecar.mirror.responses'] === 1);
  });

  it('leaves the authority alone with disable_shadow_host_suffix_append', async () => {
    const prod = await upstream();
    const shadow = await upstream();
    const sc = await sidecar(
      bootstrap([listener({ routes: mirrorRoute(undefined, '\n                    disable_shadow_host_suffix_append: true') })], [staticCluster('production', prod.port), staticCluster('shadow', shadow.port)]),
    );
    await send(sc.port, '/', { headers: { host: 'model:8080' } });
    await shadow.waitFor(1);
    assert.equal(shadow.requests[0]!.headers.host, 'model:8080');
  });

  it('runtime_fraction 0 mirrors nothing, 100% mirrors everything', async () => {
    const prod = await upstream();
    const shadow = await upstream();
    const none = await sidecar(
      bootstrap([listener({ routes: mirrorRoute('{ numerator: 0, denominator: HUNDRED }') })], [staticCluster('production', prod.port), staticCluster('shadow', shadow.port)]),
    );
    for (let i = 0; i < 20; i++) assert.equal((await send(none.port, `/${i}`)).status, 200);
    assert.equal(none.stats()['sidecar.mirror.not_sampled'], 20);
    const all = await sidecar(
      bootstrap([listener({ routes: mirrorRoute('{ numerator: 1000000, denominator: MILLION }') })], [staticCluster('production', prod.port), staticCluster('shadow', shadow.port)]),
    );
    for (let i = 0; i < 20; i++) assert.equal((await send(all.port, `/${i}`)).status, 200);
    await shadow.waitFor(20);
    assert.equal(prod.requests.length, 40);
    assert.equal(shadow.requests.length, 20);
  });

  it('samples per stream at random, as Envoy\'s router (stream id, not x-request-id): an id does not decide', () => {
    const policy = { cluster: 'shadow', numerator: 25, denominator: 'HUNDRED' as const, disableShadowHostSuffixAppend: false };
    let yes = 0;
    for (let i = 0; i < 4000; i++) if (mirrorSampled(policy)) yes++;
    assert.ok(yes > 800 && yes < 1200, `sampled ${yes} of 4000 at 25%`);
    // stream_id % denominator < numerator, the random number scaled to the denominator.
    assert.equal(mirrorSampled(policy, () => 0.2499), true);
    assert.equal(mirrorSampled(policy, () => 0.25), false);
    const million = { ...policy, numerator: 100_000, denominator: 'MILLION' as const };
    assert.equal(mirrorSampled(million, () => 0.0999999), true);
    assert.equal(mirrorSampled(million, () => 0.1), false);
  });

  it('cluster_header: the filter-set header names the mirror cluster; absent or empty means no copy', async () => {
    const prod = await upstream();
    const shadow = await upstream();
    const routes = `
              - match: { prefix: "/" }
                route:
                  cluster: production
                  request_mirror_policies:
                  - cluster_header: X-Mirror-To`;
    const sc = await sidecar(bootstrap([listener({ routes })], [staticCluster('production', prod.port), staticCluster('shadow', shadow.port)]));
    await send(sc.port, '/a', { headers: { 'x-mirror-to': 'shadow' } });
    await send(sc.port, '/b');
    await send(sc.port, '/c', { headers: { 'x-mirror-to': '' } });
    await send(sc.port, '/d', { headers: { 'x-mirror-to': 'no-such-cluster' } });
    await send(sc.port, '/e', { headers: { 'x-mirror-to': 'shadow' } });
    await shadow.waitFor(2);
    await until(() => sc.stats()['sidecar.mirror.no_cluster_header'] === 2 && sc.stats()['sidecar.mirror.skipped_no_host'] === 1);
    assert.deepEqual(shadow.requests.map((r) => r.url), ['/a', '/e']);
    assert.equal(prod.requests.length, 5);
  });

  it('a mirror policy needs exactly one of cluster and cluster_header', async () => {
    const prod = await upstream();
    const both = `
              - match: { prefix: "/" }
                route:
                  cluster: production
                  request_mirror_policies:
                  - { cluster: production, cluster_header: x-m }`;
    await assert.rejects(sidecar(bootstrap([listener({ routes: both })], [staticCluster('production', prod.port)])), /only one of cluster and cluster_header/);
    const none = both.replace('{ cluster: production, cluster_header: x-m }', '{ disable_shadow_host_suffix_append: true }');
    await assert.rejects(sidecar(bootstrap([listener({ routes: none })], [staticCluster('production', prod.port)])), /needs cluster or cluster_header/);
  });

  it('does not mirror a body over 1 MiB, and production still gets all of it', async () => {
    const prod = await upstream((r, res) => res.end(String(r.body.length)));
    const shadow = await upstream();
    const sc = await sidecar(bootstrap([listener({ routes: mirrorRoute(undefined) })], [staticCluster('production', prod.port), staticCluster('shadow', shadow.port)]));
    const big = 'x'.repeat(64 * 1024);
    const r = await send(sc.port, '/big', { method: 'POST', body: Array.from({ length: 17 }, () => big) });
    assert.equal(r.body, String(17 * 64 * 1024));
    const small = await send(sc.port, '/small', { method: 'POST', body: 'tiny' });
    assert.equal(small.status, 200);
    await shadow.waitFor(1);
    assert.equal(shadow.requests.length, 1);
    assert.equal(shadow.requests[0]!.url, '/small');
    assert.equal(sc.stats()['sidecar.mirror.skipped_body_too_large'], 1);
  });

  it('shadowAuthority appends -shadow to the host part only', () => {
    assert.equal(shadowAuthority('model:8080'), 'model-shadow:8080');
    assert.equal(shadowAuthority('model'), 'model-shadow');
    assert.equal(shadowAuthority('[::1]:80'), '[::1]-shadow:80');
  });

  it('a dead or slow mirror does not change production answers', async () => {
    const prod = await upstream((r, res) => res.end(`prod ${r.url}`));
    const slow = await upstream((_r, res) => {
      const t = setTimeout(() => res.end('late'), 2000);
      res.on('close', () => clearTimeout(t));
    });
    const deadPort = await (async () => {
      const d = await startUpstream();
      await d.close();
      return d.port;
    })();
    for (const port of [slow.port, deadPort]) {
      const sc = await sidecar(bootstrap([listener({ routes: mirrorRoute(undefined) })], [staticCluster('production', prod.port), staticCluster('shadow', port)]));
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => send(sc.port, `/r${i}`, { method: 'POST', body: `b${i}` })));
      replies.forEach((r, i) => {
        assert.equal(r.status, 200);
        assert.equal(r.body, `prod /r${i}`);
      });
      await sc.close();
    }
  });
});
