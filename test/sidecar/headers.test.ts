// The sidecar's header rules on their own: which names are hop-by-hop (RFC 9110
// §7.6.1 plus the legacy keep-alive/proxy-connection Envoy also strips), the
// names a Connection header lists, and the list helpers the filter ABI uses.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { endToEndHeaders, getHeader, removeHeader, requestHasNoBody, requestHeadersOf, responseHeadersOf, setHeader, toRawHeaders, type HeaderList } from '../../src/sidecar/headers.js';

const HOP = ['Connection', 'Keep-Alive', 'Proxy-Connection', 'Transfer-Encoding', 'Upgrade', 'TE', 'Trailer'];

test('every hop-by-hop header is dropped, whatever its case; end-to-end ones stay in order', () => {
  for (const name of HOP) {
    assert.deepEqual(endToEndHeaders(['X-A', '1', name, 'v', 'x-b', '2']), [['x-a', '1'], ['x-b', '2']], name);
  }
  const raw = HOP.flatMap((n) => [n, 'v']);
  assert.deepEqual(endToEndHeaders([...raw, 'Content-Type', 'text/plain']), [['content-type', 'text/plain']]);
});

test('names listed in Connection are dropped too (comma list, spaces, any case, repeated headers)', () => {
  const raw = ['Connection', 'X-One , x-two', 'connection', 'X-Three', 'x-one', '1', 'X-Two', '2', 'x-three', '3', 'x-four', '4'];
  assert.deepEqual(endToEndHeaders(raw), [['x-four', '4']]);
  assert.deepEqual(endToEndHeaders(['Connection', ' , ,', 'x-a', '1']), [['x-a', '1']]);
  assert.deepEqual(endToEndHeaders(['x-a', '1', 'host', 'h'], new Set(['host'])), [['x-a', '1']]);
});

test('request headers: pseudo-headers first, Host as :authority, hop-by-hop gone', () => {
  const req = {
    headers: { host: 'svc:8080' },
    url: '/p?q=1',
    method: 'POST',
    rawHeaders: ['Host', 'svc:8080', 'Keep-Alive', 'timeout=5', 'TE', 'trailers', 'Trailer', 'x-t', 'Proxy-Connection', 'keep-alive', 'X-Id', 'a'],
  } as unknown as IncomingMessage;
  assert.deepEqual(requestHeadersOf(req), [[':authority', 'svc:8080'], [':path', '/p?q=1'], [':method', 'POST'], [':scheme', 'http'], ['x-id', 'a']]);
  const bare = { headers: {}, rawHeaders: [] } as unknown as IncomingMessage;
  assert.deepEqual(requestHeadersOf(bare), [[':authority', ''], [':path', '/'], [':method', 'GET'], [':scheme', 'http']]);
  assert.deepEqual(responseHeadersOf(201, ['Keep-Alive', 'timeout=5', 'Trailer', 'x', 'X-R', 'r']), [[':status', '201'], ['x-r', 'r']]);
});

test('get/set/remove keep one value per name and the list order', () => {
  const h: HeaderList = [['a', '1'], ['b', '2'], ['a', '3'], ['c', '4'], ['a', '5']];
  assert.equal(getHeader(h, 'a'), '1');
  assert.equal(getHeader(h, 'z'), undefined);
  setHeader(h, 'a', 'x');
  assert.deepEqual(h, [['a', 'x'], ['b', '2'], ['c', '4']]);
  setHeader(h, 'd', 'y');
  assert.deepEqual(h, [['a', 'x'], ['b', '2'], ['c', '4'], ['d', 'y']]);
  h.push(['b', '9']);
  removeHeader(h, 'b');
  assert.deepEqual(h, [['a', 'x'], ['c', '4'], ['d', 'y']]);
  assert.deepEqual(toRawHeaders([[':status', '200'], ['a', '1'], [':x', 'y'], ['b', '2']]), ['a', '1', 'b', '2']);
});

test('a request has no body only without transfer-encoding and with no or zero content-length', () => {
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
  assert.equal(requestHasNoBody(req({})), true);
  assert.equal(requestHasNoBody(req({ 'content-length': '0' })), true);
  assert.equal(requestHasNoBody(req({ 'content-length': '3' })), false);
  assert.equal(requestHasNoBody(req({ 'transfer-encoding': 'chunked' })), false);
  assert.equal(requestHasNoBody(req({ 'transfer-encoding': 'chunked', 'content-length': '0' })), false);
});
