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
import type { BodyItem } from '../../ingest/body.js';
import { recordError } from '../../ingest/record-schema.js';
import { storableJson } from '../../ingest/storable.js';
import type { PairEvent } from '../../join/joiner.js';
import type { Comparison, IngestError, IngestInternalError, IngestResult, Role, ShadowRecord } from '../../types.js';
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
}

/** Runs inside the batch's transaction, after its sides and pairs are written. */
export type BatchWriter = (client: PgClient, batch: StoredBatch) => Promise<void>;

interface Valid {
  index: number;
  record: ShadowRecord;
  json: string;
}

interface StoredSide {
  seq: number;
  route: string;
  arrivalMs: number;
  record: ShadowRecord;
  /** Position in the group, for a side of this transaction; null for one stored before. */
  pos: number | null;
  valid: Valid | null;
}

const partnerOf = (role: Role): Role => (role === 'production' ? 'shadow' : 'production');

export interface PgRecordIngestOptions {
  joinWindowMs: number;
  /** Group commit (ingest-groups.ts): transactions in flight, records per group. */
  groups?: IngestGroupsOptions;
}

export class PgRecordIngest implements RecordSink {
  /** pg-decisions' writers (noise, feedback) add their rows to the batch's transaction here. */
  readonly writers: BatchWriter[] = [];
  /** Batches waiting for, and stored together in, one transaction. */
  readonly groups: IngestGroups<Valid>;

  constructor(
    pool: PgPool,
    private readonly config: CollectorConfig,
    private readonly follower: JoinFollower,
    private readonly opts: PgRecordIngestOptions,
  ) {
    this.groups = new IngestGroups<Valid>(pool, (c, items, now) => this.store(c, items, now), () => this.follower.now(), opts.groups);
  }

  async ingest(items: readonly BodyItem[]): Promise<IngestResult> {
    const errors: IngestError[] = [];
    const valid: Valid[] = [];
    for (const item of items) {
      const reason = item.error ?? recordError(item.value);
      if (reason !== null) {
        errors.push({ index: item.index, error: reason });
        continue;
      }
      const stored = storableJson(item.value as ShadowRecord);
      const capped = 'error' in stored ? null : this.follower.routeCap.check((item.value as ShadowRecord).route);
      if ('error' in stored) errors.push({ index: item.index, error: stored.error });
      else if (capped !== null) errors.push({ index: item.index, error: capped });
      else valid.push({ index: item.index, record: item.value as ShadowRecord, json: stored.json });
    }
    // Committed together with the batches that arrived meanwhile (group commit).
    const internal: IngestInternalError[] = valid.length > 0 ? await this.groups.submit(valid) : [];
    if (internal.length > 0) {
      for (const f of internal) errors.push({ index: f.index, error: 'internal error while storing this record (logged by the collector)' });
      errors.sort((a, b) => a.index - b.index);
    }
    const accepted = items.length - errors.length;
    const result: IngestResult = { accepted, rejected: errors.length, errors };
    if (internal.length > 0) Object.defineProperty(result, 'internal', { value: internal, enumerable: false });
    // This replica's own answers include the batch without waiting for the timer.
    void this.followSoon();
    return result;
  }

  /** Set by the store: a follow of the change feed (errors are the feed's to report). */
  followSoon: () => Promise<void> = async () => undefined;

  private async store(c: PgClient, batch: readonly Valid[], now: number): Promise<void> {
    // First copy of an (id, role) in the batch wins, as across batches.
    const seen = new Set<string>();
    const sides = batch.filter((v) => {
      const k = `${v.record.role}\u0000${v.record.id}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    const ids = [...new Set(sides.map((v) => v.record.id))];
    await lockIds(c, ids);
    const inserted = await c.query<{ seq: number; id: string; role: Role }>({
      name: 'ingest:records',
      text: `INSERT INTO records (id, role, route, status, latency_ms, arrival_ms, record)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::float8[], $6::int8[], $7::text[])
             ON CONFLICT (id, role) DO NOTHING RETURNING seq, id, role`,
      values: [
        sides.map((v) => v.record.id),
        sides.map((v) => v.record.role),
        sides.map((v) => v.record.route),
        sides.map((v) => v.record.status),
        sides.map((v) => v.record.latency_ms),
        sides.map(() => now),
        sides.map((v) => v.json),
      ],
    });
    const bySide = new Map(sides.map((v) => [`${v.record.role}\u0000${v.record.id}`, v]));
    const posOf = new Map(batch.map((v, i) => [v, i]));
    const fresh = new Map<string, StoredSide>();
    const baselines: ShadowRecord[] = [];
    const joinIds: string[] = [];
    for (const row of inserted.rows) {
      const v = bySide.get(`${row.role}\u0000${row.id}`)!;
      if (row.role === 'baseline') {
        baselines.push(v.record);
        continue;
      }
      fresh.set(`${row.role}\u0000${row.id}`, { seq: row.seq, route: v.record.route, arrivalMs: now, record: v.record, pos: posOf.get(v)!, valid: v });
      joinIds.push(row.id);
    }
    const pairs: PairEvent[] = [];
    if (joinIds.length > 0) {
      // The partners stored before this batch: visible now that the ids are locked.
      const freshSeqs = [...fresh.values()].map((s) => s.seq);
      const stored = await c.query<{ seq: number; id: string; role: Role; route: string; arrival_ms: number; record: string }>({
        name: 'ingest:partners',
        text: `SELECT seq, id, role, route, arrival_ms, record FROM records
               WHERE id = ANY($1::text[]) AND role IN ('production', 'shadow') AND NOT (seq = ANY($2::int8[]))`,
        values: [joinIds, freshSeqs],
      });
      const old = new Map<string, StoredSide>();
      for (const r of stored.rows) {
        old.set(`${r.role}\u0000${r.id}`, { seq: r.seq, route: r.route, arrivalMs: r.arrival_ms, record: JSON.parse(r.record) as ShadowRecord, pos: null, valid: null });
      }
      const made = new Set<string>();
      const rows: PairInsert[] = [];
      for (const side of fresh.values()) {
        const id = side.record.id;
        if (made.has(id)) continue;
        const partnerKey = `${partnerOf(side.record.role)}\u0000${id}`;
        const partner = fresh.get(partnerKey) ?? old.get(partnerKey);
        if (!partner) continue;
        made.add(id);
        const [p, s] = side.record.role === 'production' ? [side, partner] : [partner, side];
        const waited = partner.valid === null ? partner : null;
        const rules = this.config.rulesFor(p.record.route);
        let comparison: Comparison;
        let sample: PredictionSample | null = null;
        try {
          comparison = comparePair(p.record, s.record, rules);
          if (rules.prediction) sample = predictionSample(rules.prediction, p.record, s.record);
        } catch (err) {
          // Blame the side of this transaction (the later one when both are).
          const blamed = (p.pos ?? -1) > (s.pos ?? -1) ? p.valid! : s.valid!;
          throw new ItemFailed(blamed, err);
        }
        rows.push({ id, p, s, waited, comparison, sample, late: waited !== null && waited.arrivalMs + this.opts.joinWindowMs <= now });
      }
      if (rows.length > 0) pairs.push(...(await this.insertPairs(c, rows, now)));
    }
    for (const w of this.writers) await w(c, { now, pairs, baselines });
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
        rows.map((r) => r.p.record.route),
        rows.map((r) => b(r.comparison.statusMatch)),
        rows.map((r) => b(r.comparison.bodyMatch)),
        rows.map((r) => b(r.comparison.match)),
        rows.map((r) => b(r.comparison.truncated)),
        rows.map((r) => b(r.late)),
        rows.map((r) => JSON.stringify(r.comparison.diffs)),
        rows.map(() => now),
        rows.map((r) => r.comparison.compareNote ?? null),
        rows.map((r) => r.waited?.record.role ?? null),
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
      // `route` is the pair's route (the production side's); PairEvent carries it once perf's join work is merged.
      const event = { id: r.id, pairSeq: seq, route: r.p.record.route, production: r.p.record, shadow: r.s.record, comparison: r.comparison, sample: r.sample };
      events.push(event);
      if (r.sample) withSample.push({ seq, route: r.p.record.route, s: r.sample });
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

interface PairInsert {
  id: string;
  p: StoredSide;
  s: StoredSide;
  waited: StoredSide | null;
  comparison: Comparison;
  sample: PredictionSample | null;
  late: boolean;
}
