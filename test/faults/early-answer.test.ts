// Answers given before the body is read (413 over --max-body-bytes, 401 without the
// token) reach a client that writes its whole body before reading, instead of a reset.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { post, rec, stats } from '../collector/helpers.js';
import { startCollectorOnTempDb } from '../support/collector-on-temp-db.js';
import { rawRequest } from './raw-http.js';

// Far more than the socket buffers hold, so the client is still writing when the answer comes.
const BIG = Buffer.alloc(16 * 1024 * 1024, 0x20);
const ROUNDS = 4;

test('faults: 413 and 401 are readable by a client that writes the whole body first', async (t) => {
  const { collector: c } = await startCollectorOnTempDb(t, ['--max-body-bytes', '65536', '--token', 'tok']);
  const auth = 'authorization: Bearer tok\r\n';

  for (let i = 0; i < ROUNDS; i++) {
    const withLength = await rawRequest(
      c.url,
      `POST /v1/records HTTP/1.1\r\nhost: c\r\n${auth}content-type: application/json\r\ncontent-length: ${BIG.length}\r\n\r\n`,
      BIG,
    );
    assert.equal(withLength.status, 413, `round ${i}: ${withLength.error ?? ''} ${withLength.text.slice(0, 80)}`);
    assert.equal(withLength.error, null);
    assert.match(withLength.text, /body larger than 65536 bytes/);

    // Without a content-length the limit is only seen while reading.
    const chunked = await rawRequest(
      c.url,
      `POST /v1/records HTTP/1.1\r\nhost: c\r\n${auth}content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`,
      [BIG.length.toString(16) + '\r\n', BIG, '\r\n0\r\n\r\n'],
    );
    assert.equal(chunked.status, 413, `round ${i}: ${chunked.error ?? ''}`);
    assert.equal(chunked.error, null);

    const noToken = await rawRequest(c.url, `POST /v1/records HTTP/1.1\r\nhost: c\r\ncontent-type: application/json\r\ncontent-length: ${BIG.length}\r\n\r\n`, BIG);
    assert.equal(noToken.status, 401, `round ${i}: ${noToken.error ?? ''}`);
    assert.equal(noToken.error, null);
  }

  // Still serving, and nothing of the refused bodies was stored.
  const ok = await post(c.url, [rec({ id: 'after', role: 'production' })], { token: 'tok' });
  assert.equal(ok.status, 200);
  assert.equal((await stats(c.url)).total.production, 1);
});
