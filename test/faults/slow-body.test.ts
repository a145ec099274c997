// A sender that never finishes its request (slowloris) is answered 408 once
// --request-timeout-ms has passed, and its connection is closed; others are served.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { post, rec } from '../collector/helpers.js';
import { startCollectorOnTempDb } from '../support/collector-on-temp-db.js';

/** Writes `head` (and nothing more); resolves with all the server sent before it closed. */
function stall(url: string, head: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('error', () => {});
    // Bounds the test when no 408 ever comes (the assertion then fails).
    const timer = setTimeout(() => socket.destroy(), 15_000);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    socket.on('connect', () => socket.write(head));
  });
}

test('faults: requests that never finish get 408 and lose their connection', async (t) => {
  const { collector: c } = await startCollectorOnTempDb(t, ['--request-timeout-ms', '1000']);
  const slowBodies = Array.from({ length: 20 }, () =>
    stall(c.url, 'POST /v1/records HTTP/1.1\r\nhost: c\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n[{"v":1,'),
  );
  const slowHead = stall(c.url, 'POST /v1/records HTTP/1.1\r\nhost: c\r\ncontent-');
  // Served while the stalled ones hang.
  assert.equal((await post(c.url, [rec({ id: 'meanwhile', role: 'production' })])).json.accepted, 1);
  for (const answer of await Promise.all(slowBodies)) assert.match(answer, /^HTTP\/1\.1 408/);
  assert.match(await slowHead, /^HTTP\/1\.1 408/);
  assert.equal((await post(c.url, [rec({ id: 'after', role: 'production' })])).json.accepted, 1);
});
