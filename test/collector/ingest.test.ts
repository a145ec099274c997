// POST /v1/records against a real collector process and a real SQLite file.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { get, post, rec, startCollector, stats, tempDir } from './helpers.js';

test('ingest: validation, partial acceptance, duplicates, NDJSON, 400 and 413', async (t) => {
  const dir = tempDir(t);
  const c = await startCollector(['--db', join(dir, 'c.db'), '--max-body-bytes', '20000'], t);

  await t.test('bad records mixed with good ones: good kept, bad named by index and reason', async () => {
    const batch = [
      rec({ id: 'g1', role: 'production' }),
      rec({ id: 'b1', role: 'production', status: 1000 }),
      { ...rec({ id: 'b2', role: 'shadow' }), latency_ms: undefined },
      rec({ id: 'g2', role: 'shadow', extra_field_from_newer_filter: { x: 1 }, error: null, source: null }),
      rec({ id: 'bad id with spaces', role: 'shadow' }),
      rec({ id: 'b4', role: 'canary' }),
      rec({ id: 'b5', role: 'shadow', route: '' }),
      rec({ id: 'b6', role: 'shadow', body_encoding: 'base64', response_body: 'not base64!' }),
      'a string',
    ];
    const r = await post(c.url, batch);
    assert.equal(r.status, 200);
    assert.equal(r.json.accepted, 2);
    assert.equal(r.json.rejected, 7);
    assert.deepEqual(
      r.json.errors.map((e: { index: number }) => e.index),
      [1, 2, 4, 5, 6, 7, 8],
    );
    for (const e of r.json.errors) assert.ok(typeof e.error === 'string' && e.error.length > 5, e.error);
    assert.match(r.json.errors[0].error, /status/);
    assert.match(r.json.errors[1].error, /latency_ms/);
    assert.match(r.json.errors[2].error, /id/);
    assert.match(r.json.errors[3].error, /role/);
    assert.match(r.json.errors[4].error, /route/);
    assert.match(r.json.errors[5].error, /base64/);
    const s = await stats(c.url);
    assert.equal(s.total.production, 1);
    assert.equal(s.total.shadow, 1);
    // The unknown field is kept with the record.
    const g2 = await get(c.url, '/v1/pairs/g2');
    assert.deepEqual(g2.json.shadow.extra_field_from_newer_filter, { x: 1 });
  });

  await t.test('a repeated (id, role) is accepted, stored and counted once; the first copy wins', async () => {
    const first = rec({ id: 'dup', role: 'production', status: 201 });
    const again = rec({ id: 'dup', role: 'production', status: 503 });
    const r1 = await post(c.url, [first, again]);
    assert.deepEqual(r1.json, { accepted: 2, rejected: 0, errors: [] });
    const r2 = await post(c.url, [again]);
    assert.deepEqual(r2.json, { accepted: 1, rejected: 0, errors: [] });
    const s = await stats(c.url);
    assert.equal(s.total.production, 2); // g1 and dup
    assert.equal(s.total.production_errors, 0);
    const p = await get(c.url, '/v1/pairs/dup');
    assert.equal(p.json.production.status, 201);
  });

  await t.test('NDJSON with a bad line: that line is one rejected record', async () => {
    const lines = [
      JSON.stringify(rec({ id: 'n1', role: 'production' })),
      '{"v":1, this is not json',
      '',
      JSON.stringify(rec({ id: 'n1', role: 'shadow' })),
    ].join('\n');
    const r = await post(c.url, lines + '\n', { contentType: 'application/x-ndjson' });
    assert.equal(r.status, 200);
    assert.equal(r.json.accepted, 2);
    assert.equal(r.json.rejected, 1);
    assert.equal(r.json.errors[0].index, 1);
    assert.match(r.json.errors[0].error, /JSON/);
    const p = await get(c.url, '/v1/pairs/n1');
    assert.equal(p.json.match, true);
  });

  await t.test('malformed bodies and non-arrays answer 400 and keep nothing', async () => {
    const before = (await stats(c.url)).total;
    for (const body of ['[{"v":1,', 'not json at all', '{"v":1}', '"x"', '']) {
      const r = await post(c.url, body);
      assert.equal(r.status, 400, `body ${JSON.stringify(body)}`);
      assert.equal(typeof r.json.error, 'string');
    }
    assert.deepEqual((await stats(c.url)).total, before);
  });

  await t.test('a body over --max-body-bytes answers 413 and keeps nothing', async () => {
    const big = [];
    for (let i = 0; i < 40; i++) big.push(rec({ id: `big${i}`, role: 'production', response_body: 'x'.repeat(1000) }));
    const r = await post(c.url, big);
    assert.equal(r.status, 413);
    const p = await get(c.url, '/v1/pairs/big0');
    assert.equal(p.status, 404);
  });

  await t.test('null in optional fields means absent', async () => {
    const sent = rec({ id: 'nul', role: 'production', response_body: null, response_headers: null, body_encoding: null, response_body_truncated: null, request_body: null, error: null, source: null });
    const r = await post(c.url, [sent]);
    assert.equal(r.json.accepted, 1);
    // Its partner leaves the same fields out: absent and null compare alike, and a
    // null response_body_truncated does not flag the pair.
    const partner = rec({ id: 'nul', role: 'shadow', response_body: '' });
    assert.equal((await post(c.url, [partner])).json.accepted, 1);
    const p = await get(c.url, '/v1/pairs/nul');
    assert.equal(p.status, 200);
    assert.deepEqual(p.json.diffs, []);
    assert.equal(p.json.body_match, true);
    assert.equal(p.json.match, true);
    assert.equal(p.json.truncated, false);
    // The stored record is the record as sent: nothing lost, nothing invented.
    assert.deepEqual(p.json.production, sent);
    assert.deepEqual(p.json.shadow, partner);
  });

  assert.equal(await c.stop(), 0);
});
