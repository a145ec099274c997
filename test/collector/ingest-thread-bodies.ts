// Bodies and reads for comparing a collector with the prepare thread against one
// without it (--ingest-thread off): the same bodies in the same order must give the
// same answers and reads, byte for byte, on SQLite and on PostgreSQL alike.
import assert from 'node:assert/strict';
import { rec } from './helpers.js';

const LEVELS = 50_000;
const deepArray = (leaf: string): string => '['.repeat(LEVELS) + leaf + ']'.repeat(LEVELS);

const answer = (label: string, score: number, version = 'v1'): string => JSON.stringify({ label, score, model_version: version });
const side = (id: string, role: 'production' | 'shadow' | 'baseline', body: string, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  rec({ id, role, response_body: body, response_headers: { 'content-type': 'application/json' }, ...extra });

/**
 * The bodies, in order: pairs inside one body and across bodies, mismatches, bad
 * records, NDJSON, a 400. Written as a sender might (indented, numbers as `2e2`), not
 * as JSON.stringify would: what is stored is the sender's text where it can be.
 */
export function bodies(): { text: string; contentType: string }[] {
  const json = (items: unknown[]): { text: string; contentType: string } => ({
    text: JSON.stringify(items, null, 2).replace(/"status": 200/g, '"status": 2e2'),
    contentType: 'application/json',
  });
  const out: { text: string; contentType: string }[] = [];
  // Both sides in one body: the thread compares them early.
  out.push(json(Array.from({ length: 10 }, (_, i) => [side(`in${i}`, 'production', answer('rain', 0.8)), side(`in${i}`, 'shadow', answer(i % 3 ? 'rain' : 'sun', 0.8 + i / 100, 'v2'))]).flat()));
  // Production first, shadows in the next bodies; one shadow arrives before its production.
  out.push(json([...Array.from({ length: 10 }, (_, i) => side(`x${i}`, 'production', answer('rain', 0.5))), side('early', 'shadow', answer('sun', 0.1))]));
  out.push(json(Array.from({ length: 10 }, (_, i) => side(`x${i}`, 'shadow', answer('rain', i < 5 ? 0.52 : 0.9), i === 7 ? { status: 503 } : {}))));
  // Bad records among good ones, a duplicate, a record nesting too deeply to store.
  const deep = JSON.stringify(side('deep', 'production', answer('rain', 1))).replace(/}$/, `,"extra":${deepArray('1')}}`);
  out.push({
    text: `[${[
      JSON.stringify(side('early', 'production', answer('sun', 0.1))),
      JSON.stringify({ ...side('bad-role', 'production', '{}'), role: 'canary' }),
      JSON.stringify({ v: 1, id: 'no-route', role: 'production' }),
      JSON.stringify(side('x3', 'shadow', answer('sun', 0))),
      deep,
      '"not a record"',
    ].join(',')}]`,
    contentType: 'application/json',
  });
  // NDJSON with an unparsable line, baselines for the noise learner.
  out.push({
    text: [JSON.stringify(side('nd1', 'production', answer('rain', 0.3))), '{broken', JSON.stringify(side('nd1', 'shadow', answer('rain', 0.3))), JSON.stringify(side('in1', 'baseline', answer('rain', 0.8)))].join('\n'),
    contentType: 'application/x-ndjson',
  });
  out.push({ text: '{"not": "an array"}', contentType: 'application/json' });
  out.push({ text: '[1, 2', contentType: 'application/json' });
  return out;
}

export async function text(url: string, init?: RequestInit): Promise<string> {
  const res = await fetch(url, init);
  return `${res.status} ${await res.text()}`;
}

/** Posts every body to both collectors in turn, then compares every read. */
export async function sameAnswers(on: string, off: string): Promise<void> {
  for (const [k, b] of bodies().entries()) {
    const init = { method: 'POST', headers: { 'content-type': b.contentType }, body: b.text };
    const [a, z] = [await text(`${on}/v1/records`, init), await text(`${off}/v1/records`, init)];
    assert.equal(z, a, `body ${k}`);
  }
  const ids = ['early', 'deep', 'nd1', 'no-such-id', ...Array.from({ length: 10 }, (_, i) => [`in${i}`, `x${i}`]).flat()];
  const reads = ['/v1/stats', '/v1/stats?route=predict', '/v1/verdict', '/v1/pairs?route=predict&limit=500', '/v1/pairs?route=predict&mismatch=true&limit=500', ...ids.map((id) => `/v1/pairs/${id}`)];
  // The verdict says when it was evaluated: that one field is the clock's, not the data's.
  const read = async (url: string, path: string): Promise<string> => (await text(`${url}${path}`)).replace(/"evaluated_at":"[^"]*"/g, '"evaluated_at":"…"');
  for (const path of reads) assert.equal(await read(off, path), await read(on, path), path);
  // Not a comparison of nothing: the bodies made pairs, mismatches and rejections.
  const s = JSON.parse((await text(`${on}/v1/stats?route=predict`)).slice(4)).routes.predict;
  assert.equal(s.pairs, 22);
  assert.ok(s.match > 0 && s.match < s.pairs, JSON.stringify(s));
}
