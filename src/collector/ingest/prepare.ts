// The per-record work of ingestion that needs no join state: validate each item,
// serialise it as stored, and (where the preparer still holds the partner side)
// compare the pair. It runs on the prepare thread for HTTP bodies and in-process for
// the joiner's own API; the joiner then only stores and counts.
import type { Comparison, IngestError, Role, ShadowRecord } from '../types.js';
import type { PredictionSample } from '../compare/prediction.js';
import type { BodyItem } from './body.js';
import { recordError } from './record-schema.js';
import { storableJson } from './storable.js';

/** A comparison made by the preparer, with the partner it was made against. */
export interface PreparedPair {
  /** The preparer's number of the partner side this record was compared with. */
  partnerWseq: number;
  statusMatch: boolean;
  bodyMatch: boolean;
  headersMatch: boolean;
  match: boolean;
  truncated: boolean;
  /** The diffs as the JSON text stored in `pairs.diffs`. */
  diffs: string;
  compareNote: string | null;
  /** The route's prediction sample, when its rules read one. */
  sample: PredictionSample | null;
  /** What the noise learner would work out for this pair (noise/excusable-paths.ts). */
  excusable: string[] | null;
}

/** One valid record, ready to store. */
export interface PreparedRecord {
  index: number;
  id: string;
  role: Role;
  route: string;
  status: number;
  latency_ms: number;
  /** The text stored in `records.record`. */
  json: string;
  /** The preparer's number for this record (unique per collector process); 0 when none. */
  wseq: number;
  /** The parsed record when prepared in this thread (else parsed from `json` on demand). */
  record?: ShadowRecord;
  pair?: PreparedPair;
}

export interface PreparedBatch {
  records: PreparedRecord[];
  /** Items rejected before storing (invalid, unparsable, nesting too deep). */
  errors: IngestError[];
}

/** Numbers each valid record and may compare it with a partner it holds. */
export type PairFinder = (r: ShadowRecord) => { wseq: number; pair?: PreparedPair };

export function prepareItems(items: readonly BodyItem[], finder?: PairFinder, keepRecords = false): PreparedBatch {
  const records: PreparedRecord[] = [];
  const errors: IngestError[] = [];
  for (const item of items) {
    const reason = item.error ?? recordError(item.value);
    if (reason !== null) {
      errors.push({ index: item.index, error: reason });
      continue;
    }
    const r = item.value as ShadowRecord;
    // The sender's text is the same document (validation changes nothing); a record
    // nesting deeply comes without one and is serialised here, or refused.
    const stored = item.text !== undefined ? { json: item.text } : storableJson(r);
    if ('error' in stored) {
      errors.push({ index: item.index, error: stored.error });
      continue;
    }
    const found = finder?.(r);
    const p: PreparedRecord = {
      index: item.index,
      id: r.id,
      role: r.role,
      route: r.route,
      status: r.status,
      latency_ms: r.latency_ms,
      json: stored.json,
      wseq: found?.wseq ?? 0,
    };
    if (keepRecords) p.record = r;
    if (found?.pair) p.pair = found.pair;
    records.push(p);
  }
  return { records, errors };
}

/** A preparer's comparison as the joiner's Comparison (diffs parsed back from their text). */
export function comparisonOf(p: PreparedPair): Comparison {
  return {
    statusMatch: p.statusMatch,
    bodyMatch: p.bodyMatch,
    headersMatch: p.headersMatch,
    match: p.match,
    truncated: p.truncated,
    diffs: p.diffs === '[]' ? [] : (JSON.parse(p.diffs) as Comparison['diffs']),
    compareNote: p.compareNote,
  };
}
