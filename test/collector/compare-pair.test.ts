// One pair's comparison on the module itself, where the process tests cannot see a
// small change: status alone, bodies that are empty, absent or carried in different
// encodings, truncation on either side, a removed header, the structural limits
// (depth and size, with the exact compare_note of docs/collector.md) and JSON
// Pointer escaping.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RouteRules } from '../../src/collector/config.js';
import { comparePair } from '../../src/collector/compare/compare-pair.js';
import { childPath, escapeSegment, parsePointer } from '../../src/collector/compare/pointer.js';
import { MAX_STRUCTURAL_CHARS, MAX_STRUCTURAL_DEPTH, nestsDeeperThan, structuralLimitNote } from '../../src/collector/compare/structural-limits.js';
import type { ShadowRecord } from '../../src/collector/types.js';

const rules = (r: Partial<RouteRules> = {}): RouteRules => ({ ignore: [], numeric_tolerance: { abs: 0, rel: 0 }, compare_headers: [], ...r });
const side = (role: 'production' | 'shadow', body: string | undefined, extra: Partial<ShadowRecord> = {}): ShadowRecord => {
  const r: ShadowRecord = { v: 1, id: 'x', role, route: 'r', method: 'GET', path: '/', status: 200, latency_ms: 1, ts_ms: 0 };
  if (body !== undefined) r.response_body = body;
  return { ...r, ...extra };
};
const pair = (p: ShadowRecord, s: ShadowRecord, r: Partial<RouteRules> = {}) => comparePair(p, s, rules(r));
const b64 = (text: string): Partial<ShadowRecord> & { response_body: string } => ({ body_encoding: 'base64', response_body: Buffer.from(text).toString('base64') });
const nest = (d: number): string => '['.repeat(d) + ']'.repeat(d);

test('status alone: a different status is a mismatch even with equal bodies', () => {
  const c = pair(side('production', '{"a":1}'), side('shadow', '{"a":1}', { status: 503 }));
  assert.deepEqual([c.statusMatch, c.bodyMatch, c.headersMatch, c.match], [false, true, true, false]);
  assert.deepEqual(c.diffs, []);
  assert.equal(pair(side('production', 'x'), side('shadow', 'x')).statusMatch, true);
});

test('empty and absent bodies: equal to each other in any encoding, different from a body with content', () => {
  assert.equal(pair(side('production', undefined), side('shadow', '')).match, true);
  assert.equal(pair(side('production', undefined), side('shadow', '', { body_encoding: 'base64' })).match, true);
  const c = pair(side('production', 'abc'), side('shadow', ''));
  assert.equal(c.bodyMatch, false);
  assert.deepEqual(c.diffs, [{ path: '', kind: 'body', production: 'abc', shadow: '' }]);
  assert.deepEqual(pair(side('production', undefined), side('shadow', 'eA==', { body_encoding: 'base64' })).diffs, [{ path: '', kind: 'body', production: '', shadow: 'eA==' }]);
  assert.equal(pair(side('production', ''), side('shadow', 'abc')).bodyMatch, false);
});

test('encodings: the same text in utf8 and base64 differs; the same bytes in both are equal (JSON or not)', () => {
  // "eA==" as utf8 is four characters; as base64 it is the byte "x".
  assert.equal(pair(side('production', 'eA=='), side('shadow', 'eA==', { body_encoding: 'base64' })).bodyMatch, false);
  assert.equal(pair(side('production', 'eA==', { body_encoding: 'utf8' }), side('shadow', 'eA==')).bodyMatch, true);
  assert.equal(pair(side('production', 'plain text, not JSON'), side('shadow', undefined, b64('plain text, not JSON'))).match, true);
  assert.equal(pair(side('production', undefined, b64('plain')), side('shadow', 'plain')).match, true);
  assert.equal(pair(side('production', undefined, b64('plain')), side('shadow', 'plains')).match, false);
});

test('truncated: set when either side was truncated, not otherwise', () => {
  const t = { response_body_truncated: true };
  assert.equal(pair(side('production', 'a', t), side('shadow', 'a')).truncated, true);
  assert.equal(pair(side('production', 'a'), side('shadow', 'a', t)).truncated, true);
  assert.equal(pair(side('production', 'a'), side('shadow', 'a')).truncated, false);
  assert.equal(pair(side('production', 'a', { response_body_truncated: false }), side('shadow', 'a', { response_body_truncated: false })).truncated, false);
});

test('compare_headers: a header only production has is removed; equal or absent on both is no diff', () => {
  const h = (v: Record<string, string>) => ({ response_headers: v });
  const r = { compare_headers: ['x-model', 'x-absent'] };
  const c = pair(side('production', '1', h({ 'x-model': 'v1' })), side('shadow', '1', h({})), r);
  assert.deepEqual(c.diffs, [{ path: 'header:x-model', kind: 'removed', production: 'v1' }]);
  assert.deepEqual([c.headersMatch, c.match], [false, false]);
  assert.equal(pair(side('production', '1', h({ 'x-model': 'v1' })), side('shadow', '1', h({ 'x-model': 'v1' })), r).headersMatch, true);
  assert.equal(pair(side('production', '1'), side('shadow', '1'), r).headersMatch, true);
});

test('structural limits: a body nesting deeper than 256 levels on either side is compared byte for byte, with the note', () => {
  const deepNote = `response body nests deeper than ${MAX_STRUCTURAL_DEPTH} levels: compared byte for byte`;
  assert.equal(deepNote, 'response body nests deeper than 256 levels: compared byte for byte');
  const deep = nest(MAX_STRUCTURAL_DEPTH + 1);
  // Structurally these two would differ at one path; byte for byte they are one body diff.
  const p = pair(side('production', deep), side('shadow', '[1]'));
  assert.equal(p.compareNote, deepNote);
  assert.deepEqual(p.diffs.map((d) => d.kind), ['body']);
  const s = pair(side('production', '[1]'), side('shadow', deep));
  assert.equal(s.compareNote, deepNote);
  assert.deepEqual(s.diffs.map((d) => d.kind), ['body']);
  assert.equal(pair(side('production', deep), side('shadow', deep + ' ')).match, false, 'bytes, not structure');
  // At the limit: structural, no note.
  const at = pair(side('production', nest(MAX_STRUCTURAL_DEPTH)), side('shadow', `${nest(MAX_STRUCTURAL_DEPTH)} `));
  assert.deepEqual([at.match, at.compareNote], [true, null]);
  assert.equal(pair(side('production', '{"a":1}'), side('shadow', '{"a":2}')).compareNote, null);
});

test('structural limits: a body longer than 1 MiB of text is compared byte for byte, with the note', () => {
  assert.equal(MAX_STRUCTURAL_CHARS, 1024 * 1024);
  const fill = (n: number) => `{"a":"${'x'.repeat(n - 8)}"}`;
  assert.equal(fill(MAX_STRUCTURAL_CHARS).length, MAX_STRUCTURAL_CHARS);
  assert.equal(structuralLimitNote(fill(MAX_STRUCTURAL_CHARS)), null);
  assert.equal(structuralLimitNote(fill(MAX_STRUCTURAL_CHARS + 1)), 'response body longer than 1048576 characters: compared byte for byte');
  const big = fill(MAX_STRUCTURAL_CHARS + 1);
  const reordered = pair(side('production', `{"b":1,"a":${JSON.stringify('x'.repeat(MAX_STRUCTURAL_CHARS))}}`), side('shadow', `{"a":${JSON.stringify('x'.repeat(MAX_STRUCTURAL_CHARS))},"b":1}`));
  assert.equal(reordered.match, false, 'key order matters once compared as bytes');
  assert.equal(reordered.compareNote, 'response body longer than 1048576 characters: compared byte for byte');
  assert.equal(pair(side('production', big), side('shadow', big)).match, true);
});

test('nestsDeeperThan: counts open brackets less closed ones, outside strings, escapes included', () => {
  assert.equal(nestsDeeperThan('[[]]', 2), false);
  assert.equal(nestsDeeperThan('[[]]', 1), true);
  assert.equal(nestsDeeperThan('{"a":{}}', 1), true);
  assert.equal(nestsDeeperThan('[{}]', 1), true);
  assert.equal(nestsDeeperThan('{[]}', 1), true);
  assert.equal(nestsDeeperThan('[]'.repeat(50), 1), false, 'closing brackets and braces end a level');
  assert.equal(nestsDeeperThan('{}'.repeat(50), 1), false);
  assert.equal(nestsDeeperThan('[{}]'.repeat(50), 2), false);
  assert.equal(nestsDeeperThan('', 0), false);
  assert.equal(nestsDeeperThan('[', 0), true);
  assert.equal(nestsDeeperThan('{', 0), true);
  // Brackets in strings do not count, an escaped quote does not end a string, an escaped backslash does not escape the quote after it.
  assert.equal(nestsDeeperThan('["[[[[{{{{"]', 1), false);
  assert.equal(nestsDeeperThan('["\\"[[[["]', 1), false);
  assert.equal(nestsDeeperThan('["\\\\",[[]]]', 2), true);
  assert.equal(nestsDeeperThan('["\\\\",[[]]]', 3), false);
  assert.equal(nestsDeeperThan('["a",[]]', 1), true, 'a string ends at its quote');
  assert.equal(nestsDeeperThan('"}}}}"[[', 1), true, 'closing brackets in a string do not lower the depth');
});

test('JSON Pointer: ~ and / escaped wherever they are in a key; a pointer not starting with / is an error', () => {
  for (const [key, seg] of [['a~b', 'a~0b'], ['~', '~0'], ['ab~', 'ab~0'], ['a/b', 'a~1b'], ['/a', '~1a'], ['a~/', 'a~0~1'], ['~1', '~01'], ['plain', 'plain'], ['', '']]) {
    assert.equal(escapeSegment(key!), seg, key);
    assert.deepEqual(parsePointer(childPath('', key!)), [key]);
  }
  assert.equal(childPath('/a', 3), '/a/3');
  assert.equal(pair(side('production', '{"a~b":1}'), side('shadow', '{"a~b":2}')).diffs[0]!.path, '/a~0b');
  assert.deepEqual(parsePointer(''), []);
  assert.deepEqual(parsePointer('/'), ['']);
  assert.throws(() => parsePointer('a/b'), { message: 'JSON Pointer must be "" or start with "/": a/b' });
});
