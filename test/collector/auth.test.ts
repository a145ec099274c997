// Bearer tokens: write token on POST, read token on GET /v1/* and GET /.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { get, post, rec, startCollector, stats, tempDir } from './helpers.js';

/** Sends only the request head announcing a large body, and returns what the server answers before any body byte. */
function headOnly(url: string, headers: string[], waitMs = 5000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname);
    let got = '';
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(got);
    }, waitMs);
    sock.on('data', (d) => {
      got += d.toString();
      if (got.includes('\r\n\r\n')) {
        clearTimeout(timer);
        sock.destroy();
        resolve(got);
      }
    });
    sock.on('error', reject);
    sock.write(
      ['POST /v1/records HTTP/1.1', `host: ${hostname}`, 'content-type: application/json', 'content-length: 5000000', ...headers, '', ''].join('\r\n'),
    );
  });
}

test('auth: write and read tokens', async (t) => {
  const dir = tempDir(t);
  const c = await startCollector(['--db', join(dir, 'c.db'), '--token', 's3cret-write', '--read-token', 'r3ad'], t);
  const batch = [rec({ id: 'a1', role: 'production' })];

  await t.test('missing and wrong tokens answer 401 and store nothing', async () => {
    assert.equal((await post(c.url, batch)).status, 401);
    assert.equal((await post(c.url, batch, { token: 's3cret-writ' })).status, 401);
    assert.equal((await post(c.url, batch, { token: 's3cret-write-and-more' })).status, 401);
    assert.equal((await post(c.url, batch, { token: 'r3ad' })).status, 401);
    const res = await fetch(`${c.url}/v1/records`, { method: 'POST', headers: { authorization: 's3cret-write' }, body: JSON.stringify(batch) });
    assert.equal(res.status, 401);
    assert.equal((await get(c.url, '/v1/pairs/a1', 'r3ad')).status, 404);
  });

  await t.test('401 is decided before the body is read', async () => {
    // The head promises 5 MB that never come: an answer can only come from the onRequest check.
    const answer = await headOnly(c.url, ['authorization: Bearer nope']);
    assert.match(answer, /^HTTP\/1\.1 401/);
    const missing = await headOnly(c.url, []);
    assert.match(missing, /^HTTP\/1\.1 401/);
    // With the right token the server waits for the body instead (no answer in the head-only window).
    const waiting = await headOnly(c.url, ['authorization: Bearer s3cret-write'], 1500);
    assert.equal(waiting, '');
  });

  await t.test('the right token is accepted', async () => {
    const r = await post(c.url, batch, { token: 's3cret-write' });
    assert.equal(r.status, 200);
    assert.equal(r.json.accepted, 1);
  });

  await t.test('GET /v1/* needs the read token; /healthz never does', async () => {
    assert.equal((await get(c.url, '/v1/stats')).status, 401);
    assert.equal((await get(c.url, '/v1/stats', 'wrong')).status, 401);
    assert.equal((await get(c.url, '/v1/stats', 's3cret-write')).status, 401);
    assert.equal((await get(c.url, '/v1/pairs')).status, 401);
    assert.equal((await get(c.url, '/v1/pairs/a1')).status, 401);
    assert.equal((await fetch(`${c.url}/`)).status, 401); // the dashboard page, which asks for the token
    const ok = await get(c.url, '/v1/stats', 'r3ad');
    assert.equal(ok.status, 200);
    assert.equal(ok.json.total.production, 1);
    assert.equal((await get(c.url, '/healthz')).status, 200);
  });

  assert.equal(await c.stop(), 0);
});

test('auth: without --read-token reads are open, without --token writes are open', async (t) => {
  const dir = tempDir(t);
  const c = await startCollector(['--db', join(dir, 'c.db')], t);
  assert.equal((await post(c.url, [rec({ id: 'x', role: 'shadow' })])).status, 200);
  assert.equal((await stats(c.url)).total.shadow, 1);
  assert.equal(await c.stop('SIGINT'), 0);
});
