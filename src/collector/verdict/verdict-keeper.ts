// Evaluates verdicts, keeps the last decision per route and overall (durable, so a
// restart neither forgets them nor alerts again), and raises an alert on every
// change. Decisions are re-evaluated every second while records arrive, and every
// few seconds anyway (join windows end without new records).
import { alertBody } from '../alerts/alert-body.js';
import type { WebhookAlerts } from '../alerts/webhook-alerts.js';
import type { CollectorConfig } from '../config.js';
import type { StatsBuilder } from '../stats/stats-builder.js';
import type { StoredDecision } from '../store/decision-store.js';
import { resolveCriteria, type Criteria } from './criteria.js';
import { decide, type Decision, type Verdict } from './decide.js';

/** The scope key of the verdict over all routes (route names are never empty). */
const OVERALL = '';

export interface LastDecision {
  decision: Decision;
  changedAt: string;
}

/**
 * Whether this collector made the change (then `previous` is what it replaced, for
 * the alert) or another one sharing the database made it or a newer one (then
 * `current`, when known, is the decision kept there).
 */
export type DecisionChange =
  | { made: true; previous: string | null }
  | { made: false; current?: { decision: string; changedMs: number } };

/**
 * Where decisions are kept: SQLite's decision store, or PostgreSQL's, which several
 * collectors share: there only one of them makes a given change (and alerts).
 */
export interface DecisionSink {
  decisions(): StoredDecision[];
  /** Keeps a changed decision unless another collector already made it. */
  change(d: StoredDecision, before: string | null): DecisionChange | Promise<DecisionChange>;
}

export interface VerdictKeeperOptions {
  /** How often to look whether records arrived and decisions should be re-evaluated. */
  checkMs?: number;
  /** Evaluate at least this often even without new records. */
  idleMs?: number;
  clock?: () => number;
}

export class VerdictKeeper {
  readonly criteria: Criteria;
  private readonly last = new Map<string, LastDecision>();
  private dirty = true;
  private lastEvaluation = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly clock: () => number;
  private readonly idleMs: number;
  /** Scopes whose change is being written (asynchronous sinks): proposed once at a time. */
  private readonly proposing = new Set<string>();

  constructor(
    private readonly stats: StatsBuilder,
    private readonly store: DecisionSink,
    config: CollectorConfig,
    private readonly alerts: WebhookAlerts | null,
    private readonly beforeEvaluation: () => void,
    opts: VerdictKeeperOptions = {},
  ) {
    this.criteria = resolveCriteria(config.verdict);
    this.clock = opts.clock ?? Date.now;
    this.idleMs = opts.idleMs ?? 5000;
    for (const d of store.decisions()) this.last.set(d.scope, { decision: d.decision as Decision, changedAt: new Date(d.changedMs).toISOString() });
    const checkMs = opts.checkMs ?? 1000;
    this.timer = setInterval(() => this.maybeEvaluate(), checkMs);
    this.timer.unref();
  }

  /** Records (or feedback) arrived: decisions may have changed. */
  markDirty(): void {
    this.dirty = true;
  }

  /** Failed webhook delivery attempts, for /metrics. */
  get webhookFailures(): number {
    return this.alerts?.failures ?? 0;
  }

  /** Decision changes being written (shared databases) plus alerts not yet delivered or given up. */
  get unsettled(): number {
    return this.proposing.size + (this.alerts?.pending ?? 0);
  }

  /** The current verdict of a route, or of all routes together without one. */
  verdict(route?: string): Verdict {
    this.beforeEvaluation();
    const v = route === undefined ? this.judge(null) : this.judge(route);
    // Only scopes that exist are remembered: asking about an unknown route writes nothing.
    if (route === undefined || this.stats.routeNames().includes(route)) this.note(route ?? OVERALL, v);
    return v;
  }

  /** The last decision kept per scope (route name, or "*" for all routes). */
  lastDecisions(): Map<string, LastDecision> {
    return new Map([...this.last].map(([k, d]) => [k === OVERALL ? '*' : k, d]));
  }

  /** Evaluates every route and the overall verdict, alerting on changes. */
  evaluateAll(): void {
    this.beforeEvaluation();
    this.dirty = false;
    this.lastEvaluation = this.clock();
    const answer = this.stats.answerSync();
    for (const [name, s] of Object.entries(answer.routes)) {
      this.note(name, decide(s, this.stats.feedbackCounts(name).snapshot(this.criteria.confidence), this.criteria, name));
    }
    this.note(OVERALL, decide(answer.total, this.stats.feedbackCounts().snapshot(this.criteria.confidence), this.criteria, null));
  }

  private maybeEvaluate(): void {
    if (this.dirty || this.clock() - this.lastEvaluation >= this.idleMs) {
      try {
        this.evaluateAll();
      } catch (err) {
        process.stderr.write(`shadowmesh collector: verdict evaluation failed: ${String(err)}\n`);
      }
    }
  }

  private judge(route: string | null): Verdict {
    const s = route === null ? this.stats.total() : this.stats.route(route);
    const f = this.stats.feedbackCounts(route ?? undefined).snapshot(this.criteria.confidence);
    return decide(s, f, this.criteria, route);
  }

  private note(scope: string, v: Verdict): void {
    const before = this.last.get(scope);
    if (before?.decision === v.decision || this.proposing.has(scope)) return;
    const now = this.clock();
    const made = this.store.change({ scope, decision: v.decision, verdict: JSON.stringify(v), changedMs: now }, before?.decision ?? null);
    if (!(made instanceof Promise)) {
      this.settled(scope, made, v, now);
      return;
    }
    this.proposing.add(scope);
    made.then(
      (outcome) => {
        this.proposing.delete(scope);
        this.settled(scope, outcome, v, now);
      },
      (err: unknown) => {
        this.proposing.delete(scope);
        process.stderr.write(`shadowmesh collector: saving a decision failed: ${String(err)}\n`);
      },
    );
  }

  private settled(scope: string, outcome: DecisionChange, v: Verdict, now: number): void {
    if (outcome.made) this.changed(scope, outcome.previous, v, now);
    else if (outcome.current) this.adopt(scope, outcome.current.decision as Decision, outcome.current.changedMs);
  }

  private changed(scope: string, previous: string | null, v: Verdict, now: number): void {
    this.last.set(scope, { decision: v.decision, changedAt: new Date(now).toISOString() });
    this.alerts?.send(alertBody(previous as Decision | null, v));
  }

  /** A decision another collector sharing the database made (that one alerted). */
  adopt(scope: string, decision: Decision, changedMs: number): void {
    if (this.proposing.has(scope)) return;
    const had = this.last.get(scope);
    if (had?.decision === decision) return;
    this.last.set(scope, { decision, changedAt: new Date(changedMs).toISOString() });
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.alerts?.close();
  }
}
