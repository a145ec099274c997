// Secrets a client sends never reach the collector's SQLite file (checked on the
// file's bytes, WAL included), and query parameters cannot inject SQL.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { get, post, rec, stats } from '../collector/helpers.js';
import { requireFilterWasm, send, startUpstream, until } from '../sidecar/helpers.js';
import { startCollectorOnTempDb } from '../support/collector-on-temp-db.js';
import { startSidecarFromEnvoyYaml } from '../support/sidecar-from-envoy-yaml.js';

const AUTH = 'Bearer sk-live-AUTHSECRET-51c9';
const COOKIE = 'session=COOKIESECRET-7d2e';
const VISIBLE = 'VISIBLE-MARKER-0b3a';

function dbBytes(db: string): string {
  return ['', '-wal', '-shm'].map((s) => (existsSync(db + s) ? readFileSync(db + s).toString('latin1') : '')).join('');
}

test('faults: authorization and cookie values never reach the SQLite file', async (t) => {
  requireFilterWasm();
  const { collector, db } = await startCollectorOnTempDb(t);
  // Both versions reflect the client's credentials in their answer's headers, as a
  // careless service might; the record keeps the header but not the value.
  const reflect = (r: { headers: Record<string, string | string[] | undefined>; body: string }, res: import('node:http').ServerResponse): void => {
    res.setHeader('authorization', String(r.headers.authorization));
    res.setHeader('set-cookie', String(r.headers.cookie));
    res.setHeader('x-visible', VISIBLE);
    res.setHeader('content-type', 'application/json');
    res.end('{"score":1}');
  };
  const prod = await startUpstream(reflect);
  const shadow = await startUpstream(reflect);
  const sc = await startSidecarFromEnvoyYaml(t, { production: prod.port, shadow: shadow.port, collector: new URL(collector.url).host }, [prod, shadow]);
  const N = 20;
  for (let i = 0; i < N; i++) {
    const r = await send(sc.port, '/predict', { method: 'POST', headers: { authorization: AUTH, cookie: COOKIE }, body: `{"i":${i}}` });
    assert.equal(r.status, 200);
  }
  await until(() => shadow.requests.length >= N, 10_000);
  let s = await stats(collector.url);
  for (let tries = 0; s.total.pairs < N && tries < 200; tries++) {
    await new Promise((r) => setTimeout(r, 50));
    s = await stats(collector.url);
  }
  assert.equal(s.total.pairs, N);
  // The shadow did receive the credentials (no strip_headers): only the records are redacted.
  assert.equal(shadow.requests[0]!.headers.authorization, AUTH);

  const page = await get(collector.url, '/v1/pairs?limit=1');
  assert.equal(page.json.items[0].production.response_headers.authorization, '[redacted]');
  assert.equal(page.json.items[0].production.response_headers['set-cookie'], '[redacted]');

  const live = dbBytes(db);
  assert.ok(live.includes(VISIBLE), 'the grep finds what was recorded (the check can fail)');
  assert.ok(!live.includes('AUTHSECRET') && !live.includes('COOKIESECRET'));
  await collector.stop('SIGTERM');
  const folded = dbBytes(db);
  assert.ok(folded.includes(VISIBLE));
  assert.ok(!folded.includes('AUTHSECRET') && !folded.includes('COOKIESECRET'));
});

test('faults: query parameters cannot inject SQL', async (t) => {
  const { collector: c } = await startCollectorOnTempDb(t);
  for (const route of ['predict', 'rank']) {
    for (let i = 0; i < 3; i++) {
      const id = `${route}-${i}`;
      await post(c.url, [rec({ id, role: 'production', route }), rec({ id, role: 'shadow', route, status: i === 0 ? 500 : 200 })]);
    }
  }
  const injections = [
    "' OR '1'='1",
    "predict' OR 1=1 --",
    "predict'; DROP TABLE pairs; --",
    'predict" OR ""="',
    "x' UNION SELECT seq, id, route, 1, 1, 1, 1, 1, 1, '[]', 0 FROM records --",
  ];
  for (const q of injections) {
    const e = encodeURIComponent(q);
    const pairs = await get(c.url, `/v1/pairs?route=${e}`);
    assert.equal(pairs.status, 200, q);
    assert.deepEqual(pairs.json.items, [], q);
    const st = await get(c.url, `/v1/stats?route=${e}`);
    assert.ok(st.status === 200 || st.status === 404, `${q}: ${st.status}`);
    if (st.status === 200) assert.equal(st.json.total.pairs, 0, q);
    for (const param of ['cursor', 'limit', 'mismatch']) {
      const r = await get(c.url, `/v1/pairs?${param}=${e}`);
      assert.equal(r.status, 400, `${param}=${q}`);
    }
    assert.equal((await get(c.url, `/v1/pairs/${e}`)).status, 404, q);
  }
  // Everything is still there and a plain filter still works.
  assert.equal((await stats(c.url)).total.pairs, 6);
  assert.equal((await get(c.url, '/v1/pairs?route=predict')).json.items.length, 3);
  assert.equal((await get(c.url, '/v1/pairs?route=rank&mismatch=true')).json.items.length, 1);
});
