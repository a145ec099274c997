// How a prepared batch crosses from the prepare thread to the main thread. Structured
// clone of one object per record costs the receiving (main) thread several µs per
// record; the same batch as a few columns — the stored texts in one array, numbers in
// one Float64Array, the few other strings in arrays — costs about a third. (The texts
// stay separate strings: slices of one joined string would keep a whole batch's text
// alive for as long as one of its sides is held in memory.)
import type { IngestError, Role } from '../types.js';
import type { PredictionSample } from '../compare/prediction.js';
import type { PreparedBatch, PreparedPair, PreparedRecord } from './prepare.js';

export interface WireBatch {
  /** Every record's stored text. */
  texts: string[];
  ids: string[];
  /** Distinct routes of the batch; records refer to them by position. */
  routes: string[];
  /** Per record: index, status, latency_ms, wseq, (unused), role, route, pair (-1: none). */
  nums: Float64Array;
  /** Per pair: partnerWseq, flags (status, body, headers, match, truncated as bits). */
  pairNums: Float64Array;
  pairDiffs: string[];
  pairNotes: (string | null)[];
  pairSamples: (PredictionSample | null)[];
  pairExcusable: (string[] | null)[];
  errors: IngestError[];
}

const PER_RECORD = 8;
const ROLES: Role[] = ['production', 'shadow', 'baseline'];

export function toWire(b: PreparedBatch): WireBatch {
  const n = b.records.length;
  const nums = new Float64Array(n * PER_RECORD);
  const pairs = b.records.filter((r) => r.pair).length;
  const pairNums = new Float64Array(pairs * 2);
  const texts = new Array<string>(n);
  const w: WireBatch = { texts, ids: new Array<string>(n), routes: [], nums, pairNums, pairDiffs: [], pairNotes: [], pairSamples: [], pairExcusable: [], errors: b.errors };
  const routeAt = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const r = b.records[i]!;
    let route = routeAt.get(r.route);
    if (route === undefined) {
      route = w.routes.push(r.route) - 1;
      routeAt.set(r.route, route);
    }
    let pair = -1;
    if (r.pair) {
      const p = r.pair;
      pair = w.pairDiffs.length;
      pairNums[pair * 2] = p.partnerWseq;
      pairNums[pair * 2 + 1] = (+p.statusMatch) | (+p.bodyMatch << 1) | (+p.headersMatch << 2) | (+p.match << 3) | (+p.truncated << 4);
      w.pairDiffs.push(p.diffs);
      w.pairNotes.push(p.compareNote);
      w.pairSamples.push(p.sample);
      w.pairExcusable.push(p.excusable);
    }
    const o = i * PER_RECORD;
    nums[o] = r.index;
    nums[o + 1] = r.status;
    nums[o + 2] = r.latency_ms;
    nums[o + 3] = r.wseq;
    nums[o + 4] = 0;
    nums[o + 5] = ROLES.indexOf(r.role);
    nums[o + 6] = route;
    nums[o + 7] = pair;
    w.ids[i] = r.id;
    texts[i] = r.json;
  }
  return w;
}

export function fromWire(w: WireBatch): PreparedBatch {
  const n = w.ids.length;
  const records = new Array<PreparedRecord>(n);
  for (let i = 0; i < n; i++) {
    const o = i * PER_RECORD;
    const r: PreparedRecord = {
      index: w.nums[o]!,
      id: w.ids[i]!,
      role: ROLES[w.nums[o + 5]!]!,
      route: w.routes[w.nums[o + 6]!]!,
      status: w.nums[o + 1]!,
      latency_ms: w.nums[o + 2]!,
      json: w.texts[i]!,
      wseq: w.nums[o + 3]!,
    };
    const pair = w.nums[o + 7]!;
    if (pair >= 0) r.pair = pairAt(w, pair);
    records[i] = r;
  }
  return { records, errors: w.errors };
}

function pairAt(w: WireBatch, k: number): PreparedPair {
  const flags = w.pairNums[k * 2 + 1]!;
  return {
    partnerWseq: w.pairNums[k * 2]!,
    statusMatch: (flags & 1) !== 0,
    bodyMatch: (flags & 2) !== 0,
    headersMatch: (flags & 4) !== 0,
    match: (flags & 8) !== 0,
    truncated: (flags & 16) !== 0,
    diffs: w.pairDiffs[k]!,
    compareNote: w.pairNotes[k]!,
    sample: w.pairSamples[k]!,
    excusable: w.pairExcusable[k]!,
  };
}
