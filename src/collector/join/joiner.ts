// The collector's core: a batch of records goes into SQLite in one transaction,
// each production/shadow side meets its partner (from memory or SQLite), each new
// pair is compared and stored, and the aggregates follow. All state here can be
// rebuilt from the database (rebuild()), which is what a restart does.
import type { CollectorConfig } from '../config.js';
import { comparePair } from '../compare/compare-pair.js';
import { predictionSample, type PredictionSample } from '../compare/prediction.js';
import { recordError } from '../ingest/record-schema.js';
import { storableJson } from '../ingest/storable.js';
import type { BodyItem } from '../ingest/body.js';
import { RouteCap } from '../ingest/route-cap.js';
import { isStorageError, type Repository } from '../store/repository.js';
import { fieldPaths } from '../stats/route-stats.js';
import { StatsBook } from '../stats/stats-book.js';
import type { Comparison, Diff, IngestError, IngestInternalError, IngestResult, Role, ShadowRecord } from '../types.js';
import { PendingCache } from './pending-cache.js';
import { RecentSides } from './recent-sides.js';
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
  production: ShadowRecord;
  shadow: ShadowRecord;
  comparison: Comparison;
  sample: PredictionSample | null;
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

  ingest(items: readonly BodyItem[]): IngestResult {
    const errors: IngestError[] = [];
    const valid: { index: number; record: ShadowRecord; json: string }[] = [];
    for (const item of items) {
      const reason = item.error ?? recordError(item.value);
      if (reason !== null) {
        errors.push({ index: item.index, error: reason });
        continue;
      }
      const stored = storableJson(item.value as ShadowRecord);
      const capped = 'error' in stored ? null : this.routeCap.check((item.value as ShadowRecord).route);
      if ('error' in stored) errors.push({ index: item.index, error: stored.error });
      else if (capped !== null) errors.push({ index: item.index, error: capped });
      else valid.push({ index: item.index, record: item.value as ShadowRecord, json: stored.json });
    }
    const internal: IngestInternalError[] = [];
    if (valid.length > 0) {
      this.tick();
      const now = this.lastNow;
      try {
        // The common case: the whole batch in one transaction, no savepoints.
        this.repo.transaction(() => {
          for (const v of valid) this.accept(v.record, v.json, now);
        });
      } catch (err) {
        // The transaction rolled back; the in-memory view may be ahead of it.
        this.rebuild();
        // The database failing (busy, full, I/O) is the batch's failure: nothing is
        // committed and the sender retries.
        if (isStorageError(err)) throw err;
        // A record failed for a reason of ours: do the batch again with each record in
        // its own savepoint, so that record is undone alone and the rest is committed.
        this.acceptOneByOne(valid, now, internal);
      }
      if (internal.length > 0) {
        for (const f of internal) errors.push({ index: f.index, error: 'internal error while storing this record (logged by the collector)' });
        errors.sort((a, b) => a.index - b.index);
      }
    }
    const result: IngestResult = { accepted: valid.length - internal.length, rejected: errors.length, errors };
    if (internal.length > 0) Object.defineProperty(result, 'internal', { value: internal, enumerable: false });
    return result;
  }

  private acceptOneByOne(valid: readonly { index: number; record: ShadowRecord; json: string }[], now: number, internal: IngestInternalError[]): void {
    try {
      this.repo.transaction(() => {
        for (const v of valid) {
          try {
            this.repo.savepoint(() => this.accept(v.record, v.json, now));
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

  private accept(r: ShadowRecord, json: string, now: number): void {
    const seq = this.repo.insertRecord(r.id, r.role, r.route, r.status, r.latency_ms, now, json);
    if (seq === null) return; // duplicate
    this.applySide(r);
    const own = this.stats.route(r.route);
    if (r.role === 'baseline') {
      for (const l of this.listeners) l.baseline?.(r);
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
      this.recent.add(r.id, r.role, { seq, route: r.route, arrivalMs: now, record: r });
      return;
    }
    const partner = recent
      ? { seq: recent.seq, route: recent.route, arrival_ms: recent.arrivalMs, record: recent.record }
      : { seq: stored!.seq, route: stored!.route, arrival_ms: stored!.arrival_ms, record: JSON.parse(stored!.record) as ShadowRecord };

    const partnerStats = this.stats.route(partner.route);
    const late = !this.window.remove(partner.arrival_ms, partner.route, partnerRole);
    partnerStats.addLone(partnerRole, -1);
    this.lone--;

    const other = partner.record;
    const production = r.role === 'production' ? r : other;
    const shadow = r.role === 'production' ? other : r;
    const rules = this.config.rulesFor(production.route);
    const c = comparePair(production, shadow, rules);
    const pairSeq = this.repo.insertPair({
      prodSeq: r.role === 'production' ? seq : partner.seq,
      shadowSeq: r.role === 'production' ? partner.seq : seq,
      id: r.id,
      route: production.route,
      statusMatch: c.statusMatch,
      bodyMatch: c.bodyMatch,
      match: c.match,
      truncated: c.truncated,
      late,
      diffs: JSON.stringify(c.diffs),
      createdMs: now,
      compareNote: c.compareNote,
    });
    const routeStats = this.stats.route(production.route);
    routeStats.countPair(c, late, fieldPaths(c.diffs));
    let sample: PredictionSample | null = null;
    if (rules.prediction) {
      sample = predictionSample(rules.prediction, production, shadow);
      if (sample) {
        this.repo.insertPrediction(pairSeq, production.route, sample);
        routeStats.predictionStats().add(sample);
      }
    }
    for (const l of this.listeners) l.pair?.({ id: r.id, pairSeq, production, shadow, comparison: c, sample });
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
