// PUT/GET /v1/control, its place in every /v1/records answer, and `shadowmesh pause` / `resume`.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { get, post, rec, startCollector, tempDir } from './helpers.js';
import { closedPort, runCli, send } from './decision-helpers.js';

test('control: validated, write token, carried by /v1/records answers only when set; pause and resume', async (t) => {
  const dir = tempDir(t);
  const c = await startCollector(['--db', join(dir, 'c.db'), '--token', 'w'], t);
  const put = (body: unknown, token: string | null = 'w') => send(c.url, 'PUT', '/v1/control', body, token === null ? {} : { token });

  assert.deepEqual((await get(c.url, '/v1/control')).json, {});
  assert.equal('control' in (await post(c.url, [rec({ id: 'a', role: 'production' })], { token: 'w' })).json, false);

  assert.equal((await put({ sample_percent: { '*': 5 } }, null)).status, 401);
  assert.equal((await put({ sample_percent: { '*': 5 } }, 'nope')).status, 401);
  for (const [body, message] of [
    [{ sample_percent: { '*': 101 } }, /sample_percent\/\*: must be <= 100/],
    [{ sample_percent: { predict: -1 } }, /must be >= 0/],
    [{ sample_percent: { predict: '5' } }, /must be number/],
    [{ sample: {} }, /unknown key "sample"/],
    [[1], /must be object/],
    ['{nope', /not valid JSON/],
  ] as const) {
    const r = await put(body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(r.json.error, message);
  }
  assert.deepEqual((await get(c.url, '/v1/control')).json, {}, 'a rejected PUT changes nothing');

  const set = await put({ sample_percent: { '*': 50, predict: 12.5 } });
  assert.deepEqual(set.json, { sample_percent: { '*': 50, predict: 12.5 } });
  const answer = await post(c.url, [rec({ id: 'b', role: 'production' }), { v: 2 }], { token: 'w' });
  assert.equal(answer.json.accepted, 1);
  assert.equal(answer.json.rejected, 1);
  assert.deepEqual(answer.json.control, { sample_percent: { '*': 50, predict: 12.5 } });
  assert.deepEqual((await put({})).json, {});
  assert.equal('control' in (await post(c.url, [], { token: 'w' })).json, false);

  // The CLI.
  const cli = (verb: string, ...args: string[]) => runCli([verb, '--url', c.url, '--token', 'w', ...args]);
  assert.equal((await cli('pause', '--route', 'predict')).code, 0);
  assert.equal((await cli('pause', '--route', 'other')).code, 0);
  assert.deepEqual((await get(c.url, '/v1/control')).json, { sample_percent: { predict: 0, other: 0 } });
  assert.equal((await cli('resume', '--route', 'predict')).code, 0);
  assert.deepEqual((await get(c.url, '/v1/control')).json, { sample_percent: { other: 0 } });
  const all = await cli('pause');
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /paused every route/);
  assert.deepEqual((await post(c.url, [], { token: 'w' })).json.control, { sample_percent: { '*': 0 } });
  assert.equal((await cli('resume')).code, 0);
  assert.deepEqual((await get(c.url, '/v1/control')).json, {});

  const port = await closedPort();
  for (const r of await Promise.all([
    runCli(['pause', '--url', c.url, '--token', 'bad']),
    runCli(['resume', '--url', `http://127.0.0.1:${port}`]),
    runCli(['pause']),
  ])) {
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  assert.equal(await c.stop(), 0);
});
