// Every series of GET /metrics (contract §3.1 names and labels, plus a few more).
// Route aggregates are read from a per-scrape snapshot of the same per-route stats
// /v1/stats answers; the latency histograms are observed as sides are stored;
// rejections are counted from the answers the ingest endpoints send.
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import type { FeedbackSnapshot } from '../feedback/feedback-book.js';
import type { RouteStatsSnapshot } from '../stats/route-stats.js';
import type { Role } from '../types.js';
import { derivedCounter, derivedGauge, type Sample } from './derived.js';
import { LatencyHistogram } from './latency-histogram.js';

export type Decision = 'promote' | 'hold' | 'reject';
export const DECISIONS: readonly Decision[] = ['promote', 'hold', 'reject'];

/** Fields of S added in contract 1.1 (verdict work); read when present. */
export interface StatsExtras {
  adjusted_match_rate?: number | null;
  join_rate?: number | null;
  noise?: readonly unknown[];
}

export type RouteSnapshot = RouteStatsSnapshot & StatsExtras;

/** What one scrape reads; built once per scrape so every series sees the same moment. */
export interface ScrapeState {
  routes: readonly (readonly [string, RouteSnapshot])[];
  /** Ground truth per route, once a label is known. */
  feedback: readonly (readonly [string, FeedbackSnapshot])[];
  /** Current decision per route and overall ("*"); empty while unknown. */
  verdicts: readonly (readonly [string, Decision])[];
  /** The sample_percent of PUT /v1/control, per route or "*". */
  control: Readonly<Record<string, number>>;
  /** Failed alert webhook delivery attempts (retries included). */
  webhookFailures: number;
  routeCap: { max: number; known: number };
}

export interface MetricsSource {
  scrape(): ScrapeState | Promise<ScrapeState>;
}

const EMPTY: ScrapeState = { routes: [], feedback: [], verdicts: [], control: {}, webhookFailures: 0, routeCap: { max: 0, known: 0 } };

function* perRoute<L extends string>(s: ScrapeState, f: (name: string, r: RouteSnapshot) => Iterable<Sample<L>>): Iterable<Sample<L>> {
  for (const [name, r] of s.routes) yield* f(name, r);
}

const ROLES: readonly Role[] = ['production', 'shadow', 'baseline'];

export type Endpoint = 'records' | 'feedback';

export class CollectorMetrics {
  readonly registry = new Registry();
  readonly latency = new LatencyHistogram(this.registry);
  private state: ScrapeState = EMPTY;
  private readonly rejectedRecords: Counter<'reason'>;
  private readonly rejectedLabels: Counter;
  private readonly rejectedRequests: Counter<'endpoint' | 'code'>;

  constructor(private readonly source: MetricsSource) {
    const reg = this.registry;
    const st = (): ScrapeState => this.state;
    collectDefaultMetrics({ register: reg });

    derivedCounter(reg, st, {
      name: 'shadowmesh_records_total',
      help: 'Sides stored per route and role (duplicates of an (id, role) are not counted).',
      labelNames: ['route', 'role'],
      read: (s) => perRoute(s, (route, r) => ROLES.map((role) => [{ route, role }, r[role]] as const)),
    });
    derivedCounter(reg, st, {
      name: 'shadowmesh_pairs_total',
      help: 'Production/shadow pairs formed, by the production side\'s route.',
      labelNames: ['route'],
      read: (s) => perRoute(s, (route, r) => [[{ route }, r.pairs]]),
    });
    derivedCounter(reg, st, {
      name: 'shadowmesh_mismatched_pairs_total',
      help: 'Pairs whose status, body or compared headers differ.',
      labelNames: ['route'],
      read: (s) => perRoute(s, (route, r) => [[{ route }, r.pairs - r.match]]),
    });
    derivedCounter(reg, st, {
      name: 'shadowmesh_late_pairs_total',
      help: 'Pairs formed after the first side\'s join window had ended.',
      labelNames: ['route'],
      read: (s) => perRoute(s, (route, r) => [[{ route }, r.late]]),
    });
    derivedCounter(reg, st, {
      name: 'shadowmesh_errors_total',
      help: 'Sides with status 0 (no response) or 5xx, per route and role.',
      labelNames: ['route', 'role'],
      read: (s) =>
        perRoute(s, (route, r) => [
          [{ route, role: 'production' }, r.production_errors],
          [{ route, role: 'shadow' }, r.shadow_errors],
          [{ route, role: 'baseline' }, r.baseline_errors],
        ]),
    });
    derivedGauge(reg, st, {
      name: 'shadowmesh_match_rate',
      help: 'Pairs matching in status and body / pairs (no series while a route has no pairs).',
      labelNames: ['route'],
      read: (s) => perRoute(s, (route, r) => (r.match_rate === null ? [] : [[{ route }, r.match_rate]])),
    });
    derivedGauge(reg, st, {
      name: 'shadowmesh_adjusted_match_rate',
      help: 'Match rate where diffs at the route\'s learned noise paths do not count (equals the match rate without noise paths).',
      labelNames: ['route'],
      read: (s) =>
        perRoute(s, (route, r) => {
          const v = r.adjusted_match_rate === undefined ? r.match_rate : r.adjusted_match_rate;
          return v === null ? [] : [[{ route }, v]];
        }),
    });
    derivedGauge(reg, st, {
      name: 'shadowmesh_join_rate',
      help: 'pairs / (pairs + unmatched production + unmatched shadow); low means records are missing.',
      labelNames: ['route'],
      read: (s) =>
        perRoute(s, (route, r) => {
          const v = r.join_rate === undefined ? joinRate(r) : r.join_rate;
          return v === null ? [] : [[{ route }, v]];
        }),
    });
    derivedGauge(reg, st, {
      name: 'shadowmesh_unmatched',
      help: 'Sides still alone after their join window, per route and role.',
      labelNames: ['route', 'role'],
      read: (s) =>
        perRoute(s, (route, r) => [
          [{ route, role: 'production' }, r.unmatched_production],
          [{ route, role: 'shadow' }, r.unmatched_shadow],
        ]),
    });
    derivedGauge(reg, st, {
      name: 'shadowmesh_pending',
      help: 'Sides waiting for their partner inside the join window.',
      labelNames: ['route'],
      read: (s) => perRoute(s, (route, r) => [[{ route }, r.pending]]),
    });
    derivedGauge(reg, st, {
      name: 'shadowmesh_noise_paths',
      help: 'Body paths learned as noise from baseline triples (their changes do not count in the adjusted match rate).',
      labelNames: ['route'],
      read: (s) => perRoute(s, (route, r) => [[{ route }, r.noise?.length ?? 0]]),
    });
    derivedGauge(reg, st, {
      name: 'shadowmesh_label_agreement',
      help: 'Share of pairs where production and shadow predict the same label (routes with prediction rules).',
      labelNames: ['route'],
      read: (s) =>
        perRoute(s, (route, r) => {
          const v = r.prediction?.label_agreement;
          return v === null || v === undefined ? [] : [[{ route }, v]];
        }),
    });
    derivedGauge(reg, st, {
      name: 'shadowmesh_feedback_labelled_pairs',
      help: 'Pairs with both predictions and a ground-truth label (POST /v1/feedback).',
      labelNames: ['route'],
      read: (s) => s.feedback.map(([route, f]) => [{ route }, f.labelled] as const),
    });
    derivedGauge(reg, st, {
      name: 'shadowmesh_accuracy',
      help: 'Share of labelled pairs each side predicted right.',
      labelNames: ['route', 'role'],
      read: function* (s) {
        for (const [route, f] of s.feedback) {
          yield [{ route, role: 'production' }, f.production_accuracy] as const;
          yield [{ route, role: 'shadow' }, f.shadow_accuracy] as const;
        }
      },
    });
    derivedGauge(reg, st, {
      name: 'shadowmesh_mcnemar_p',
      help: 'Exact McNemar p-value of production vs shadow accuracy on the labelled pairs (two-sided).',
      labelNames: ['route'],
      read: (s) => s.feedback.map(([route, f]) => [{ route }, f.mcnemar_p] as const),
    });
    derivedGauge(reg, st, {
      name: 'shadowmesh_verdict',
      help: 'Current verdict: 1 for the current decision, 0 for the others; route="*" is the overall verdict.',
      labelNames: ['route', 'decision'],
      read: function* (s) {
        for (const [route, d] of s.verdicts) for (const decision of DECISIONS) yield [{ route, decision }, d === decision ? 1 : 0] as const;
      },
    });
    derivedGauge(reg, st, {
      name: 'shadowmesh_control_sample_percent',
      help: 'sample_percent set through PUT /v1/control, per route or "*"; no series when none is set.',
      labelNames: ['route'],
      read: (s) => Object.entries(s.control).map(([route, v]) => [{ route }, v] as const),
    });
    derivedCounter(reg, st, {
      name: 'shadowmesh_webhook_failures_total',
      help: 'Failed alert webhook delivery attempts (error, timeout or non-2xx answer; each retry counts).',
      labelNames: [],
      read: (s) => [[{}, s.webhookFailures]],
    });
    derivedGauge(reg, st, {
      name: 'shadowmesh_routes',
      help: 'Distinct routes the collector holds.',
      labelNames: [],
      read: (s) => [[{}, s.routeCap.known]],
    });
    derivedGauge(reg, st, {
      name: 'shadowmesh_max_routes',
      help: 'The --max-routes cap: records of further new routes are rejected.',
      labelNames: [],
      read: (s) => [[{}, s.routeCap.max]],
    });

    this.rejectedRecords = new Counter({
      name: 'shadowmesh_ingest_rejected_records_total',
      help: 'Records rejected by POST /v1/records, by reason: invalid (schema, unparsable NDJSON line) or route_limit (--max-routes).',
      labelNames: ['reason'],
      registers: [reg],
    });
    for (const reason of ['invalid', 'route_limit']) this.rejectedRecords.inc({ reason }, 0);
    this.rejectedLabels = new Counter({
      name: 'shadowmesh_feedback_rejected_labels_total',
      help: 'Labels rejected by POST /v1/feedback.',
      registers: [reg],
    });
    this.rejectedRequests = new Counter({
      name: 'shadowmesh_ingest_rejected_requests_total',
      help: 'Whole POST bodies refused (401 token, 400 unparsable, 413 too large), by endpoint and status code.',
      labelNames: ['endpoint', 'code'],
      registers: [reg],
    });
  }

  /** Counts the per-record rejections of one 200 answer of an ingest endpoint. */
  countAnswer(endpoint: Endpoint, rejected: number, routeLimit: number): void {
    if (rejected <= 0) return;
    if (endpoint === 'feedback') {
      this.rejectedLabels.inc(rejected);
      return;
    }
    if (routeLimit > 0) this.rejectedRecords.inc({ reason: 'route_limit' }, routeLimit);
    if (rejected > routeLimit) this.rejectedRecords.inc({ reason: 'invalid' }, rejected - routeLimit);
  }

  countRefused(endpoint: Endpoint, code: number): void {
    this.rejectedRequests.inc({ endpoint, code: String(code) });
  }

  /** The exposition text of one scrape. */
  async render(): Promise<string> {
    this.state = await this.source.scrape();
    try {
      return await this.registry.metrics();
    } finally {
      this.state = EMPTY;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function joinRate(r: RouteStatsSnapshot): number | null {
  const d = r.pairs + r.unmatched_production + r.unmatched_shadow;
  return d === 0 ? null : r.pairs / d;
}
