// The sidecar as an HTTP/1.1 proxy, with a hand-written filter in place of the
// wasm one: routing, Envoy's local replies, streaming, keep-alive, request ids,
// hop-by-hop headers, local replies and stop/resume from a filter.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { before, describe, it } from 'node:test';
import { type RunningSidecar, startSidecar } from '../../src/sidecar/index.js';
import { type RecordingConfig, recordingLoader } from './recording-filter.js';
import { EMPTY_WASM, type Upstream, bootstrap, listener, send, startUpstream, staticCluster, testScope, until, wasmFilter, writeFile } from './helpers.js';

const scope = testScope();
const { upstream, sidecar } = scope;
const wasmFile = writeFile(scope.dir, 'empty.wasm', EMPTY_WASM);




function filterYaml(cfg: RecordingConfig, name = 'rec'): string {
  return wasmFilter(wasmFile, JSON.stringify(cfg), { name });
}

describe('routing and Envoy local replies', () => {
  let prod: Upstream;
  let other: Upstream;
  let sc: RunningSidecar;
  before(async () => {
    prod = await upstream();
    other = await upstream((r, res) => res.end(`other ${r.url}`));
    const routes = `
              - match: { path: "/exact" }
                route: { cluster: other }
              - match: { prefix: "/api", headers: [{ name: x-canary, string_match: { exact: "yes" } }] }
                route: { cluster: other }
              - match: { prefix: "/api" }
                route: { cluster: production }
              - match: { prefix: "/static" }
                direct_response: { status: 418, body: { inline_string: "teapot" } }`;
    sc = await sidecar(bootstrap([listener({ routes })], [staticCluster('production', prod.port), staticCluster('other', other.port)]));
  });

  it('routes by path, prefix and header matchers, first match wins', async () => {
    assert.equal((await send(sc.port, '/api/x')).body, 'ok /api/x');
    assert.equal((await send(sc.port, '/api/x', { headers: { 'x-canary': 'yes' } })).body, 'other /api/x');
    assert.equal((await send(sc.port, '/exact?q=1')).body, 'other /exact?q=1');
    assert.equal((await send(sc.port, '/exactly')).status, 404);
  });

  it('answers 404 with no body when no route matches', async () => {
    const r = await send(sc.port, '/nothing-here');
    assert.equal(r.status, 404);
    assert.equal(r.body, '');
    assert.equal(r.headers['content-length'], '0');
    assert.equal(r.headers.server, 'envoy');
  });

  it('serves direct_response routes', async () => {
    const r = await send(sc.port, '/static/a');
    assert.equal(r.status, 418);
    assert.equal(r.body, 'teapot');
  });
});

describe('upstream failures', () => {
  it('503 no healthy upstream when a DNS cluster resolves to nothing', async () => {
    const cluster = `
  - name: production
    type: STRICT_DNS
    connect_timeout: 0.5s
    load_assignment:
      cluster_name: production
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: no-such-host.invalid, port_value: 80 } } } }] }]`;
    const sc = await sidecar(bootstrap([listener({ routes: '\n              - match: { prefix: "/" }\n                route: { cluster: production }' })], [cluster]));
    const r = await send(sc.port, '/');
    assert.equal(r.status, 503);
    assert.equal(r.body, 'no healthy upstream');
  });

  it('503 upstream connect error when the endpoint refuses connections', async () => {
    const dead = await startUpstream();
    const port = dead.port;
    await dead.close();
    const sc = await sidecar(bootstrap([listener({ routes: '\n              - match: { prefix: "/" }\n                route: { cluster: production }' })], [staticCluster('production', port)]));
    const r = await send(sc.port, '/');
    assert.equal(r.status, 503);
    assert.match(r.body, /^upstream connect error or disconnect\/reset before headers\. reset reason: remote connection failure, transport failure reason: delayed connect error: \d+$/);
    assert.equal(sc.stats()['cluster.production.upstream_cx_connect_fail'], 1);
  });

  it('504 upstream request timeout after the route timeout', async () => {
    const slow = await upstream((_r, res) => {
      const t = setTimeout(() => res.end('late'), 3000);
      res.on('close', () => clearTimeout(t));
    });
    const routes = '\n              - match: { prefix: "/" }\n                route: { cluster: production, timeout: 0.2s }';
    const sc = await sidecar(bootstrap([listener({ routes })], [staticCluster('production', slow.port)]));
    const r = await send(sc.port, '/');
    assert.equal(r.status, 504);
    assert.equal(r.body, 'upstream request timeout');
    assert.equal(slow.requests[0]?.headers['x-envoy-expected-rq-timeout-ms'], '200');
  });
});

describe('headers', () => {
  let prod: Upstream;
  let sc: RunningSidecar;
  before(async () => {
    prod = await upstream((r, res) => {
      res.setHeader('connection', 'keep-alive, x-hop');
      res.setHeader('x-hop', 'per-connection');
      res.setHeader('x-kept', 'yes');
      res.setHeader('keep-alive', 'timeout=7');
      res.setHeader('proxy-connection', 'keep-alive');
      res.setHeader('te', 'trailers');
      res.setHeader('trailer', 'x-never');
      // write() first: chunked, the only framing node allows a Trailer header with.
      res.write(r.headers['x-request-id'] as string);
      res.end();
    });
    sc = await sidecar(bootstrap([listener({ routes: '\n              - match: { prefix: "/" }\n                route: { cluster: production }' })], [staticCluster('production', prod.port)]));
  });

  it('generates a UUID v4 x-request-id when the request has none', async () => {
    const r = await send(sc.port, '/');
    assert.match(r.body, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const r2 = await send(sc.port, '/');
    assert.notEqual(r.body, r2.body);
  });

  it('keeps an x-request-id the request brings', async () => {
    const r = await send(sc.port, '/', { headers: { 'x-request-id': 'given-id' } });
    assert.equal(r.body, 'given-id');
  });

  it('drops hop-by-hop headers in both directions and keeps the rest', async () => {
    const hop = { 'keep-alive': 'timeout=5', 'proxy-connection': 'keep-alive', te: 'trailers', trailer: 'x-t' };
    const r = await send(sc.port, '/', { method: 'POST', body: 'b', headers: { connection: 'x-secret', 'x-secret': 's', ...hop, 'x-end': 'e', 'transfer-encoding': 'chunked' } });
    const seen = prod.requests.at(-1)!;
    assert.equal(seen.headers['x-secret'], undefined);
    const fromUpstream: Record<string, string> = { 'keep-alive': 'timeout=7', 'proxy-connection': 'keep-alive', te: 'trailers', trailer: 'x-never' };
    for (const name of Object.keys(hop)) {
      assert.equal(seen.headers[name], undefined, `${name} reached the upstream`);
      // The sidecar's own server may announce its own keep-alive; never the upstream's.
      if (name === 'keep-alive') assert.notEqual(r.headers[name], fromUpstream[name], 'the upstream\'s keep-alive reached the client');
      else assert.equal(r.headers[name], undefined, `${name} reached the client`);
    }
    // Node's own connection header on each hop is its own, never the other side's.
    assert.notEqual(seen.headers.connection, 'x-secret');
    assert.notEqual(r.headers.connection, 'keep-alive, x-hop');
    assert.equal(seen.headers['x-end'], 'e');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(r.headers['x-hop'], undefined);
    assert.equal(r.headers['x-kept'], 'yes');
    assert.ok(r.headers['x-envoy-upstream-service-time'] !== undefined);
  });

  it('sends the downstream Host as the upstream Host', async () => {
    await send(sc.port, '/', { headers: { host: 'model.example:8080' } });
    assert.equal(prod.requests.at(-1)!.headers.host, 'model.example:8080');
  });
});

describe('keep-alive upstream pool', () => {
  it('reuses one upstream connection for sequential requests', async () => {
    const prod = await upstream();
    const sc = await sidecar(bootstrap([listener({ routes: '\n              - match: { prefix: "/" }\n                route: { cluster: production }' })], [staticCluster('production', prod.port)]));
    for (let i = 0; i < 10; i++) assert.equal((await send(sc.port, `/${i}`)).status, 200);
    assert.equal(prod.requests.length, 10);
    assert.equal(prod.connections(), 1);
  });
});

describe('filter chain', () => {
  it('streams bodies chunk by chunk through the filter in both directions', async () => {
    const parts = ['alpha-', 'beta-', 'gamma-', 'delta'];
    const prod = await upstream((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let i = 0;
      const next = (): void => {
        if (i === parts.length) {
          res.end();
          return;
        }
        res.write(parts[i++]);
        setTimeout(next, 30);
      };
      next();
    });
    const rec = recordingLoader();
    const sc = await sidecar(
      bootstrap([listener({ routes: '\n              - match: { prefix: "/" }\n                route: { cluster: production }', filters: filterYaml({}) })], [staticCluster('production', prod.port)]),
      { filterLoader: rec.loader },
    );
    const r = await send(sc.port, '/stream', { method: 'POST', body: parts, gapMs: 30, headers: { 'transfer-encoding': 'chunked' } });
    assert.equal(r.body, parts.join(''));
    const s = rec.filters.get('rec')!.streams[0]!;
    await until(() => s.events.includes('done'));
    assert.equal(s.requestBody, parts.join(''));
    assert.equal(s.responseBody, parts.join(''));
    // Each chunk passed on its own (plus Envoy's empty end-of-stream frame).
    assert.ok(s.requestChunks.filter((n) => n > 0).length >= 3, `request chunks ${s.requestChunks}`);
    assert.ok(s.responseChunks.filter((n) => n > 0).length >= 3, `response chunks ${s.responseChunks}`);
    assert.ok(r.chunks >= 3, 'the client received the response in pieces, not buffered');
    assert.equal(s.requestChunks.at(-1), 0);
    assert.deepEqual(s.events.slice(-2), ['log', 'done']);
    assert.equal(s.events[0], 'request_headers eos=false');
  });

  it('reports end_of_stream with the headers of a bodiless request', async () => {
    const prod = await upstream();
    const rec = recordingLoader();
    const sc = await sidecar(
      bootstrap([listener({ routes: '\n              - match: { prefix: "/" }\n                route: { cluster: production }', filters: filterYaml({}) })], [staticCluster('production', prod.port)]),
      { filterLoader: rec.loader },
    );
    await send(sc.port, '/');
    const s = rec.filters.get('rec')!.streams[0]!;
    await until(() => s.events.includes('done'));
    assert.deepEqual(s.events, ['request_headers eos=true', 'response_headers 200 eos=false', `response_body 4 eos=false`, 'response_body 0 eos=true', 'log', 'done']);
  });

  it('resolves the route before the filters run, as Envoy does', async () => {
    const prod = await upstream();
    const rec = recordingLoader();
    const routes = '\n              - name: everything\n                match: { prefix: "/" }\n                route: { cluster: production }';
    const sc = await sidecar(bootstrap([listener({ routes, filters: filterYaml({}) })], [staticCluster('production', prod.port)]), { filterLoader: rec.loader });
    await send(sc.port, '/x');
    const s = rec.filters.get('rec')!.streams[0]!;
    assert.equal(s.routeAtHeaders, 'everything');
    assert.equal(s.clusterAtHeaders, 'production');
  });

  it('lets the filter change headers and body on the way', async () => {
    const prod = await upstream((r, res) => res.end(`seen ${r.headers['x-added']}`));
    const rec = recordingLoader();
    const sc = await sidecar(
      bootstrap(
        [listener({ routes: '\n              - match: { prefix: "/" }\n                route: { cluster: production }', filters: filterYaml({ add_request_header: ['x-added', 'by-filter'], add_response_header: ['x-resp', 'r'], upper_case_response: true }) })],
        [staticCluster('production', prod.port)],
      ),
      { filterLoader: rec.loader },
    );
    const r = await send(sc.port, '/');
    assert.equal(r.body, 'SEEN BY-FILTER');
    assert.equal(r.headers['x-resp'], 'r');
  });

  it('a local reply from the filter never reaches the upstream and passes the filter response path', async () => {
    const prod = await upstream();
    const rec = recordingLoader();
    const sc = await sidecar(
      bootstrap([listener({ routes: '\n              - match: { prefix: "/" }\n                route: { cluster: production }', filters: filterYaml({ local_reply: { status: 403, body: 'denied' } }) })], [staticCluster('production', prod.port)]),
      { filterLoader: rec.loader },
    );
    const r = await send(sc.port, '/x', { method: 'POST', body: 'payload' });
    assert.equal(r.status, 403);
    assert.equal(r.body, 'denied');
    assert.equal(r.headers['x-local'], '1');
    assert.equal(prod.requests.length, 0);
    const s = rec.filters.get('rec')!.streams[0]!;
    await until(() => s.events.includes('done'));
    assert.ok(s.events.includes('response_headers 403 eos=false'));
  });

  it('router replies (404) pass through the filter response path', async () => {
    const rec = recordingLoader();
    const sc = await sidecar(bootstrap([listener({ routes: '\n              - match: { prefix: "/only" }\n                route: { cluster: production }', filters: filterYaml({}) })], [staticCluster('production', 1)]), {
      filterLoader: rec.loader,
    });
    assert.equal((await send(sc.port, '/elsewhere')).status, 404);
    const s = rec.filters.get('rec')!.streams[0]!;
    await until(() => s.events.includes('done'));
    assert.deepEqual(s.events, ['request_headers eos=true', 'response_headers 404 eos=true', 'log', 'done']);
  });

  it('holds the request while the filter has stopped, and sends it on resume', async () => {
    const prod = await upstream((r, res) => res.end(r.body));
    const rec = recordingLoader();
    const sc = await sidecar(
      bootstrap([listener({ routes: '\n              - match: { prefix: "/" }\n                route: { cluster: production }', filters: filterYaml({ stop_request_headers_ms: 100 }) })], [staticCluster('production', prod.port)]),
      { filterLoader: rec.loader },
    );
    const r = await send(sc.port, '/', { method: 'POST', body: ['one-', 'two'], gapMs: 10 });
    assert.equal(r.body, 'one-two');
    assert.equal(prod.requests.length, 1);
  });

  it('stop-and-buffer hands the filter the whole body so far', async () => {
    const prod = await upstream((r, res) => res.end(r.body));
    const rec = recordingLoader();
    const sc = await sidecar(
      bootstrap([listener({ routes: '\n              - match: { prefix: "/" }\n                route: { cluster: production }', filters: filterYaml({ buffer_request_body: true }) })], [staticCluster('production', prod.port)]),
      { filterLoader: rec.loader },
    );
    const r = await send(sc.port, '/', { method: 'POST', body: ['aa', 'bb', 'cc'], gapMs: 20, headers: { 'transfer-encoding': 'chunked' } });
    assert.equal(r.body, 'aabbcc');
    const s = rec.filters.get('rec')!.streams[0]!;
    // Each call sees everything buffered so far: sizes only grow.
    const sizes = s.requestChunks;
    for (let i = 1; i < sizes.length; i++) assert.ok(sizes[i]! >= sizes[i - 1]!, `sizes ${sizes}`);
    assert.equal(sizes.at(-1), 6);
    assert.equal(s.requestBody, 'aabbcc');
    assert.equal(prod.requests[0]!.body, 'aabbcc');
  });

  it('closes the filter when the sidecar closes', async () => {
    const rec = recordingLoader();
    const sc = await startSidecar({
      envoyConfigPath: writeFile(scope.dir, 'close.yaml', bootstrap([listener({ routes: '', filters: filterYaml({}) })], [staticCluster('production', 1)])),
      filterLoader: rec.loader,
      log: () => {},
    });
    await sc.close();
    assert.equal(rec.filters.get('rec')!.closed, true);
  });
});

describe('admin', () => {
  it('serves /ready and /stats with counters', async () => {
    const prod = await upstream();
    const sc = await sidecar(bootstrap([listener({ routes: '\n              - match: { prefix: "/" }\n                route: { cluster: production }' })], [staticCluster('production', prod.port)], true));
    await send(sc.port, '/');
    assert.ok(sc.adminPort);
    assert.equal((await send(sc.adminPort, '/ready')).body, 'LIVE\n');
    const stats = await send(sc.adminPort, '/stats');
    assert.match(stats.body, /^cluster\.production\.upstream_rq_total: 1$/m);
    const json = JSON.parse((await send(sc.adminPort, '/stats?format=json&filter=^http')).body) as { stats: Array<{ name: string; value: number }> };
    assert.ok(json.stats.length > 0 && json.stats.every((s) => s.name.startsWith('http')));
  });
});


describe('edges', () => {
  it('forwards request trailers of a chunked body, and the filter sees them', async () => {
    const prod = await upstream((_r, res) => res.end('ok'));
    const rec = recordingLoader();
    const sc = await sidecar(
      bootstrap([listener({ routes: '\n              - match: { prefix: "/" }\n                route: { cluster: production }', filters: filterYaml({}) })], [staticCluster('production', prod.port)]),
      { filterLoader: rec.loader },
    );
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: sc.port, method: 'POST', path: '/t', headers: { 'transfer-encoding': 'chunked', trailer: 'x-checksum' }, agent: false }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.write('body');
      req.addTrailers({ 'x-checksum': 'abc' });
      req.end();
    });
    assert.equal(prod.requests[0]!.trailers['x-checksum'], 'abc');
    assert.equal(prod.requests[0]!.body, 'body');
    const s = rec.filters.get('rec')!.streams[0]!;
    await until(() => s.events.includes('done'));
    assert.ok(s.events.includes('request_trailers'));
  });

  it('a client that disconnects mid-body ends the stream (log, done) and the sidecar keeps serving', async () => {
    const prod = await upstream((r, res) => res.end(r.body));
    const rec = recordingLoader();
    const sc = await sidecar(
      bootstrap([listener({ routes: '\n              - match: { prefix: "/" }\n                route: { cluster: production }', filters: filterYaml({}) })], [staticCluster('production', prod.port)]),
      { filterLoader: rec.loader },
    );
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port: sc.port, method: 'POST', path: '/abort', headers: { 'content-length': '100' }, agent: false });
      req.on('error', () => resolve());
      req.write('only part of it');
      setTimeout(() => req.destroy(), 50);
    });
    const s = rec.filters.get('rec')!.streams[0]!;
    await until(() => s.events.includes('done'));
    assert.deepEqual(s.events.slice(-2), ['log', 'done']);
    await until(() => sc.stats()['http.ingress.downstream_rq_reset'] === 1);
    assert.equal((await send(sc.port, '/after', { method: 'POST', body: 'fine' })).body, 'fine');
  });

  it('refuses an upgrade with 403, as Envoy without upgrade_configs', async () => {
    const prod = await upstream();
    const sc = await sidecar(bootstrap([listener({ routes: '\n              - match: { prefix: "/" }\n                route: { cluster: production }' })], [staticCluster('production', prod.port)]));
    const r = await send(sc.port, '/ws', { headers: { connection: 'upgrade', upgrade: 'websocket' } });
    assert.equal(r.status, 403);
    assert.equal(prod.requests.length, 0);
  });

  it('a filter that throws is skipped for that stream; production is still answered', async () => {
    const prod = await upstream();
    const sc = await sidecar(
      bootstrap([listener({ routes: '\n              - match: { prefix: "/" }\n                route: { cluster: production }', filters: filterYaml({}) })], [staticCluster('production', prod.port)]),
      {
        filterLoader: async (config) => ({
          name: config.pluginName,
          close() {},
          newStream: () => {
            throw new Error('boom');
          },
        }),
      },
    ).catch((e: Error) => e);
    // A factory that throws in newStream is a start-time bug: the stream itself must survive.
    assert.ok(!(sc instanceof Error));
    const r = await send(sc.port, '/');
    assert.equal(r.status, 200);
    assert.equal(sc.stats()['http.ingress.filter_errors'], 1);
  });
});

describe('early upstream answers', () => {
  it('an upstream that answers before the request body is complete ends the stream cleanly', async () => {
    // Answer 413 as soon as headers arrive, without reading the body.
    const server = (await import('node:http')).createServer((_req, res) => {
      res.writeHead(413, { 'content-type': 'text/plain' });
      res.end('too large');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    scope.track({ close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) });
    const port = (server.address() as { port: number }).port;
    const sc = await sidecar(bootstrap([listener({ routes: '\n              - match: { prefix: "/" }\n                route: { cluster: production }' })], [staticCluster('production', port)]));
    const r = await send(sc.port, '/upload', { method: 'POST', body: Array.from({ length: 5 }, () => 'x'.repeat(1000)), gapMs: 30, headers: { 'transfer-encoding': 'chunked' } });
    assert.equal(r.status, 413);
    assert.equal(r.body, 'too large');
    assert.equal(sc.stats()['http.ingress.downstream_rq_completed'], 1);
    // The sidecar keeps serving on the same listener.
    assert.equal((await send(sc.port, '/again')).status, 413);
  });
});

describe('clusters', () => {
  it('round-robins over the endpoints of a cluster', async () => {
    const a = await upstream((_r, res) => res.end('a'));
    const b = await upstream((_r, res) => res.end('b'));
    const cluster = `
  - name: production
    type: STATIC
    load_assignment:
      cluster_name: production
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${a.port} } } }
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${b.port} } } }`;
    const sc = await sidecar(bootstrap([listener({ routes: '\n              - match: { prefix: "/" }\n                route: { cluster: production }' })], [cluster]));
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push((await send(sc.port, '/')).body);
    assert.deepEqual(seen.sort(), ['a', 'a', 'a', 'b', 'b', 'b']);
  });

  it('resolves STRICT_DNS endpoints by name', async () => {
    const prod = await upstream((_r, res) => res.end('via dns'));
    const cluster = `
  - name: production
    type: STRICT_DNS
    dns_lookup_family: V4_ONLY
    load_assignment:
      cluster_name: production
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: localhost, port_value: ${prod.port} } } } }] }]`;
    const sc = await sidecar(bootstrap([listener({ routes: '\n              - match: { prefix: "/" }\n                route: { cluster: production }' })], [cluster]));
    // localhost may resolve to ::1 and 127.0.0.1; the upstream listens on the latter, so ask a few times.
    const bodies = new Set<string>();
    for (let i = 0; i < 4; i++) bodies.add((await send(sc.port, '/')).body);
    assert.ok(bodies.has('via dns'), [...bodies].join(' | '));
    assert.ok(sc.stats()['cluster.production.membership_total']! >= 1);
  });
});
