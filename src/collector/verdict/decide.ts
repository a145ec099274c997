// The verdict of one scope (a route, or all routes together) from its S: pure,
// so the same function answers GET /v1/verdict, feeds the alert webhooks and is
// simulated in tests (contract §3 and §3.1).
import type { FeedbackSnapshot } from '../feedback/feedback-book.js';
import type { FullStats } from '../stats/stats-builder.js';
import type { Criteria } from './criteria.js';
import { betaBinomialSequence, wilsonInterval, type Interval } from './intervals.js';

export type Decision = 'promote' | 'hold' | 'reject';

export interface Reason {
  criterion: string;
  observed: number | null;
  threshold: number;
  /** true: met; false: failed (conclusively, for min_match_rate); null: not known yet. */
  ok: boolean | null;
  /** The sample size it was judged on. */
  n: number;
  lower?: number;
  upper?: number;
  conclusion?: FeedbackSnapshot['conclusion'];
  /** One line a person reads. */
  message: string;
}

export interface VerdictObserved {
  pairs: number;
  match_rate: number | null;
  adjusted_match_rate: number | null;
  join_rate: number | null;
  production_error_rate: number | null;
  shadow_error_rate: number | null;
  error_rate_delta: number | null;
  latency_p99_ms: { production: number | null; shadow: number | null };
  latency_p99_ratio: number | null;
  feedback: FeedbackSnapshot | null;
}

export interface Verdict {
  decision: Decision;
  /** null for the verdict over all routes together. */
  route: string | null;
  reasons: Reason[];
  observed: VerdictObserved;
  criteria: Criteria;
  evaluated_at: string;
  /** The decision in one line: what holds it, what fails, or that all is met. */
  summary: string;
}

/** Three significant digits: enough for a person, stable for a message. */
export const fmt = (x: number | null): string => (x === null ? 'n/a' : Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(3))));

/** The interval the match rate is judged on, and the judgement (§3.1). */
export function judgeMatchRate(s: number, n: number, c: Pick<Criteria, 'min_match_rate' | 'confidence' | 'sequential'>): Interval & { ok: boolean | null } {
  const iv = n === 0 ? { lower: 0, upper: 1 } : c.sequential ? betaBinomialSequence(s, n - s, 1 - c.confidence) : wilsonInterval(s, n, c.confidence);
  const ok = iv.lower >= c.min_match_rate ? true : iv.upper < c.min_match_rate ? false : null;
  return { ...iv, ok };
}

const rate = (errors: number, sides: number): number | null => (sides === 0 ? null : errors / sides);

export function decide(s: FullStats, feedback: FeedbackSnapshot | null, c: Criteria, route: string | null, now = new Date()): Verdict {
  const productionErrorRate = rate(s.production_errors, s.production);
  const shadowErrorRate = rate(s.shadow_errors, s.shadow);
  const delta = productionErrorRate === null || shadowErrorRate === null ? null : shadowErrorRate - productionErrorRate;
  const p99p = s.latency_ms.production.p99;
  const p99s = s.latency_ms.shadow.p99;
  const ratio = p99p === null || p99s === null ? null : p99p === 0 ? (p99s === 0 ? 1 : null) : p99s / p99p;
  const seen = s.pairs + s.unmatched_production + s.unmatched_shadow;

  const reasons: Reason[] = [];
  const minPairs = s.pairs >= c.min_pairs;
  reasons.push({
    criterion: 'min_pairs', observed: s.pairs, threshold: c.min_pairs, ok: minPairs, n: s.pairs,
    message: minPairs ? `min_pairs ${s.pairs} ≥ ${c.min_pairs}` : `min_pairs ${s.pairs} < ${c.min_pairs}: not enough pairs yet`,
  });
  const join = s.join_rate === null ? null : s.join_rate >= c.min_join_rate;
  reasons.push({
    criterion: 'min_join_rate', observed: s.join_rate, threshold: c.min_join_rate, ok: join, n: seen,
    message:
      join === false
        ? `min_join_rate ${fmt(s.join_rate)} < ${c.min_join_rate}: records are missing (a data problem, not the shadow's fault)`
        : join ? `min_join_rate ${fmt(s.join_rate)} ≥ ${c.min_join_rate}` : 'min_join_rate: no sides yet',
  });
  const m = judgeMatchRate(s.adjusted_match, s.pairs, c);
  const how = c.sequential ? 'anytime-valid' : 'Wilson';
  reasons.push({
    criterion: 'min_match_rate', observed: s.adjusted_match_rate, threshold: c.min_match_rate, ok: m.ok, n: s.pairs, lower: m.lower, upper: m.upper,
    message:
      m.ok === true
        ? `min_match_rate ${fmt(s.adjusted_match_rate)} ≥ ${c.min_match_rate} (${how} lower bound ${fmt(m.lower)})`
        : m.ok === false
          ? `min_match_rate ${fmt(s.adjusted_match_rate)} < ${c.min_match_rate} (${how} upper bound ${fmt(m.upper)})`
          : `min_match_rate ${fmt(s.adjusted_match_rate)} inconclusive: ${how} interval [${fmt(m.lower)}, ${fmt(m.upper)}] contains ${c.min_match_rate}, more pairs needed`,
  });
  const errOk = delta === null ? null : delta <= c.max_error_rate_delta;
  reasons.push({
    criterion: 'max_error_rate_delta', observed: delta, threshold: c.max_error_rate_delta, ok: errOk, n: s.shadow,
    message: errOk === null ? 'max_error_rate_delta: no sides yet' : `max_error_rate_delta ${fmt(delta)} ${errOk ? '≤' : '>'} ${c.max_error_rate_delta}`,
  });
  const latOk = ratio === null ? (p99p === 0 && p99s !== null && p99s > 0 ? false : null) : ratio <= c.max_latency_p99_ratio;
  reasons.push({
    criterion: 'max_latency_p99_ratio', observed: ratio, threshold: c.max_latency_p99_ratio, ok: latOk, n: s.shadow,
    message:
      latOk === null ? 'max_latency_p99_ratio: no latencies yet' : `max_latency_p99_ratio ${ratio === null ? '∞' : fmt(ratio)} ${latOk ? '≤' : '>'} ${c.max_latency_p99_ratio}`,
  });
  if (feedback) {
    const worse = feedback.conclusion === 'shadow_worse';
    reasons.push({
      criterion: 'feedback', observed: feedback.mcnemar_p, threshold: 1 - c.confidence, ok: !worse, n: feedback.labelled, conclusion: feedback.conclusion,
      message: worse
        ? `feedback: shadow significantly worse (accuracy ${fmt(feedback.shadow_accuracy)} vs ${fmt(feedback.production_accuracy)}, McNemar p ${fmt(feedback.mcnemar_p)} < ${fmt(1 - c.confidence)})`
        : `feedback: ${feedback.conclusion.replace(/_/g, ' ')} (McNemar p ${fmt(feedback.mcnemar_p)})`,
    });
  }

  let decision: Decision;
  let summary: string;
  const judged = reasons.slice(2);
  if (!minPairs) {
    decision = 'hold';
    summary = reasons[0]!.message;
  } else if (join === false) {
    decision = 'hold';
    summary = reasons[1]!.message;
  } else if (judged.some((r) => r.ok === false)) {
    decision = 'reject';
    summary = judged.filter((r) => r.ok === false).map((r) => r.message).join('; ');
  } else if (join === null || judged.some((r) => r.ok === null)) {
    decision = 'hold';
    summary = reasons.filter((r) => r.ok === null).map((r) => r.message).join('; ');
  } else {
    decision = 'promote';
    summary = `all criteria met on ${s.pairs} pairs`;
  }

  return {
    decision,
    route,
    reasons,
    observed: {
      pairs: s.pairs,
      match_rate: s.match_rate,
      adjusted_match_rate: s.adjusted_match_rate,
      join_rate: s.join_rate,
      production_error_rate: productionErrorRate,
      shadow_error_rate: shadowErrorRate,
      error_rate_delta: delta,
      latency_p99_ms: { production: p99p, shadow: p99s },
      latency_p99_ratio: ratio,
      feedback,
    },
    criteria: c,
    evaluated_at: now.toISOString(),
    summary,
  };
}
