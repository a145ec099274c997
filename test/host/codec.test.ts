// The string codec keeps recently read short ASCII strings to reuse them; whatever it keeps,
// every read must equal a plain UTF-8 decode of the bytes (lower-cased for header names).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodePairs, encodePairs, encodeUtf8, readLowerName, readString, serializePairs } from '../../src/host/codec.js';

const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

test('readString / readLowerName equal a UTF-8 decode for any bytes, read repeatedly in any order (reused strings never go stale)', () => {
  const mem = Buffer.alloc(4096);
  // Few distinct characters and short lengths: many strings share a length and a table slot.
  const str = fc.oneof(
    fc.string({ unit: fc.constantFrom('a', 'b', 'A', 'B', '-', ':', '1'), maxLength: 12 }),
    fc.string({ maxLength: 70 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
  );
  fc.assert(fc.property(fc.array(str, { minLength: 1, maxLength: 40 }), (list) => {
    let off = 0;
    const spans: [number, number, string][] = [];
    for (const s of list) {
      const b = Buffer.from(s, 'utf8');
      if (off + b.length > mem.length) break;
      mem.set(b, off);
      spans.push([off, b.length, s]);
      off += b.length;
    }
    for (let round = 0; round < 2; round++) {
      for (const [p, n] of spans) {
        const want = decode(mem.subarray(p, p + n));
        assert.equal(readString(mem, p, n), want);
        assert.equal(readLowerName(mem, p, n), want.toLowerCase());
        // A plain Uint8Array (no Buffer) takes the other path, with the same answers.
        const plain = new Uint8Array(mem.buffer, mem.byteOffset, mem.length);
        assert.equal(readString(plain, p, n), want);
        assert.equal(readLowerName(plain, p, n), want.toLowerCase());
      }
    }
  }), { numRuns: 300 });
});

test('encodeUtf8 and the pairs serialization round-trip any strings', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 })), { maxLength: 20 }), (pairs) => {
    for (const [k, v] of pairs) {
      assert.deepEqual(encodeUtf8(k), new TextEncoder().encode(k));
      assert.deepEqual(encodeUtf8(v), new TextEncoder().encode(v));
    }
    const a = encodePairs(pairs);
    assert.deepEqual(Uint8Array.from(serializePairs(pairs)), a);
    assert.deepEqual(decodePairs(a), pairs.length === 0 ? [] : pairs);
  }), { numRuns: 200 });
});
