// POST /v1/records on PostgreSQL: the replica that receives a batch stores it and
// makes its pairs in one transaction, then answers. Exactly-once pairing across
// replicas rests on two guarantees of the database:
// - an advisory transaction lock per id (taken in sorted key order, so two batches
//   never wait on each other in a cycle): two replicas receiving the two sides of
//   an id at the same instant serialize on that id, and the second one, reading
//   after the lock (READ COMMITTED: a fresh snapshot per statement), sees the
//   first side committed and makes the pair;
// - unique keys: (id, role) on records (the first copy of a side wins, a retried
//   batch adds nothing) and id on pairs (a second guard against a double pair).
import type { CollectorConfig } from '../../config.js';
import { comparePair } from '../../compare/compare-pair.js';
import { predictionSample, type PredictionSample } from '../../compare/prediction.js';
import { parseJsonArray, parseNdjson, type BodyItem } from '../../ingest/body.js';
import { comparisonOf, prepareItems, type PreparedBatch, type PreparedPair, type PreparedRecord } from '../../ingest/prepare.js';
import { pairEvent, type PairEvent } from '../../join/joiner.js';
import type { Comparison, IngestInternalError, IngestResult, Role, ShadowRecord } from '../../types.js';
import type { RecordSink } from '../../ingest/record-sink.js';
import type { JoinFollower } from './join-follower.js';
import type { PgClient, PgPool } from './pool.js';
import { lockIds } from './id-locks.js';
import { IngestGroups, ItemFailed, type IngestGroupsOptions } from './ingest-groups.js';

/** What a batch made, for writers that add their own rows in the same transaction. */
export interface StoredBatch {
  now: number;
  pairs: readonly PairEvent[];
  /** Baseline sides stored by this batch (new ones only). */
  baselines: readonly ShadowRecord[];
  /** Baselines stored before this transaction of the ids whose production or shadow side it stores: id → stored text. */
  baselinesBefore: ReadonlyMap<string, string>;
}

/** Runs inside the batch's transaction, after its sides and pairs are written. */
export type BatchWriter = (client: PgClient, batch: StoredBatch) => Promise<void>;

/**
 * Where POST bodies are parsed, validated and serialised (the prepare thread, or
 * its supervisor): the main thread only stores, pairs and answers.
 */
export interface BodyPreparer {
  prepare(text: string, ndjson: boolean): Promise<PreparedBatch>;
  close(): Promise<void>;
}

type Valid = PreparedRecord;

/** The record, parsed from its stored text at most once and only when needed. */
const recordOf = (v: { json: string; record?: ShadowRecord }): ShadowRecord => (v.record ??= JSON.parse(v.json) as ShadowRecord);

/** Sides this replica stored lately, by seq: the preparer's number of each (see preparedPair). */
const KEPT_WSEQS = 8192;

interface StoredSide {
  seq: number;
  route: string;
  role: Role;
  arrivalMs: number;
  /** The stored text, and the record once parsed. */
  json: string;
  record?: ShadowRecord;
  /** The preparer's number of the side (0: unknown, e.g. stored by another replica). */
  wseq: number;
  /** Position in the group, for a side of this transaction; null for one stored before. */
  pos: number | null;
  valid: Valid | null;
}

const partnerOf = (role: Role): Role => (role === 'production' ? 'shadow' : 'production');

export interface PgRecordIngestOptions {
  joinWindowMs: number;
  /** Group commit (ingest-groups.ts): transactions in flight, records per group. */
  groups?: IngestGroupsOptions;
  /** Parses bodies off the main thread; without it they are prepared here. */
  preparer?: BodyPreparer | null;
}

export class PgRecordIngest implements RecordSink {
  /** pg-decisions' writers (noise, feedback) add their rows to the batch's transaction here. */
  readonly writers: BatchWriter[] = [];
  /** Batches waiting for, and stored together in, one transaction. */
  readonly groups: IngestGroups<Valid>;
  private readonly preparer: BodyPreparer | null;
  /** seq → preparer's number of the sides stored here lately (insertion order: oldest first). */
  private readonly wseqs = new Map<number, number>();
  /** Pairs whose comparison came from the preparer, and those compared here (for tests and the bench). */
  readonly compared = { prepared: 0, here: 0 };

  constructor(
    pool: PgPool,
    private readonly config: CollectorConfig,
    private readonly follower: JoinFollower,
    private readonly opts: PgRecordIngestOptions,
  ) {
    this.groups = new IngestGroups<Valid>(pool, (c, items, now) => this.store(c, items, now), () => this.follower.now(), opts.groups, (v) => v.id);
    this.preparer = opts.preparer ?? null;
  }

  ingest(items: readonly BodyItem[]): Promise<IngestResult> {
    return this.take(prepareItems(items, undefined, true));
  }

  async ingestText(text: string, ndjson: boolean): Promise<IngestResult> {
    if (!this.preparer) return this.ingest(ndjson ? parseNdjson(text) : parseJsonArray(text));
    return this.take(await this.preparer.prepare(text, ndjson));
  }

  /** Stops the preparer; call once no request is in flight any more. */
  close(): Promise<void> {
    return this.preparer?.close() ?? Promise.resolve();
  }

  private async take(prepared: PreparedBatch): Promise<IngestResult> {
    const total = prepared.records.length + prepared.errors.length;
    const errors = [...prepared.errors];
    const valid: Valid[] = [];
    for (const r of prepared.records) {
      const reason = this.follower.routeCap.check(r.route);
      if (reason === null) valid.push(r);
      else errors.push({ index: r.index, error: reason });
    }
    // Committed together with the batches that arrived meanwhile (group commit).
    const internal: IngestInternalError[] = valid.length > 0 ? await this.groups.submit(valid) : [];
    for (const f of internal) errors.push({ index: f.index, error: 'internal error while storing this record (logged by the collector)' });
    if (errors.length > prepared.errors.length) errors.sort((a, b) => a.index - b.index);
    const accepted = total - errors.length;
    const result: IngestResult = { accepted, rejected: errors.length, errors };
    if (internal.length > 0) Object.defineProperty(result, 'internal', { value: internal, enumerable: false });
    // No follow of the change feed here: every read that shows the aggregates syncs
    // with the feed before it answers (server.ts FOLLOWING_READS), and the timer
    // applies the rest. A follow after each batch cost ~9 statements for ~0.6 of all
    // batches (session 6) and changed no answer.
    return result;
  }

  private async store(c: PgClient, batch: readonly Valid[], now: number): Promise<void> {
    // First copy of an (id, role) in the group wins, as across transactions.
    const seen = new Set<string>();
    const sides = batch.filter((v) => {
      const k = `${v.role}\u0000${v.id}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    const ids = [...new Set(sides.map((v) => v.id))];
    await lockIds(c, ids);
    // The stored texts go as one bytea parameter (pg sends a Buffer in binary, as it
    // is) with each text's byte offset and length: PostgreSQL cuts them out and only
    // checks that they are UTF-8. Sent inside a text[] parameter, pg's client escaped
    // every quote of every record (session 4); spliced into one json document, the
    // server parsed every record two to three times over (json_in on the document,
    // json_to_recordset, json_in again on each record: ~14 % of its CPU in the bench).
    const starts: number[] = [];
    const lens: number[] = [];
    let at = 1; // substring() counts from 1
    for (const v of sides) {
      const n = Buffer.byteLength(v.json);
      starts.push(at);
      lens.push(n);
      at += n;
    }
    // One statement inserts the sides and reads the other sides of their ids stored
    // before this transaction (visible now that the ids are locked): the partners, and
    // the baselines the noise writer looks for. The SELECT on records runs on the
    // statement's snapshot, which does not hold the rows the INSERT adds, so it returns
    // only sides of other transactions; `stored` tells the two kinds apart.
    const joinable = [...new Set(sides.filter((v) => v.role !== 'baseline').map((v) => v.id))];
    const res = await c.query<{ stored: boolean; seq: number; id: string; role: Role; route: string | null; arrival_ms: number | null; record: string | null }>({
      name: 'ingest:sides',
      text: `WITH ins AS (
               INSERT INTO records (id, role, route, status, latency_ms, arrival_ms, record)
               SELECT x.id, x.role, x.route, x.status, x.latency_ms, $6::int8, convert_from(substring($7::bytea FROM x.start FOR x.len), 'UTF8')
               FROM unnest($1::text[], $2::text[], $3::text[], $4::int4[], $5::float8[], $8::int4[], $9::int4[])
                    AS x(id, role, route, status, latency_ms, start, len)
               ON CONFLICT (id, role) DO NOTHING RETURNING seq, id, role)
             SELECT false AS stored, seq, id, role, NULL::text AS route, NULL::int8 AS arrival_ms, NULL::text AS record FROM ins
             UNION ALL
             SELECT true, seq, id, role, route, arrival_ms, record FROM records
             WHERE id = ANY($10::text[])`,
      values: [
        sides.map((v) => v.id),
        sides.map((v) => v.role),
        sides.map((v) => v.route),
        sides.map((v) => v.status),
        sides.map((v) => v.latency_ms),
        now,
        Buffer.from(sides.map((v) => v.json).join('')),
        starts,
        lens,
        joinable,
      ],
    });
    const bySide = new Map(sides.map((v) => [`${v.role}\u0000${v.id}`, v]));
    const posOf = new Map(batch.map((v, i) => [v, i]));
    const fresh = new Map<string, StoredSide>();
    const old = new Map<string, StoredSide>();
    const baselines: ShadowRecord[] = [];
    const baselinesBefore = new Map<string, string>();
    const newWseqs: [number, number][] = [];
    for (const row of res.rows) {
      const key = `${row.role}\u0000${row.id}`;
      if (row.stored) {
        if (row.role === 'baseline') baselinesBefore.set(row.id, row.record!);
        // A side stored before (also the first copy of a side this group repeats: only partners are looked up).
        else old.set(key, { seq: row.seq, route: row.route!, role: row.role, arrivalMs: row.arrival_ms!, json: row.record!, wseq: this.wseqs.get(row.seq) ?? 0, pos: null, valid: null });
        continue;
      }
      const v = bySide.get(key)!;
      if (row.role === 'baseline') {
        baselines.push(recordOf(v));
        continue;
      }
      fresh.set(key, { seq: row.seq, route: v.route, role: v.role, arrivalMs: now, json: v.json, record: v.record, wseq: v.wseq, pos: posOf.get(v)!, valid: v });
      if (v.wseq !== 0) newWseqs.push([row.seq, v.wseq]);
    }
    const pairs: PairEvent[] = [];
    if (fresh.size > 0) {
      const made = new Set<string>();
      const rows: PairInsert[] = [];
      for (const side of fresh.values()) {
        const id = side.valid!.id;
        if (made.has(id)) continue;
        const partnerKey = `${partnerOf(side.role)}\u0000${id}`;
        const partner = fresh.get(partnerKey) ?? old.get(partnerKey);
        if (!partner) continue;
        made.add(id);
        const [p, s] = side.role === 'production' ? [side, partner] : [partner, side];
        const waited = partner.valid === null ? partner : null;
        const rules = this.config.rulesFor(p.route);
        let comparison: Comparison;
        let sample: PredictionSample | null = null;
        const pre = preparedPair(side, partner);
        try {
          if (pre) {
            this.compared.prepared++;
            comparison = comparisonOf(pre);
            if (rules.prediction) sample = pre.sample;
          } else {
            this.compared.here++;
            comparison = comparePair(recordOf(p), recordOf(s), rules);
            if (rules.prediction) sample = predictionSample(rules.prediction, recordOf(p), recordOf(s));
          }
        } catch (err) {
          // Blame the side of this transaction (the later one when both are).
          const blamed = (p.pos ?? -1) > (s.pos ?? -1) ? p.valid! : s.valid!;
          throw new ItemFailed(blamed, err);
        }
        rows.push({ id, p, s, waited, comparison, diffs: pre ? pre.diffs : null, excusable: pre?.excusable, sample, late: waited !== null && waited.arrivalMs + this.opts.joinWindowMs <= now });
      }
      if (rows.length > 0) pairs.push(...(await this.insertPairs(c, rows, now)));
    }
    for (const w of this.writers) await w(c, { now, pairs, baselines, baselinesBefore });
    // Kept even if the transaction then fails: seqs are never reused, so a number
    // of a side that was rolled back can never match a stored row.
    for (const [seq, wseq] of newWseqs) this.wseqs.set(seq, wseq);
    for (const k of this.wseqs.keys()) {
      if (this.wseqs.size <= KEPT_WSEQS) break;
      this.wseqs.delete(k);
    }
  }

  private async insertPairs(c: PgClient, rows: readonly PairInsert[], now: number): Promise<PairEvent[]> {
    const b = (v: boolean): number => (v ? 1 : 0);
    const res = await c.query<{ seq: number; id: string }>({
      name: 'ingest:pairs',
      text: `INSERT INTO pairs (prod_seq, shadow_seq, id, route, status_match, body_match, match, truncated, late, diffs, created_ms,
                                compare_note, waited_role, waited_route, waited_arrival_ms)
             SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[], $4::text[], $5::int2[], $6::int2[], $7::int2[], $8::int2[], $9::int2[],
                                  $10::text[], $11::int8[], $12::text[], $13::text[], $14::text[], $15::int8[])
             ON CONFLICT (id) DO NOTHING RETURNING seq, id`,
      values: [
        rows.map((r) => r.p.seq),
        rows.map((r) => r.s.seq),
        rows.map((r) => r.id),
        rows.map((r) => r.p.route),
        rows.map((r) => b(r.comparison.statusMatch)),
        rows.map((r) => b(r.comparison.bodyMatch)),
        rows.map((r) => b(r.comparison.match)),
        rows.map((r) => b(r.comparison.truncated)),
        rows.map((r) => b(r.late)),
        rows.map((r) => r.diffs ?? JSON.stringify(r.comparison.diffs)),
        rows.map(() => now),
        rows.map((r) => r.comparison.compareNote ?? null),
        rows.map((r) => r.waited?.role ?? null),
        rows.map((r) => r.waited?.route ?? null),
        rows.map((r) => r.waited?.arrivalMs ?? null),
      ],
    });
    const seqOf = new Map(res.rows.map((r) => [r.id, r.seq]));
    const events: PairEvent[] = [];
    const withSample: { seq: number; route: string; s: PredictionSample }[] = [];
    for (const r of rows) {
      const seq = seqOf.get(r.id);
      // Under the id's lock this cannot happen; the unique key makes sure of it.
      if (seq === undefined) continue;
      const { p, s } = r;
      // Records are parsed only if a writer reads them (noise, for a mismatch the
      // prepare thread did not work out, or a triple).
      events.push(pairEvent(r.id, seq, p.route, () => recordOf(p), () => recordOf(s), r.comparison, r.sample, r.excusable));
      if (r.sample) withSample.push({ seq, route: p.route, s: r.sample });
    }
    if (withSample.length > 0) {
      await c.query({
        name: 'ingest:predictions',
        text: `INSERT INTO predictions (pair_seq, route, prod_label, shadow_label, prod_score, shadow_score)
               SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[])`,
        values: [
          withSample.map((w) => w.seq),
          withSample.map((w) => w.route),
          withSample.map((w) => w.s.productionLabel),
          withSample.map((w) => w.s.shadowLabel),
          withSample.map((w) => w.s.productionScore),
          withSample.map((w) => w.s.shadowScore),
        ],
      });
    }
    return events;
  }
}

/**
 * The preparer's comparison of these two sides, when it compared this very pair:
 * the side that found its partner on the prepare thread names the partner's number,
 * and the partner joined here is the stored row of that number.
 */
function preparedPair(a: StoredSide, b: StoredSide): PreparedPair | undefined {
  const pa = a.valid?.pair;
  if (pa && b.wseq !== 0 && pa.partnerWseq === b.wseq) return pa;
  const pb = b.valid?.pair;
  if (pb && a.wseq !== 0 && pb.partnerWseq === a.wseq) return pb;
  return undefined;
}

interface PairInsert {
  id: string;
  p: StoredSide;
  s: StoredSide;
  waited: StoredSide | null;
  comparison: Comparison;
  /** The diffs as stored text, when the preparer made them. */
  diffs: string | null;
  /** The noise learner's excusable paths, when the preparer worked them out. */
  excusable: string[] | null | undefined;
  sample: PredictionSample | null;
  late: boolean;
}
