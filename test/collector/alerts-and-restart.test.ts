// Decision changes POSTed to --alert-webhook (a real loopback server), retried after
// a failure, never holding up ingestion; the last decisions and the control survive kill -9.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually, get, post, rec, startCollector, tempDir } from './helpers.js';
import { send, writeConfig } from './decision-helpers.js';

interface Hook {
  url: string;
  /** Bodies answered 2xx, in arrival order. */
  delivered: any[];
  requests: number;
  close(): Promise<void>;
}

async function webhook(t: { after: (fn: () => Promise<void>) => void }, answer: (n: number, req: IncomingMessage, res: ServerResponse) => boolean): Promise<Hook> {
  const hook = { delivered: [] as any[], requests: 0 } as Hook;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      hook.requests++;
      if (answer(hook.requests, req, res)) {
        hook.delivered.push(JSON.parse(body));
        res.writeHead(200).end('ok');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  hook.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  hook.close = () => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
  t.after(() => hook.close());
  return hook;
}

const pairs = (route: string, from: number, n: number) => {
  const out = [];
  for (let i = from; i < from + n; i++) {
    out.push(rec({ id: `${route}${i}`, route, role: 'production', response_body: '{"a":1}' }), rec({ id: `${route}${i}`, route, role: 'shadow', response_body: '{"a":1}' }));
  }
  return out;
};

test('one webhook call per decision change, retried after a first failure; a hanging webhook does not hold up ingestion; restart keeps decisions and control', async (t) => {
  const dir = tempDir(t);
  // The first request of all fails with 500: it must be retried, and nothing sent twice.
  const flaky = await webhook(t, (n, _req, res) => {
    if (n === 1) {
      res.writeHead(500).end('down');
      return false;
    }
    return true;
  });
  let hung = 0;
  const hanging = await webhook(t, () => {
    hung++;
    return false; // never answers
  });
  const cfg = writeConfig(dir, { verdict: { min_pairs: 50, min_match_rate: 0.9 } });
  const args = ['--db', join(dir, 'c.db'), '--config', cfg, '--token', 'w', '--alert-webhook', flaky.url, '--alert-webhook', hanging.url];
  const c = await startCollector(args, t);
  const forRoute = (route: string) => flaky.delivered.filter((b) => b.route === route);

  assert.equal((await post(c.url, pairs('w', 0, 10), { token: 'w' })).status, 200);
  await eventually(async () => forRoute('w'), (m) => m.length >= 1, 30_000);
  // The hanging webhook holds a request open; records are still taken in.
  await eventually(async () => hung, (n) => n >= 1, 30_000);
  const during = await post(c.url, pairs('w', 10, 100), { token: 'w' });
  assert.equal(during.status, 200);
  assert.equal(during.json.accepted, 200);
  const w = await eventually(async () => forRoute('w'), (m) => m.length >= 2, 30_000);
  assert.deepEqual(w.map((m) => [m.from, m.to]), [[null, 'hold'], ['hold', 'promote']]);
  assert.equal(w[0].text, 'shadowmesh: route w none → hold (min_pairs 10 < 50: not enough pairs yet)');
  assert.equal(w[1].text, 'shadowmesh: route w hold → promote (all criteria met on 110 pairs)');
  assert.equal(w[1].verdict.decision, 'promote');
  assert.equal(w[1].verdict.route, 'w');
  // Exactly one request failed, and its body arrived once after the retry.
  assert.equal(flaky.requests, flaky.delivered.length + 1);
  const texts = flaky.delivered.map((b) => `${b.route}:${b.from}>${b.to}`);
  assert.equal(new Set(texts).size, texts.length);
  assert.ok(flaky.delivered.some((b) => b.route === null), 'the overall verdict alerts too');

  // Control, then a crash.
  assert.equal((await send(c.url, 'PUT', '/v1/control', { sample_percent: { w: 25 } }, { token: 'w' })).status, 200);
  await c.kill9();
  const before = flaky.delivered.length;
  const again = await startCollector(args, t);
  assert.deepEqual((await get(again.url, '/v1/control')).json, { sample_percent: { w: 25 } });
  assert.equal((await get(again.url, '/v1/verdict?route=w')).json.decision, 'promote');
  // A new route makes a change; route w's decision did not change, so no message for it.
  const answer = await post(again.url, pairs('x', 0, 5), { token: 'w' });
  assert.deepEqual(answer.json.control, { sample_percent: { w: 25 } });
  await eventually(async () => forRoute('x'), (m) => m.length >= 1, 30_000);
  assert.deepEqual(forRoute('x').map((m) => [m.from, m.to]), [[null, 'hold']]);
  assert.equal(forRoute('w').length, 2);
  assert.ok(flaky.delivered.slice(before).every((b) => b.route !== 'w'));
  assert.equal(await again.stop(), 0);
});
