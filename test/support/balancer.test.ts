// The test balancer itself: per-request spread over a keep-alive client (http mode),
// per-connection spread (tcp mode), a refused upstream skipped, 502 when none answers.
import assert from 'node:assert/strict';
import { Agent, createServer, request, type Server } from 'node:http';
import { test } from 'node:test';
import { startBalancer } from './balancer.js';

async function upstream(name: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name, method: req.method, path: req.url, body: Buffer.concat(chunks).toString() }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

function call(url: string, agent: Agent | false, body?: string): Promise<{ status: number; json: { name: string; body: string } }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method: body ? 'POST' : 'GET', path: '/v1/x?y=1', agent }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const close = (s: Server) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); });

test('http mode: one keep-alive client reaches every upstream in turn, bodies and paths intact', async (t) => {
  const ups = await Promise.all(['a', 'b', 'c'].map(upstream));
  t.after(() => Promise.all(ups.map((u) => close(u.server))));
  const lb = await startBalancer(ups.map((u) => u.url), 'http');
  t.after(() => lb.close());
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const names: string[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await call(lb.url, agent, `body-${i}`);
    assert.equal(r.status, 200);
    assert.equal(r.json.body, `body-${i}`);
    names.push(r.json.name);
  }
  assert.deepEqual(names, ['a', 'b', 'c', 'a', 'b', 'c']);
  assert.deepEqual(lb.served(), [2, 2, 2]);
});

test('tcp mode: spread per connection, a keep-alive connection stays on its upstream', async (t) => {
  const ups = await Promise.all(['a', 'b'].map(upstream));
  t.after(() => Promise.all(ups.map((u) => close(u.server))));
  const lb = await startBalancer(ups.map((u) => u.url), 'tcp');
  t.after(() => lb.close());
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const kept = [];
  for (let i = 0; i < 3; i++) kept.push((await call(lb.url, agent)).json.name);
  assert.equal(new Set(kept).size, 1, `one connection, one upstream: ${kept.join(',')}`);
  const fresh = [];
  for (let i = 0; i < 4; i++) fresh.push((await call(lb.url, false)).json.name);
  assert.deepEqual(fresh.sort(), ['a', 'a', 'b', 'b']);
});

test('a refused upstream is skipped; with none left the answer is 502 (http) or a closed socket (tcp)', async (t) => {
  const a = await upstream('a');
  const b = await upstream('b');
  t.after(() => close(a.server));
  const lb = await startBalancer([a.url, b.url], 'http');
  t.after(() => lb.close());
  const tcp = await startBalancer([a.url, b.url], 'tcp');
  t.after(() => tcp.close());
  await close(b.server);
  for (let i = 0; i < 4; i++) {
    assert.equal((await call(lb.url, false, 'x')).json.name, 'a');
    assert.equal((await call(tcp.url, false)).json.name, 'a');
  }
  await close(a.server);
  const r = await call(lb.url, false, 'x').catch((e: Error) => e);
  assert.ok(!(r instanceof Error), String(r));
  assert.equal(r.status, 502);
  await assert.rejects(call(tcp.url, false));
});
