// The collector's core: a batch of records goes into SQLite in one transaction,
// each production/shadow side meets its partner (from memory or SQLite), each new
// pair is compared and stored, and the aggregates follow. All state here can be
// rebuilt from the database (rebuild()), which is what a restart does.
import type { CollectorConfig } from '../config.js';
import { comparePair } from '../compare/compare-pair.js';
import { predictionSample, type PredictionSample } from '../compare/prediction.js';
import { comparisonOf, prepareItems, type PreparedBatch, type PreparedRecord } from '../ingest/prepare.js';
import type { BodyItem } from '../ingest/body.js';
import { RouteCap } from '../ingest/route-cap.js';
import { isStorageError, type Repository } from '../store/repository.js';
import { fieldPaths } from '../stats/route-stats.js';
import { StatsBook } from '../stats/stats-book.js';
import type { Comparison, Diff, IngestError, IngestInternalError, IngestResult, Role, ShadowRecord } from '../types.js';
import { PendingCache } from './pending-cache.js';
import { RecentSides, type RecentSide } from './recent-sides.js';
import { JoinWindow } from './window.js';

export interface JoinerOptions {
  joinWindowMs: number;
  maxPending: number;
  /** Milliseconds since the epoch; injectable for tests of the in-process API. */
  clock?: () => number;
  /** Distinct routes kept (--max-routes); unlimited when absent. */
  maxRoutes?: number;
  /** Sees every stored side, live and when rebuilding (the latency histograms of /metrics). */
  sides?: SideObserver;
}

export interface SideObserver {
  /** The aggregates are about to be recounted from the database. */
  reset(): void;
  side(route: string, role: Role, latencyMs: number): void;
}

/** What later stages (feedback, noise) hear about, inside the batch's transaction. */
export interface PairEvent {
  id: string;
  pairSeq: number;
  /** The production side's route (the pair's route); read it instead of production.route. */
  route: string;
  /** Parsed from the stored text when first read: listeners that need no body should not. */
  production: ShadowRecord;
  shadow: ShadowRecord;
  comparison: Comparison;
  sample: PredictionSample | null;
  /** The noise learner's excusable paths when the prepare thread worked them out; undefined: not yet. */
  excusable?: string[] | null;
}

export interface JoinListener {
  /** A production/shadow pair was made and stored. */
  pair?(e: PairEvent): void;
  /** A new baseline side was stored. */
  baseline?(r: ShadowRecord): void;
  /** The joiner rebuilt its state from the database (after a rolled-back batch). */
  rebuilt?(): void;
}

/** A stored side as the aggregates need it (a `records` row's columns). */
export interface StoredSide {
  route: string;
  role: Role;
  status: number;
  latency_ms: number;
}

/** A stored pair as the aggregates need it (a `pairs` row's columns; diffs is JSON text). */
export interface StoredPair {
  route: string;
  status_match: number;
  body_match: number;
  match: number;
  late: number;
  diffs: string;
}

/** A stored production/shadow side without a partner. */
export interface StoredLone {
  id: string;
  role: Role;
  route: string;
  arrival_ms: number;
}

const partnerOf = (role: Role): Role => (role === 'production' ? 'shadow' : 'production');

/** What commit() answers for one batch: its answer once committed, or why it was not. */
export type BatchOutcome = { result: IngestResult } | { error: unknown };

interface AdmittedBatch {
  valid: PreparedRecord[];
  errors: IngestError[];
  internal: IngestInternalError[];
}

const recordOf = (side: { json: string; record?: ShadowRecord }): ShadowRecord => side.record ?? (JSON.parse(side.json) as ShadowRecord);

/** The side's record, parsed from its text at most once and only if someone asks. */
function lazyRecord(side: { json: string; record?: ShadowRecord }): () => ShadowRecord {
  let r = side.record;
  return () => (r ??= JSON.parse(side.json) as ShadowRecord);
}

/**
 * A PairEvent whose records are parsed only when a listener reads them. A class with
 * its getters on the prototype: an object literal with getters made two new
 * functions per pair.
 */
class LazyPairEvent implements PairEvent {
  constructor(
    readonly id: string,
    readonly pairSeq: number,
    readonly route: string,
    private readonly productionOf: () => ShadowRecord,
    private readonly shadowOf: () => ShadowRecord,
    readonly comparison: Comparison,
    readonly sample: PredictionSample | null,
    readonly excusable: string[] | null | undefined,
  ) {}

  get production(): ShadowRecord {
    return this.productionOf();
  }

  get shadow(): ShadowRecord {
    return this.shadowOf();
  }
}

/** A LazyPairEvent, for the PostgreSQL ingest's pairs. */
export function pairEvent(
  id: string,
  pairSeq: number,
  route: string,
  production: () => ShadowRecord,
  shadow: () => ShadowRecord,
  comparison: Comparison,
  sample: PredictionSample | null,
  excusable: string[] | null | undefined,
): PairEvent {
  return new LazyPairEvent(id, pairSeq, route, production, shadow, comparison, sample, excusable);
}

export class Joiner {
  readonly stats = new StatsBook();
  readonly routeCap: RouteCap;
  readonly listeners: JoinListener[] = [];
  private readonly window: JoinWindow;
  private readonly cache: PendingCache;
  /** The last lone sides, parsed: most partners join without reading SQLite. */
  private readonly recent = new RecentSides();
  private readonly clock: () => number;
  private lastNow = 0;
  /** Production/shadow sides without a partner, in or past their window. */
  private lone = 0;

  constructor(
    private readonly repo: Repository,
    private readonly config: CollectorConfig,
    private readonly opts: JoinerOptions,
  ) {
    this.window = new JoinWindow(opts.joinWindowMs);
    this.cache = new PendingCache(opts.maxPending);
    this.clock = opts.clock ?? Date.now;
    this.routeCap = new RouteCap(opts.maxRoutes ?? Infinity, this.stats.routes);
    this.rebuild();
  }

  /** Never goes backwards, so the window's buckets stay in arrival order. */
  now(): number {
    const t = this.clock();
    if (t > this.lastNow) this.lastNow = t;
    return this.lastNow;
  }

  /** Moves sides whose window ended from pending to unmatched. */
  tick(): void {
    const now = this.now();
    this.window.expire(now);
    this.cache.evictExpired(now, this.opts.joinWindowMs);
  }

  /** Validates, stores and joins one batch in this thread (the in-process API). */
  ingest(items: readonly BodyItem[]): IngestResult {
    const [outcome] = this.commit([prepareItems(items, undefined, true)]);
    if ('error' in outcome!) throw outcome.error;
    return outcome!.result;
  }

  /**
   * Stores prepared batches in one transaction (group commit: one commit for all the
   * requests that waited while the previous one ran). Each batch gets its own outcome:
   * its answer, or the error that kept it from being committed. On return, every
   * batch with a result is committed.
   */
  commit(batches: readonly PreparedBatch[]): BatchOutcome[] {
    const work = batches.map((b) => this.admit(b));
    const all = work.flatMap((w) => w.valid);
    if (all.length > 0) {
      this.tick();
      const now = this.lastNow;
      try {
        // The common case: every batch in one transaction, no savepoints.
        this.repo.transaction(() => {
          for (const v of all) this.accept(v, now);
        });
      } catch (err) {
        // The transaction rolled back; the in-memory view may be ahead of it.
        this.rebuild();
        // The database failing (busy, full, I/O) fails every batch of the group:
        // nothing is committed and the senders retry.
        if (isStorageError(err)) return batches.map(() => ({ error: err }));
        // A record failed for a reason of ours: each batch again on its own, each
        // record in its own savepoint, so that record alone is undone.
        return work.map((w) => {
          try {
            this.acceptOneByOne(w.valid, now, w.internal);
            return { result: this.answer(w) };
          } catch (e) {
            return { error: e };
          }
        });
      }
    }
    return work.map((w) => ({ result: this.answer(w) }));
  }

  /** The records of a batch that may be stored (the route cap applies here, in order). */
  private admit(b: PreparedBatch): AdmittedBatch {
    const errors = b.errors.slice();
    const valid: PreparedRecord[] = [];
    for (const r of b.records) {
      const capped = this.routeCap.check(r.route);
      if (capped !== null) errors.push({ index: r.index, error: capped });
      else valid.push(r);
    }
    if (errors.length > b.errors.length && b.errors.length > 0) errors.sort((x, y) => x.index - y.index);
    return { valid, errors, internal: [] };
  }

  private answer(w: AdmittedBatch): IngestResult {
    const { errors, internal } = w;
    if (internal.length > 0) {
      for (const f of internal) errors.push({ index: f.index, error: 'internal error while storing this record (logged by the collector)' });
      errors.sort((a, b) => a.index - b.index);
    }
    const result: IngestResult = { accepted: w.valid.length - internal.length, rejected: errors.length, errors };
    if (internal.length > 0) Object.defineProperty(result, 'internal', { value: internal, enumerable: false });
    return result;
  }

  private acceptOneByOne(valid: readonly PreparedRecord[], now: number, internal: IngestInternalError[]): void {
    try {
      this.repo.transaction(() => {
        for (const v of valid) {
          try {
            this.repo.savepoint(() => this.accept(v, now));
          } catch (err) {
            if (isStorageError(err)) throw err;
            internal.push({ index: v.index, error: err });
          }
        }
      });
    } catch (err) {
      this.rebuild();
      throw err;
    }
    // A failed record may have left counts behind in memory that its savepoint undid on disk.
    if (internal.length > 0) this.rebuild();
  }

  private accept(r: PreparedRecord, now: number): void {
    const seq = this.repo.insertRecord(r.id, r.role, r.route, r.status, r.latency_ms, now, r.json);
    if (seq === null) return; // duplicate
    this.applySide(r);
    const own = this.stats.route(r.route);
    if (r.role === 'baseline') {
      if (this.listeners.some((l) => l.baseline)) {
        const record = recordOf(r);
        for (const l of this.listeners) l.baseline?.(record);
      }
      return;
    }

    const partnerRole = partnerOf(r.role);
    const cached = this.cache.take(r.id);
    // The partner usually arrived moments ago and is still in hand; else SQLite is
    // asked, and without a cache hit only when some lone side is not cached.
    const recent = this.recent.take(r.id, partnerRole);
    const stored = recent ? undefined : cached || this.lone > this.cache.size ? this.repo.findSide(r.id, partnerRole) : undefined;
    if (!recent && !stored) {
      own.addLone(r.role, 1);
      this.lone++;
      this.window.add(now, r.route, own, r.role);
      this.cache.add(r.id, { role: r.role, route: r.route, arrivalMs: now });
      this.recent.add(r.id, r.role, { seq, route: r.route, arrivalMs: now, wseq: r.wseq, json: r.json, record: r.record });
      return;
    }
    const partner: RecentSide = recent ?? { seq: stored!.seq, route: stored!.route, arrivalMs: stored!.arrival_ms, wseq: 0, json: stored!.record };

    const partnerStats = this.stats.route(partner.route);
    const late = !this.window.remove(partner.arrivalMs, partner.route, partnerRole);
    partnerStats.addLone(partnerRole, -1);
    this.lone--;

    const ownRecord = lazyRecord(r);
    const otherRecord = lazyRecord(partner);
    const productionRoute = r.role === 'production' ? r.route : partner.route;
    const rules = this.config.rulesFor(productionRoute);
    // Compared on the prepare thread against this very partner: take its outcome.
    const pre = r.pair && partner.wseq !== 0 && r.pair.partnerWseq === partner.wseq ? r.pair : undefined;
    let c: Comparison;
    let diffs: string;
    let sample: PredictionSample | null = null;
    if (pre) {
      c = comparisonOf(pre);
      diffs = pre.diffs;
      if (rules.prediction) sample = pre.sample;
    } else {
      const production = r.role === 'production' ? ownRecord() : otherRecord();
      const shadow = r.role === 'production' ? otherRecord() : ownRecord();
      c = comparePair(production, shadow, rules);
      diffs = JSON.stringify(c.diffs);
      if (rules.prediction) sample = predictionSample(rules.prediction, production, shadow);
    }
    const pairSeq = this.repo.insertPair({
      prodSeq: r.role === 'production' ? seq : partner.seq,
      shadowSeq: r.role === 'production' ? partner.seq : seq,
      id: r.id,
      route: productionRoute,
      statusMatch: c.statusMatch,
      bodyMatch: c.bodyMatch,
      match: c.match,
      truncated: c.truncated,
      late,
      diffs,
      createdMs: now,
      compareNote: c.compareNote,
    });
    const routeStats = this.stats.route(productionRoute);
    routeStats.countPair(c, late, fieldPaths(c.diffs));
    if (sample) {
      this.repo.insertPrediction(pairSeq, productionRoute, sample);
      routeStats.predictionStats().add(sample);
    }
    if (this.listeners.length === 0) return;
    const event = new LazyPairEvent(r.id, pairSeq, productionRoute, r.role === 'production' ? ownRecord : otherRecord, r.role === 'production' ? otherRecord : ownRecord, c, sample, pre?.excusable);
    for (const l of this.listeners) l.pair?.(event);
  }

  /** Recomputes every aggregate and the pending state from the database. */
  rebuild(): void {
    this.repo.reloadIds();
    this.stats.clear();
    this.opts.sides?.reset();
    this.window.clear();
    this.cache.clear();
    this.recent.clear();
    this.lone = 0;
    for (const row of this.repo.scanRecords()) this.applySide(row);
    for (const p of this.repo.scanPairs()) this.applyPair(p);
    for (const p of this.repo.scanPredictions()) this.applyPrediction(p);
    const now = this.now();
    for (const lone of this.repo.scanLone()) this.applyLone(lone, now);
    for (const l of this.listeners) l.rebuilt?.();
  }

  // Applying stored rows to the aggregates, one row at a time: what rebuild() does
  // after a restart or rollback, and what another store replaying its rows needs.

  /** Counts one stored side (any role) in its route's stats and the side observer. */
  applySide(row: StoredSide): void {
    this.stats.route(row.route).countSide(row.role, row.status, row.latency_ms);
    this.opts.sides?.side(row.route, row.role, row.latency_ms);
  }

  /** Counts one stored production/shadow pair in its route's stats. */
  applyPair(p: StoredPair): void {
    const c = { statusMatch: p.status_match === 1, bodyMatch: p.body_match === 1, match: p.match === 1 };
    const paths = p.diffs === '[]' ? [] : fieldPaths(JSON.parse(p.diffs) as Diff[]);
    this.stats.route(p.route).countPair(c, p.late === 1, paths);
  }

  /** Counts one stored prediction sample of a pair. */
  applyPrediction(p: { route: string } & PredictionSample): void {
    this.stats.route(p.route).predictionStats().add(p);
  }

  /**
   * Counts one stored side that has no partner: lone in its route's stats, and still
   * pending (window + cache) when its window has not ended at `now`.
   */
  applyLone(lone: StoredLone, now: number): void {
    const s = this.stats.route(lone.route);
    s.addLone(lone.role, 1);
    this.lone++;
    if (lone.arrival_ms + this.opts.joinWindowMs > now) {
      this.window.add(lone.arrival_ms, lone.route, s, lone.role);
      this.cache.add(lone.id, { role: lone.role, route: lone.route, arrivalMs: lone.arrival_ms });
    }
    if (lone.arrival_ms > this.lastNow) this.lastNow = lone.arrival_ms;
  }

  /** For /healthz and the memory bench: how much join state is held in memory. */
  memoryState(): { cachedPending: number; windowBuckets: number; lone: number } {
    return { cachedPending: this.cache.size, windowBuckets: this.window.buckets, lone: this.lone };
  }
}
