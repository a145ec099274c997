// Header floods at the sidecar: too many headers and too long ones are refused with
// Envoy's 431 before any filter sees them, requests within Envoy's limits pass, and
// the sidecar keeps serving with its memory bounded.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { test } from 'node:test';
import { MAX_HEADERS_COUNT, MAX_REQUEST_HEADERS_BYTES } from '../../src/sidecar/header-limits.js';
import { requireFilterWasm, send, startUpstream } from '../sidecar/helpers.js';
import { startSidecarFromEnvoyYaml } from '../support/sidecar-from-envoy-yaml.js';
import { rssMiB } from './rss.js';

const ROUNDS = 200;
const RSS_GROWTH_BOUND_MIB = 150;

/** One request written raw (no half-close); resolves with the status line's code, or null if the socket closed without one. */
function rawStatus(port: number, head: string): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    let done = false;
    const finish = (v: number | null): void => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(v);
    };
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m && text.includes('\r\n\r\n')) finish(Number(m[1]));
    });
    socket.on('error', () => finish(null));
    socket.on('close', () => finish(null));
    socket.on('connect', () => socket.write(head));
  });
}

test('faults: header floods at the sidecar get 431; within Envoy limits they pass', async (t) => {
  requireFilterWasm();
  // Production accepts long headers itself, so whatever it refuses is the sidecar's doing.
  let prodRequests = 0;
  const prodServer = createServer({ maxHeaderSize: 2 * 1024 * 1024 }, (req, res) => {
    prodRequests++;
    req.resume();
    req.on('end', () => res.end(`headers ${req.rawHeaders.length / 2}`));
  });
  await new Promise<void>((r) => prodServer.listen(0, '127.0.0.1', r));
  const prod = { port: (prodServer.address() as AddressInfo).port, close: () => new Promise<void>((r) => { prodServer.closeAllConnections(); prodServer.close(() => r()); }) };
  const shadow = await startUpstream((r, res) => res.end(r.body));
  const collector = await startUpstream((_r, res) => res.end('{"accepted":0,"rejected":0,"errors":[]}'));
  const sc = await startSidecarFromEnvoyYaml(t, { production: prod.port, shadow: shadow.port, collector: collector.port }, [prod, shadow, collector]);
  const head = (extra: string): string => `GET /predict HTTP/1.1\r\nhost: model\r\n${extra}\r\n`;
  const headers = (n: number): string => Array.from({ length: n }, (_, i) => `x-h${i}: v\r\n`).join('');

  assert.equal(await rawStatus(sc.port, head(headers(MAX_HEADERS_COUNT - 1))), 200, 'host + 99 headers: at the limit');
  assert.equal(await rawStatus(sc.port, head(`x-long: ${'a'.repeat(50 * 1024)}\r\n`)), 200, '50 KiB: under Envoy 60 KiB');
  const before = prodRequests;

  const warm = await send(sc.port, '/predict', { method: 'POST', body: '{}' });
  assert.equal(warm.status, 200);
  const rssBefore = rssMiB(process.pid);
  for (let i = 0; i < ROUNDS; i++) {
    assert.equal(await rawStatus(sc.port, head(headers(MAX_HEADERS_COUNT + 1))), 431);
    assert.equal(await rawStatus(sc.port, head(headers(5000))), 431);
    assert.equal(await rawStatus(sc.port, head(`x-long: ${'a'.repeat(MAX_REQUEST_HEADERS_BYTES)}\r\n`)), 431);
    assert.equal(await rawStatus(sc.port, head(`x-long: ${'a'.repeat(1024 * 1024)}\r\n`)), 431);
    if (i % 50 === 0) assert.equal((await send(sc.port, '/predict', { method: 'POST', body: `{"i":${i}}` })).status, 200, 'still serving');
  }
  // None of the refused requests reached production.
  assert.equal(prodRequests, before + 1 + ROUNDS / 50);
  const grown = rssMiB(process.pid) - rssBefore;
  t.diagnostic(`test process (sidecar in-process) RSS grew by ${grown.toFixed(1)} MiB over ${ROUNDS * 4} refused requests`);
  assert.ok(grown < RSS_GROWTH_BOUND_MIB, `RSS grew by ${grown.toFixed(1)} MiB`);
});
