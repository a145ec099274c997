// The collector benchmarks' workload: 64-record batches of ~1.1 KB records where
// every record joins (production sides of 32 new ids and shadow sides of the
// previous 32), one pair in ten differs in one score, and the shadow writes its
// keys in another order so that every pair takes the structural comparison.
import { createHash } from 'node:crypto';

export const BATCH = 64;

function body(i: number, shadow: boolean): string {
  const items = [];
  for (let k = 0; k < 8; k++) items.push({ sku: `sku-${(i * 7 + k) % 1000}`, score: ((i * 31 + k) % 997) / 997, rank: k, reason: 'similar-items' });
  // One pair in ten differs in one score: the comparison has real work to do.
  if (shadow && i % 10 === 0) items[2]!.score += 0.5;
  const meta = { region: 'eu-west-1', took_ms: i % 50 };
  // The shadow writes its keys in another order, so no body is byte-equal and every
  // pair takes the structural (parse and walk) path of the comparison.
  return shadow
    ? JSON.stringify({ meta, items, model: 'ranker', request_id: `req-${i}` })
    : JSON.stringify({ request_id: `req-${i}`, model: 'ranker', items, meta });
}

let orderedIds = false;
/** Ids that sort by arrival instead of random hex (for comparison). */
export function setOrderedIds(on: boolean): void {
  orderedIds = on;
}
const idOf = (i: number): string =>
  orderedIds ? i.toString(16).padStart(32, '0') : createHash('md5').update(`bench-${i}`).digest('hex');

export function record(i: number, role: 'production' | 'shadow'): string {
  return JSON.stringify({
    v: 1,
    id: idOf(i),
    role,
    route: i % 3 === 0 ? 'rank' : 'predict',
    method: 'POST',
    path: '/v1/rank?user=' + (i % 5000),
    status: 200,
    latency_ms: 5 + (i % 97) * (role === 'shadow' ? 1.2 : 1),
    ts_ms: 1_763_900_000_000 + i,
    response_headers: { 'content-type': 'application/json', 'x-served-by': role },
    response_body: body(i, role === 'shadow'),
    source: role === 'shadow' ? 'ranker-v2-7d9f' : 'ranker-v1-5c2a',
  });
}

/** Batch j: production sides of 32 new ids and shadow sides of the previous 32, so every record joins. */
export function batches(total: number): string[] {
  const half = BATCH / 2;
  const out: string[] = [];
  const n = Math.ceil(total / BATCH);
  for (let j = 0; j < n; j++) {
    const recs: string[] = [];
    for (let k = 0; k < half; k++) recs.push(record(j * half + k, 'production'));
    for (let k = 0; k < half; k++) recs.push(record(Math.max(0, j - 1) * half + k + (j === 0 ? total : 0), 'shadow'));
    out.push('[' + recs.join(',') + ']');
  }
  return out;
}


/** The pairs batches(total) makes: each batch's shadow sides pair with the production sides of the batch before. */
export const pairsOf = (total: number): number => Math.max(0, Math.ceil(total / BATCH) - 1) * (BATCH / 2);
