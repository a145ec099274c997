// The route-name bound (256 characters) where a route name enters the collector: a
// record's `route` (POST /v1/records, per record) and a route key of PUT /v1/control.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { MAX_ROUTE_NAME_LENGTH } from '../../src/collector/route-name.js';
import { get, post, rec, startCollector, stats, tempDir } from './helpers.js';
import { send } from './decision-helpers.js';

test('route names: a record or control key over 256 characters is refused on its own, with the reason; 256 pass', async (t) => {
  assert.equal(MAX_ROUTE_NAME_LENGTH, 256, 'docs/collector.md and the filter (assembly/filter/config.ts) say 256');
  const dir = tempDir(t);
  const c = await startCollector(['--db', join(dir, 'c.db')], t);
  const at256 = 'r'.repeat(256);
  // 256 emoji: 512 UTF-16 units, 256 characters.
  const emoji = '\u{1F600}'.repeat(256);

  await t.test('records: the long one rejected by index, the batch kept', async () => {
    const r = await post(c.url, [
      rec({ id: 'ok256', role: 'production', route: at256 }),
      rec({ id: 'long', role: 'production', route: `${at256}x` }),
      rec({ id: 'emoji', role: 'production', route: emoji }),
      rec({ id: 'emoji-long', role: 'shadow', route: `${emoji}a` }),
      rec({ id: 'short', role: 'production' }),
    ]);
    assert.equal(r.status, 200);
    assert.equal(r.json.accepted, 3);
    assert.equal(r.json.rejected, 2);
    assert.deepEqual(r.json.errors.map((e: { index: number }) => e.index), [1, 3]);
    for (const e of r.json.errors) assert.match(e.error, /^\/route: must NOT have more than 256 characters/);
    const s = await stats(c.url);
    assert.deepEqual(Object.keys(s.routes).sort(), [at256, emoji, 'predict'].sort());
    assert.equal(s.total.production, 3);
    assert.equal((await get(c.url, '/v1/pairs/long')).status, 404, 'the rejected record is not stored');
  });

  await t.test('control: a long route key refused whole, nothing changed', async () => {
    const put = (body: unknown) => send(c.url, 'PUT', '/v1/control', body, {});
    const bad = await put({ sample_percent: { '*': 10, [`${at256}x`]: 5 } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /^\/sample_percent: route name of 257 characters is longer than the limit of 256/);
    assert.deepEqual((await get(c.url, '/v1/control')).json, {}, 'a refused PUT changes nothing');
    const good = await put({ sample_percent: { [at256]: 5, [emoji]: 1 } });
    assert.equal(good.status, 200, JSON.stringify(good.json));
    assert.deepEqual(good.json, { sample_percent: { [at256]: 5, [emoji]: 1 } });
  });
});
