// The prepare thread stores each record as the sender's own text of it: the scan
// that finds those texts in the body must return exactly each element's document.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseJsonArray } from '../../src/collector/ingest/body.js';
import { elementTexts } from '../../src/collector/ingest/element-texts.js';
import { prepareItems } from '../../src/collector/ingest/prepare.js';

// Strings full of what the scan must not take for structure.
const tricky = fc.constantFrom('', '"', '\\', '\\"', '[', ']', '{', '}', ',', '"],[', 'é', '\u2028', ' \n ');
const str = fc.array(tricky, { maxLength: 5 }).map((xs) => xs.join(''));
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    str,
    fc.constantFrom(true, false, null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(str, tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value;

test('each element text parses to that element, whatever the spacing and the strings hold', () => {
  fc.assert(
    fc.property(fc.array(json, { maxLength: 6 }), fc.constantFrom(undefined, 1, 2, '\t'), fc.constantFrom('', ' ', '\n '), (arr, indent, pad) => {
      const text = pad + JSON.stringify(arr, null, indent) + pad;
      const texts = elementTexts(text, arr.length, 1000);
      assert.ok(texts, text);
      assert.equal(texts.length, arr.length);
      const whole = JSON.parse(text) as unknown[];
      texts.forEach((t, i) => {
        assert.ok(t !== null);
        assert.deepEqual(JSON.parse(t), whole[i]);
        assert.equal(t, t.trim(), 'no surrounding white space');
      });
    }),
    { numRuns: 2000 },
  );
});

test('an element nesting deeper than the bound gets no text; a wrong count gets none at all', () => {
  const text = JSON.stringify([{ a: [[1]] }, { a: 1 }, [[[[2]]]]]);
  assert.deepEqual(elementTexts(text, 3, 3), ['{"a":[[1]]}', '{"a":1}', null]);
  assert.equal(elementTexts(text, 2, 3), null);
  assert.deepEqual(elementTexts('[]', 0, 3), []);
  assert.deepEqual(elementTexts(' [ 1 , "x" ] ', 2, 3), ['1', '"x"']);
});

test('prepared records keep the text as sent; a deep record is still refused by serialising it', () => {
  const rec = { v: 1, id: 'a1', role: 'production', route: 'r', method: 'GET', path: '/', status: 200, latency_ms: 1, ts_ms: 0, response_body: '{"x":"[\\"]"}' };
  // Too deep for JSON.stringify (recursive) though JSON.parse (iterative) reads it.
  const deep = '['.repeat(200_000) + ']'.repeat(200_000);
  const body = `[ ${JSON.stringify(rec, null, 1)} , ${JSON.stringify({ ...rec, id: 'a2' }).slice(0, -1)},"extra":${deep}} ]`;
  const prepared = prepareItems(parseJsonArray(body, true));
  assert.equal(prepared.records.length, 1);
  assert.equal(prepared.records[0]!.json, JSON.stringify(rec, null, 1));
  assert.deepEqual(JSON.parse(prepared.records[0]!.json), rec);
  assert.deepEqual(prepared.errors, [{ index: 1, error: 'record nests too deeply to store' }]);
  // Without keepTexts (the in-process path) the record is serialised as before.
  assert.equal(prepareItems(parseJsonArray(body)).records[0]!.json, JSON.stringify(rec));
});
