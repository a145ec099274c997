// The sidecar with a real proxy-wasm module in the project's host: a
// purpose-built WAT probe counts body callbacks (streaming chunk by chunk),
// adds a header (seen upstream and on Envoy's mirror copy), makes http_calls to
// a cluster (answer, connect failure, timeout, no host), and traps on demand.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import wabtInit from 'wabt';
import { startSidecar } from '../../src/sidecar/index.js';
import { bootstrap, deadPort, listener, send, staticCluster, testScope, until, wasmFilter, writeFile } from './helpers.js';

const scope = testScope();
const { upstream, sidecar } = scope;
let probe = '';

before(async () => {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('probe.wat', readFileSync(new URL('./fixtures/probe.wat', import.meta.url), 'utf8'));
  probe = writeFile(scope.dir, 'probe.wasm', mod.toBinary({}).buffer);
  mod.destroy();
});



const ROUTE = '\n              - match: { prefix: "/" }\n                route: { cluster: production }';

function probeYaml(prodPort: number, collector: string, opts: { failOpen?: boolean; routes?: string; extraClusters?: string[] } = {}): string {
  return bootstrap(
    [listener({ routes: opts.routes ?? ROUTE, filters: wasmFilter(probe, undefined, { name: 'probe', rootId: '', failOpen: opts.failOpen ?? true }) })],
    [staticCluster('production', prodPort), collector, ...(opts.extraClusters ?? [])],
    true,
  );
}

describe('wasm filter in the sidecar', () => {
  it('streams request and response bodies through the module chunk by chunk', async () => {
    // Lockstep (see proxy.test.ts): the next piece goes only once the module has had
    // the previous one, so buffering would stall the test; no timing involved.
    const parts = ['one-', 'two-', 'three-', 'four'];
    let sc: Awaited<ReturnType<typeof sidecar>> | undefined;
    const calls = (name: string): number => sc?.stats()[`wasm.probe.metric.${name}`] ?? 0;
    const prod = await upstream((r, res) => {
      res.writeHead(200, { 'x-upstream-saw-wat': String(r.headers['x-wat']) });
      void (async () => {
        for (let i = 0; i < parts.length; i++) {
          res.write(parts[i]);
          await until(() => calls('resp_body_calls') > i);
        }
        res.end();
      })();
    });
    sc = await sidecar(probeYaml(prod.port, staticCluster('collector', 1)));
    const port = sc.port;
    const got: string[] = [];
    const r = await new Promise<{ body: string; headers: Record<string, unknown> }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', method: 'POST', agent: false, headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        res.on('data', (c: Buffer) => got.push(c.toString()));
        res.on('end', () => resolve({ body: got.join(''), headers: res.headers }));
      });
      req.on('error', reject);
      void (async () => {
        for (let i = 0; i < parts.length; i++) {
          req.write(parts[i]);
          await until(() => calls('req_body_calls') > i);
        }
        req.end();
      })().catch(reject);
    });
    assert.equal(r.body, parts.join(''));
    assert.equal(r.headers['x-upstream-saw-wat'], '1');
    assert.equal(prod.requests[0]!.body, parts.join(''));
    // One callback per piece plus the end-of-stream call, each way.
    assert.equal(calls('req_body_calls'), parts.length + 1);
    assert.equal(calls('resp_body_calls'), parts.length + 1);
    await until(() => calls('logs') === 1);
    // The admin endpoint shows the module's metrics too.
    const admin = await send(sc.adminPort!, '/stats?filter=^wasm');
    assert.match(admin.body, /^wasm\.probe\.metric\.logs: 1$/m);
  });

  it('delivers an http_call to the cluster and its response to the module', async () => {
    const prod = await upstream();
    const collector = await upstream((_r, res) => res.end('accepted!'));
    const sc = await sidecar(probeYaml(prod.port, staticCluster('collector', collector.port)));
    assert.equal((await send(sc.port, '/', { headers: { 'x-call': '1' } })).status, 200);
    await until(() => sc.stats()['wasm.probe.metric.call_responses'] === 1);
    const call = collector.requests[0]!;
    assert.equal(call.method, 'POST');
    assert.equal(call.url, '/v1/records');
    assert.equal(call.headers.host, 'collector');
    assert.equal(call.body, 'hello');
    assert.equal(call.headers['content-length'], '5');
    const st = sc.stats();
    assert.equal(st['wasm.probe.metric.call_status'], 200);
    assert.equal(st['wasm.probe.metric.call_body_size'], 'accepted!'.length);
  });

  it('a connect failure arrives as Envoy\'s 503 response by default, or as a reset when configured', async () => {
    const prod = await upstream();
    const port = await deadPort();
    // Linux's ECONNREFUSED is 111; the body's length is what the probe can see.
    const text = `upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: ${process.platform === 'linux' ? 111 : 61}`;
    const envoyLike = await sidecar(probeYaml(prod.port, staticCluster('collector', port)));
    assert.equal((await send(envoyLike.port, '/', { headers: { 'x-call': '1' } })).status, 200);
    await until(() => envoyLike.stats()['wasm.probe.metric.call_responses'] === 1);
    assert.equal(envoyLike.stats()['wasm.probe.metric.call_status'], 503);
    assert.equal(envoyLike.stats()['wasm.probe.metric.call_body_size'], text.length);

    const resetting = await sidecar(probeYaml(prod.port, staticCluster('collector', port)), { httpCallConnectFailureAs: 'reset' });
    assert.equal((await send(resetting.port, '/', { headers: { 'x-call': '1' } })).status, 200);
    await until(() => resetting.stats()['wasm.probe.metric.call_responses'] === 1);
    assert.equal(resetting.stats()['wasm.probe.metric.call_status'], 0);
  });

  it('a call timeout arrives as a 504 response by default, or as a reset when configured', async () => {
    const prod = await upstream();
    // Never answers: the call's timeout is the only way out (closed with the scope).
    const slow = await upstream(() => {});
    for (const [as, status] of [['response', 504], ['reset', 0]] as const) {
      const sc = await sidecar(probeYaml(prod.port, staticCluster('collector', slow.port)), { httpCallTimeoutAs: as });
      const r = await send(sc.port, '/', { headers: { 'x-call': '1' } });
      assert.equal(r.status, 200, 'production is answered without waiting for the call');
      await until(() => sc.stats()['wasm.probe.metric.call_responses'] === 1);
      assert.equal(sc.stats()['wasm.probe.metric.call_status'], status);
    }
  });

  it('a cluster without hosts fails the call inline, with no callback', async () => {
    const prod = await upstream();
    const noHosts = `
  - name: collector
    type: STRICT_DNS
    load_assignment:
      cluster_name: collector
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: nothing.invalid, port_value: 80 } } } }] }]`;
    const sc = await sidecar(probeYaml(prod.port, noHosts));
    assert.equal((await send(sc.port, '/', { headers: { 'x-call': '1' } })).status, 200);
    const st = sc.stats();
    assert.equal(st['wasm.probe.metric.call_inline_fail'], 1);
    assert.equal(st['wasm.probe.metric.call_responses'], 0);
    assert.equal(st['sidecar.http_call_inline_failures'], 1);
  });

  it('after a trap, fail_open passes requests untouched; fail closed answers 503', async () => {
    const prod = await upstream((r, res) => res.end(`wat=${r.headers['x-wat']}`));
    const open = await sidecar(probeYaml(prod.port, staticCluster('collector', 1), { failOpen: true }));
    assert.equal((await send(open.port, '/', { headers: { 'x-trap': '1' } })).status, 200);
    assert.equal(open.stats()['wasm.probe.vm_failed'], 1);
    const after = await send(open.port, '/');
    assert.equal(after.status, 200);
    assert.equal(after.body, 'wat=undefined', 'a failed VM no longer runs');

    const closed = await sidecar(probeYaml(prod.port, staticCluster('collector', 1), { failOpen: false }));
    assert.equal((await send(closed.port, '/')).body, 'wat=1');
    const trapped = await send(closed.port, '/', { headers: { 'x-trap': '1' } });
    assert.equal(trapped.status, 503);
    assert.equal((await send(closed.port, '/')).status, 503);
  });

  it('Envoy mirroring copies the headers the module added', async () => {
    const prod = await upstream();
    const shadow = await upstream();
    const routes = `
              - match: { prefix: "/" }
                route:
                  cluster: production
                  request_mirror_policies: [{ cluster: shadow }]`;
    const sc = await sidecar(probeYaml(prod.port, staticCluster('collector', 1), { routes, extraClusters: [staticCluster('shadow', shadow.port)] }));
    await send(sc.port, '/m', { headers: { host: 'api:9000' } });
    await shadow.waitFor(1);
    assert.equal(shadow.requests[0]!.headers['x-wat'], '1');
    assert.equal(shadow.requests[0]!.headers.host, 'api-shadow:9000');
  });

  it('a module that fails to load is a configuration error naming the filter', async () => {
    const bad = writeFile(scope.dir, 'bad.wasm', new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    const yaml = bootstrap([listener({ routes: ROUTE, filters: wasmFilter(bad, undefined, { name: 'bad' }) })], [staticCluster('production', 1)]);
    await assert.rejects(
      startSidecar({ envoyConfigPath: writeFile(scope.dir, 'bad.yaml', yaml), log: () => {} }),
      (err: Error) => err.name === 'ConfigError' && /http_filters\[0\]\.typed_config\.config/.test(err.message) && /bad/.test(err.message),
    );
  });
});
