// Floods of bad or abusive input at one collector process: each gets its clear
// answer, the process keeps serving good batches in between, and its resident
// memory after all of them stays within a generous bound of where it started.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { test } from 'node:test';
import { get, post, rec, stats } from '../collector/helpers.js';
import { startCollectorOnTempDb } from '../support/collector-on-temp-db.js';
import { rawRequest } from './raw-http.js';
import { rssMiB } from './rss.js';

const MAX_BODY = 1024 * 1024;
/**
 * What the bounded caches may take when the floods fill them — in the main thread the
 * pending cache (--max-pending 2000), the last 4,096 lone sides parsed, SQLite's 32 MiB
 * page cache, the id index and its 4 MiB filter; in the prepare thread its own 4,096
 * parsed sides and heap — with room to spare; the floods below would cost far more
 * if anything were kept per request (30 bodies of 2 MiB alone are 60 MiB).
 */
const RSS_GROWTH_BOUND_MIB = 160;

async function postRaw(url: string, body: string | Uint8Array, contentType = 'application/json'): Promise<{ status: number; json: { error?: string } }> {
  const res = await fetch(`${url}/v1/records`, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : new Blob([new Uint8Array(body)]) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : {} };
}

test('faults: floods of bad input get clear errors; the collector keeps serving; memory stays bounded', async (t) => {
  const { collector: c } = await startCollectorOnTempDb(t, ['--max-body-bytes', String(MAX_BODY), '--max-pending', '2000']);
  const pid = c.proc.pid!;
  let good = 0;
  const stillServing = async (): Promise<void> => {
    const id = `good-${good++}`;
    const r = await post(c.url, [rec({ id, role: 'production' }), rec({ id, role: 'shadow' })]);
    assert.equal(r.status, 200);
    assert.equal(r.json.accepted, 2);
  };
  await stillServing();
  // Both threads (the main one and the prepare thread) grow their heaps once to parse
  // a 100,000-level body: warm that up first, so the bound measures what the floods
  // add, not the first high-water mark of the second heap.
  const warmDeep = '['.repeat(100_000) + ']'.repeat(100_000);
  assert.equal((await postRaw(c.url, warmDeep)).status, 200);
  assert.equal((await post(c.url, [rec({ id: 'warm-deep', role: 'production', response_body: warmDeep }), rec({ id: 'warm-deep', role: 'shadow', response_body: warmDeep + ' ' })])).json.accepted, 2);
  const rssBefore = rssMiB(pid);

  // Orphans: 20,000 production sides whose shadow never comes. Past --max-pending
  // they wait in SQLite only.
  for (let b = 0; b < 40; b++) {
    const r = await post(c.url, Array.from({ length: 500 }, (_, i) => rec({ id: `orphan-${b}-${i}`, role: 'production', response_body: 'x'.repeat(200) })));
    assert.equal(r.json.accepted, 500);
  }
  const health = await get(c.url, '/healthz');
  assert.ok(health.json.join.cachedPending <= 2000, `cached pending ${health.json.join.cachedPending}`);
  assert.equal((await stats(c.url)).total.pending + (await stats(c.url)).total.unmatched_production, 20_000 + 0);
  await stillServing();

  // Oversized bodies (announced and not).
  const big = Buffer.alloc(2 * MAX_BODY, 0x20);
  for (let i = 0; i < 30; i++) {
    const r = await rawRequest(c.url, `POST /v1/records HTTP/1.1\r\nhost: c\r\ncontent-type: application/json\r\ncontent-length: ${big.length}\r\n\r\n`, big);
    assert.equal(r.status, 413);
    assert.match(r.text, /body larger than 1048576 bytes/);
  }
  await stillServing();

  // Malformed JSON, random bytes, a body nested 100,000 levels deep.
  for (let i = 0; i < 300; i++) {
    const r = await postRaw(c.url, `[{"v":1,"id":"m${i}",`);
    assert.equal(r.status, 400);
    assert.match(r.json.error!, /not valid JSON/);
  }
  for (let i = 0; i < 100; i++) {
    const r = await postRaw(c.url, randomBytes(4096));
    assert.equal(r.status, 400);
  }
  for (let i = 0; i < 100; i++) {
    const r = await postRaw(c.url, randomBytes(4096), 'application/x-ndjson');
    assert.equal(r.status, 200, 'NDJSON: each bad line is one rejected record');
    assert.equal((r.json as { accepted?: number }).accepted, 0);
  }
  const deepArray = '['.repeat(100_000) + ']'.repeat(100_000);
  const deepUnclosed = '['.repeat(100_000);
  for (let i = 0; i < 10; i++) {
    const nested = await postRaw(c.url, deepArray);
    assert.equal(nested.status, 200, 'an array holding one (invalid) record');
    assert.equal((nested.json as { rejected?: number }).rejected, 1);
    assert.equal((await postRaw(c.url, deepUnclosed)).status, 400);
    const deepBody = await post(c.url, [rec({ id: `deep-${i}`, role: 'production', response_body: deepArray }), rec({ id: `deep-${i}`, role: 'shadow', response_body: deepArray + ' ' })]);
    assert.equal(deepBody.json.accepted, 2);
  }
  await stillServing();

  // Many invented route names: past --max-routes (default 1000) each record of a new
  // route is rejected on its own, so the stats book stops growing.
  let routesRejected = 0;
  for (let b = 0; b < 20; b++) {
    const r = await post(c.url, Array.from({ length: 500 }, (_, i) => rec({ id: `route-${b}-${i}`, role: 'production', route: `invented-${b}-${i}` })));
    assert.equal(r.status, 200);
    routesRejected += r.json.rejected;
    for (const e of r.json.errors) assert.match(e.error, /over the --max-routes cap of 1000/);
  }
  assert.ok(routesRejected >= 10_000 - 1000, `${routesRejected} records of new routes rejected`);
  assert.ok(Object.keys((await stats(c.url)).routes).length <= 1000);
  await stillServing();

  // Slow bodies (slowloris): 50 connections trickle a batch in over ~2 s while
  // good batches are answered in the meantime; then each slow one is answered too.
  const slow = Array.from({ length: 50 }, (_, i) => trickle(c.url, JSON.stringify([rec({ id: `slow-${i}`, role: 'production' })]), 20, 100));
  for (let i = 0; i < 10; i++) await stillServing();
  const slowAnswers = await Promise.all(slow);
  for (const a of slowAnswers) assert.match(a, /^HTTP\/1\.1 200/);

  const s = await stats(c.url);
  assert.equal(s.total.pairs, good + 11, 'every good pair, and the deep-body pairs (with the warm-up one), were made');
  const grown = rssMiB(pid) - rssBefore;
  t.diagnostic(`collector RSS ${rssBefore.toFixed(1)} MiB before the floods, grew by ${grown.toFixed(1)} MiB`);
  assert.ok(grown < RSS_GROWTH_BOUND_MIB, `RSS grew by ${grown.toFixed(1)} MiB`);
  assert.doesNotMatch(c.stderr(), /internal error/);
});

/** Sends `body` in `parts` pieces `gapMs` apart on one connection; resolves with the raw answer. */
function trickle(url: string, body: string, parts: number, gapMs: number): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let answer = '';
    socket.on('data', (d: Buffer) => {
      answer += d.toString();
      if (/\r\n\r\n[\s\S]*\}$/.test(answer)) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.on('connect', async () => {
      socket.write(`POST /v1/records HTTP/1.1\r\nhost: c\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`);
      const step = Math.ceil(body.length / parts);
      for (let i = 0; i < body.length; i += step) {
        socket.write(body.slice(i, i + step));
        await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}
