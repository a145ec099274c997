// Mesh-mirror mode with the filter deciding (issue 7.7): Envoy's request_mirror_policies
// sample by a per-stream random number, so the filter cannot predict them; instead the
// route mirrors by `cluster_header`, and the filter names the mirror cluster in that
// header on exactly the requests it samples (and records).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFilter, exchange, flushRecords } from './support/vm.js';

const fnv = (s: string): number => { let h = 0x811c9dc5; for (const b of Buffer.from(s)) { h ^= b; h = Math.imul(h, 16777619) >>> 0; } return h; };
const MESH = { role: 'production', mesh_mirror_cluster_header: 'x-shadowmesh-mirror', mesh_mirror_cluster: 'shadow_inbound' };

test('sampled requests carry the mirror cluster; the others do not; the records are exactly the sampled ones', async () => {
  const vm = await startFilter({ ...MESH, sample_percent: 10 });
  const marked: string[] = [];
  const expected: string[] = [];
  for (let i = 0; i < 500; i++) {
    const id = `mm-${i}`;
    if (fnv(id) % 10000 < 1000) expected.push(id);
    const { stream } = exchange(vm, { headers: [['x-request-id', id]] });
    const v = stream.requestHeader('x-shadowmesh-mirror');
    if (v !== undefined) {
      assert.equal(v, 'shadow_inbound');
      marked.push(id);
    }
  }
  assert.deepEqual(marked, expected);
  assert.ok(expected.length > 25 && expected.length < 80, String(expected.length));
  assert.deepEqual(flushRecords(vm).map((r) => r.id), expected);
  assert.equal(vm.httpCalls.length, 0, 'the filter makes no copy itself');
});

test('a caller cannot choose the mirror cluster: an incoming header is emptied, even outside the routes', async () => {
  const vm = await startFilter({ ...MESH, sample_percent: 0, routes: [{ name: 'p', path_prefix: '/predict' }] });
  const inRoute = exchange(vm, { path: '/predict', headers: [['x-request-id', 'spoof-1'], ['x-shadowmesh-mirror', 'collector']] });
  assert.equal(inRoute.stream.requestHeader('x-shadowmesh-mirror'), '');
  const outside = exchange(vm, { path: '/admin', headers: [['x-shadowmesh-mirror', 'collector']] });
  assert.equal(outside.stream.requestHeader('x-shadowmesh-mirror'), '');
  const plain = exchange(vm, { path: '/admin' });
  assert.equal(plain.stream.requestHeader('x-shadowmesh-mirror'), undefined, 'no header is added when none came');
});

test('the remote control lowers what Envoy mirrors too', async () => {
  const vm = await startFilter(MESH);
  exchange(vm, { headers: [['x-request-id', 'before']] });
  vm.tick();
  for (const c of vm.takeHttpCalls('collector')) vm.respond(c, { status: 200, body: '{"accepted":1,"control":{"sample_percent":{"*":0}}}' });
  const { stream } = exchange(vm, { headers: [['x-request-id', 'after']] });
  assert.equal(stream.requestHeader('x-shadowmesh-mirror'), undefined);
});

test('upgrades and CONNECT are never marked (Envoy does not mirror CONNECT)', async () => {
  const vm = await startFilter(MESH);
  const ws = exchange(vm, { headers: [['x-request-id', 'ws'], ['connection', 'upgrade'], ['upgrade', 'websocket']], status: 101 });
  assert.equal(ws.stream.requestHeader('x-shadowmesh-mirror'), undefined);
});
