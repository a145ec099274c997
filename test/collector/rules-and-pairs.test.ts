// Comparison rules from a config file, seen through the HTTP API; pair listing and paging.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { test } from 'node:test';
import { get, post, rec, runCollectorToExit, startCollector, stats, tempDir } from './helpers.js';

const YAML_CONFIG = `
# comparison rules
routes:
  "*":
    ignore: ["/meta/request_id"]
    numeric_tolerance: { abs: 0, rel: 0 }
  predict:
    ignore: ["/trace/*"]
    numeric_tolerance: { abs: 0.01 }
    compare_headers: [content-type]
    prediction: { label: /label, score: /score }
verdict:
  min_pairs: 500
  min_match_rate: 0.98
  max_error_rate_delta: 0.01
  max_latency_p99_ratio: 1.25
  confidence: 0.95
`;

test('rules from a YAML config file apply per route', async (t) => {
  const dir = tempDir(t);
  const cfg = join(dir, 'rules.yaml');
  writeFileSync(cfg, YAML_CONFIG);
  const c = await startCollector(['--db', join(dir, 'c.db'), '--config', cfg], t);
  const ct = { response_headers: { 'content-type': 'application/json' } };
  const body = (o: unknown) => JSON.stringify(o);

  const send = async (id: string, route: string, p: Record<string, unknown>, s: Record<string, unknown>) => {
    const r = await post(c.url, [rec({ id, role: 'production', route, ...ct, ...p }), rec({ id, role: 'shadow', route, ...ct, ...s })]);
    assert.equal(r.json.accepted, 2);
    return (await get(c.url, `/v1/pairs/${id}`)).json;
  };

  // predict: its own ignore replaces *'s (key by key), tolerance 0.01.
  let p = await send('r1', 'predict',
    { response_body: body({ label: 'cat', score: 0.9, trace: { span: 'a' }, meta: { request_id: 'x' } }) },
    { response_body: body({ meta: { request_id: 'y' }, score: 0.905, label: 'cat', trace: { span: 'b', extra: 1 } }) });
  assert.equal(p.body_match, false, 'predict overrides the * ignore list, so /meta/request_id counts');
  assert.deepEqual(p.diffs.map((d: { path: string }) => d.path), ['/meta/request_id']);

  p = await send('r2', 'predict', { response_body: body({ label: 'cat', score: 0.9 }) }, { response_body: body({ label: 'dog', score: 0.95 }) });
  assert.deepEqual(p.diffs.map((d: { path: string }) => d.path).sort(), ['/label', '/score']);

  // other routes use *: ignore /meta/request_id, no tolerance, no header comparison.
  p = await send('r3', 'other',
    { response_body: body({ v: 1, meta: { request_id: 'x' } }), response_headers: { 'content-type': 'a' } },
    { response_body: body({ meta: { request_id: 'y' }, v: 1 }), response_headers: { 'content-type': 'b' } });
  assert.equal(p.match, true);
  p = await send('r4', 'other', { response_body: body({ v: 1 }) }, { response_body: body({ v: 1.001 }) });
  assert.equal(p.match, false);

  // compare_headers on predict.
  p = await send('r5', 'predict', { response_body: '{}' }, { response_body: '{}', response_headers: { 'content-type': 'text/plain' } });
  assert.equal(p.body_match, true);
  assert.equal(p.match, false);
  assert.deepEqual(p.diffs, [{ path: 'header:content-type', kind: 'changed', production: 'application/json', shadow: 'text/plain' }]);

  // base64 shadow vs utf8 production.
  const json = body({ label: 'cat', score: 0.9 });
  p = await send('r6', 'predict', { response_body: json }, { response_body: Buffer.from(json).toString('base64'), body_encoding: 'base64' });
  assert.equal(p.match, true);

  // truncated.
  p = await send('r7', 'predict', { response_body: '{"a":[1,2', response_body_truncated: true }, { response_body: '{"a":[1,2', response_body_truncated: true });
  assert.equal(p.truncated, true);
  assert.equal(p.body_match, true);

  const s = await stats(c.url, 'predict');
  assert.equal(s.total.pairs, 5);
  assert.equal(s.total.match, 2);
  assert.equal(s.total.match_rate, 2 / 5);
  assert.equal(s.total.body_match, 3);
  // fields: body JSON paths only, most first (headers not counted).
  assert.deepEqual(s.total.fields, [
    { path: '/label', diffs: 1 },
    { path: '/meta/request_id', diffs: 1 },
    { path: '/score', diffs: 1 },
  ]);
  assert.equal(await c.stop(), 0);
});

test('bad config files (and a file that is not a database) stop the start with exit code 2 and a clear message', async (t) => {
  const dir = tempDir(t);
  const cases: [string, string, RegExp][] = [
    ['unknown-top.json', '{"routes": {}, "colour": 1}', /unknown key "colour"/],
    ['unknown-route-key.yaml', 'routes:\n  predict:\n    ignorr: ["/a"]\n', /routes\/predict.*unknown key "ignorr"/],
    ['wrong-type.json', '{"routes": {"*": {"numeric_tolerance": {"abs": "0.1"}}}}', /numeric_tolerance\/abs.*number/],
    ['bad-pointer.json', '{"routes": {"*": {"ignore": ["meta"]}}}', /ignore\/0/],
    ['bad-verdict.json', '{"verdict": {"confidence": 2}}', /confidence/],
    ['not-yaml.yaml', 'routes: [unclosed', /not-yaml\.yaml: line 1, column \d+: invalid YAML/],
    ['not-object.json', '[1,2]', /must be object/],
  ];
  for (const [name, text, message] of cases) {
    const file = join(dir, name);
    writeFileSync(file, text);
    const r = await runCollectorToExit(['--db', ':memory:', '--config', file]);
    assert.equal(r.code, 2, `${name}: ${r.stderr}`);
    assert.match(r.stderr, message, name);
  }
  const missing = await runCollectorToExit(['--db', ':memory:', '--config', join(dir, 'nope.yaml')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read/);
  const notDb = join(dir, 'not-a.db');
  writeFileSync(notDb, 'this is not an SQLite database, just some text long enough to have a header');
  const bad = await runCollectorToExit(['--db', notDb]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /not-a\.db: file is not a database/);
  const oldDb = join(dir, 'old.db');
  const db = new Database(oldDb);
  db.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO meta VALUES ('schema_version', '1')");
  db.close();
  const old = await runCollectorToExit(['--db', oldDb]);
  assert.equal(old.code, 2);
  assert.match(old.stderr, /schema version 1/);
});

test('GET /v1/pairs: newest first, filters, cursor pages', async (t) => {
  const dir = tempDir(t);
  const c = await startCollector(['--db', join(dir, 'c.db')], t);
  // 7 pairs on route a (every third a mismatch), 3 on route b, in separate batches for a clear order.
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) {
    const id = `p${i}`;
    ids.push(id);
    const route = i < 7 ? 'a' : 'b';
    const mismatch = i % 3 === 0;
    await post(c.url, [
      rec({ id, role: 'production', route, response_body: '{"x":1}' }),
      rec({ id, role: 'shadow', route, response_body: mismatch ? '{"x":2}' : '{"x":1}' }),
    ]);
  }
  await post(c.url, [rec({ id: 'lonely', role: 'production' })]);

  const all = await get(c.url, '/v1/pairs');
  assert.equal(all.status, 200);
  assert.deepEqual(all.json.items.map((p: { id: string }) => p.id), [...ids].reverse());
  assert.equal(all.json.next_cursor, null);
  assert.equal(all.json.items[0].production.id, 'p9');

  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const q: string = `/v1/pairs?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await get(c.url, q);
    assert.ok(page.json.items.length <= 3);
    seen.push(...page.json.items.map((p: { id: string }) => p.id));
    cursor = page.json.next_cursor;
    pages++;
  } while (cursor !== null && pages < 10);
  assert.equal(pages, 4);
  assert.deepEqual(seen, [...ids].reverse());

  const exact = await get(c.url, '/v1/pairs?limit=5&route=b');
  assert.equal(exact.json.items.length, 3);
  assert.equal(exact.json.next_cursor, null);

  const mism = await get(c.url, '/v1/pairs?mismatch=true');
  assert.deepEqual(mism.json.items.map((p: { id: string }) => p.id), ['p9', 'p6', 'p3', 'p0']);
  const aMatch = await get(c.url, '/v1/pairs?mismatch=false&route=a');
  assert.deepEqual(aMatch.json.items.map((p: { id: string }) => p.id), ['p5', 'p4', 'p2', 'p1']);
  for (const item of aMatch.json.items) assert.equal(item.match, true);
  const paged = await get(c.url, '/v1/pairs?mismatch=true&route=a&limit=2');
  assert.deepEqual(paged.json.items.map((p: { id: string }) => p.id), ['p6', 'p3']);
  const rest = await get(c.url, `/v1/pairs?mismatch=true&route=a&limit=2&cursor=${encodeURIComponent(paged.json.next_cursor)}`);
  assert.deepEqual(rest.json.items.map((p: { id: string }) => p.id), ['p0']);
  assert.equal(rest.json.next_cursor, null);

  assert.equal((await get(c.url, '/v1/pairs?limit=0')).status, 400);
  assert.equal((await get(c.url, '/v1/pairs?limit=abc')).status, 400);
  assert.equal((await get(c.url, '/v1/pairs?mismatch=maybe')).status, 400);
  assert.equal((await get(c.url, '/v1/pairs?cursor=garbage')).status, 400);
  assert.equal((await get(c.url, '/v1/pairs?limit=100000')).json.items.length, 10);
  assert.deepEqual((await get(c.url, '/v1/pairs?route=nope')).json, { items: [], next_cursor: null });

  // limit is capped at 500.
  const many = [];
  for (let i = 0; i < 600; i++) many.push(rec({ id: `q${i}`, role: 'production', route: 'c' }), rec({ id: `q${i}`, role: 'shadow', route: 'c' }));
  assert.equal((await post(c.url, many)).json.accepted, 1200);
  const capped = await get(c.url, '/v1/pairs?limit=100000');
  assert.equal(capped.json.items.length, 500);
  assert.notEqual(capped.json.next_cursor, null);
  const last = await get(c.url, `/v1/pairs?limit=500&cursor=${encodeURIComponent(capped.json.next_cursor)}`);
  assert.equal(last.json.items.length, 610 - 500);
  assert.equal(last.json.next_cursor, null);
  assert.equal(await c.stop(), 0);
});
