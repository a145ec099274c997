// Property tests: whatever requests, answers and configurations arrive, the VM never
// traps, production is never held, and what reaches the collector is valid JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startFilter, type Headers } from './support/vm.js';

const headerName = fc.stringMatching(/^[a-z0-9!#$%&'*+.^_`|~-]{1,20}$/);
const headerValue = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', 'x'.repeat(200), '"\\\u0000\u00ff✓'));
const bytes = fc.uint8Array({ maxLength: 300 });
const body = fc.oneof(fc.string({ maxLength: 200 }), bytes);

test('random requests and answers: no trap, always Continue, valid JSON records', async () => {
  const vm = await startFilter({ shadow_cluster: 'shadow', max_body_bytes: 64, batch_max_records: 7, sample_percent: 60 });
  let seen = 0;
  await fc.assert(fc.asyncProperty(
    fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'M"X', ''),
      path: fc.oneof(fc.string({ maxLength: 60 }), fc.constant('/predict?a=1')),
      authority: fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('api-shadow:80', 'a:b:c', '[::1]:8080', '')),
      headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 12 }),
      chunks: fc.array(body, { maxLength: 4 }),
      status: fc.oneof(fc.integer({ min: 100, max: 599 }).map(String), fc.constantFrom('', 'abc', '2000')),
      respHeaders: fc.array(fc.tuple(headerName, headerValue), { maxLength: 8 }),
      respChunks: fc.array(body, { maxLength: 4 }),
      shadow: fc.constantFrom('ok', 'fail', 'timeout', 'binary', 'none'),
      complete: fc.boolean(),
    }),
    async (x) => {
      const s = vm.stream();
      const acts: number[] = [];
      const req: Headers = [[':method', x.method], [':path', x.path], [':authority', x.authority], ...x.headers];
      acts.push(s.sendRequestHeaders(req, { endOfStream: x.chunks.length === 0 }));
      x.chunks.forEach((c, i) => acts.push(s.sendRequestBody(c, { endOfStream: i === x.chunks.length - 1 })));
      if (x.complete) {
        acts.push(s.sendResponseHeaders([[':status', x.status], ...x.respHeaders], { endOfStream: x.respChunks.length === 0 }));
        x.respChunks.forEach((c, i) => acts.push(s.sendResponseBody(c, { endOfStream: i === x.respChunks.length - 1 })));
      }
      s.complete();
      for (const c of vm.takeHttpCalls('shadow')) {
        if (x.shadow === 'ok') vm.respond(c, { status: 200, headers: x.respHeaders, body: 'fine' });
        else if (x.shadow === 'fail') vm.failCall(c);
        else if (x.shadow === 'timeout') vm.timeoutCall(c);
        else if (x.shadow === 'binary') vm.respond(c, { status: 500, body: new Uint8Array([0xff, 0xfe, 0, 1]) });
      }
      vm.advance(5);
      for (const c of vm.takeHttpCalls('collector')) {
        const recs = JSON.parse(c.bodyText) as { id: string; status: number }[];
        assert.ok(Array.isArray(recs) && recs.length > 0);
        for (const r of recs) assert.match(r.id, /^[A-Za-z0-9._:-]{1,128}$/);
        seen += recs.length;
        vm.respond(c, { status: 200 });
      }
      assert.ok(acts.every((a) => a === 0), `actions ${acts}`);
      assert.equal(vm.failed, false);
    },
  ), { numRuns: 300, seed: 20261124 });
  vm.advance(2000);
  assert.ok(seen > 100, `only ${seen} records reached the collector`);
  assert.equal(vm.failed, false);
  assert.deepEqual(vm.logsAt('critical'), []);
});

test('random configurations: either configured silently or refused with one error line, never a trap', async () => {
  const value = fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: 'small' }, fc.string({ maxLength: 10 }), fc.double(), fc.integer(), fc.boolean(), fc.constant(null),
      fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), tie('v'), { maxKeys: 3 })),
  })).v;
  const known = fc.constantFrom('role', 'shadow_cluster', 'sample_percent', 'routes', 'max_body_bytes', 'strip_headers',
    'collector_token', 'batch_max_bytes', 'flush_interval_ms', 'correlation_header');
  let configuredCount = 0;
  let refusedCount = 0;
  await fc.assert(fc.asyncProperty(
    fc.oneof(fc.dictionary(fc.oneof(known, fc.string({ maxLength: 8 })), value, { maxKeys: 4 }).map((o) => JSON.stringify(o)),
      fc.string({ maxLength: 60 }), bytes.map((b) => Buffer.from(b).toString('latin1'))),
    async (config) => {
      const vm = await startFilter(config);
      assert.equal(vm.failed, false);
      if (vm.configured) configuredCount++; else refusedCount++;
      if (vm.configured) assert.deepEqual(vm.logs, [], `configured yet logged: ${config}`);
      else assert.equal(vm.logsAt('error').length, 1, `refused ${JSON.stringify(config)}: ${JSON.stringify(vm.logs)}`);
    },
  ), { numRuns: 150, seed: 7 });
  assert.ok(configuredCount > 0 && refusedCount > 0, `${configuredCount} configured, ${refusedCount} refused`);
});
