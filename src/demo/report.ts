// Turns the collector's answers (GET /v1/stats, GET /v1/verdict, a mismatching
// pair) into the demo's report: every number in it is one the collector gave.
import type { Diff, FullStatsAnswer, Reason, ShadowRecord, Verdict } from '../collector/types.js';

// The answers' shapes are the collector's own types: the demo reads this repository's
// collector, so a field it renames or adds shows up here at compile time.
/** GET /v1/stats. */
export type StatsAnswer = FullStatsAnswer;
/** The part of GET /v1/verdict the report shows. */
export type VerdictAnswer = Pick<Verdict, 'decision' | 'reasons'>;
/** The fields of a GET /v1/pairs item the report reads (the sides are the stored records). */
export interface PairAnswer {
  id: string;
  route: string;
  diffs: Diff[];
  production: Pick<ShadowRecord, 'status'> | null;
  shadow: Pick<ShadowRecord, 'status' | 'error'> | null;
}

export interface ReportInput {
  route: string;
  stats: StatsAnswer;
  verdict: VerdictAnswer | null;
  mismatch: PairAnswer | null;
  collectorUrl: string;
  db: { path: string; kept: boolean };
  dashboardUrl: string | null;
}

export const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);
export const ms = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : `${x.toFixed(1)} ms`);
export const num = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined ? '—' : x.toFixed(digits));
const json = (v: unknown): string => (v === undefined ? '(absent)' : JSON.stringify(v));

function table(rows: string[][], indent = '  '): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => indent + r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

export function formatObserved(v: Reason['observed'] | Reason['threshold']): string {
  if (v === null) return '—';
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}

export function formatVerdict(v: VerdictAnswer): string[] {
  const out = [`verdict: ${v.decision.toUpperCase()}`];
  const rows = [['', 'criterion', 'observed', 'threshold', 'n', 'interval']];
  for (const r of v.reasons) {
    rows.push([
      r.ok === true ? 'ok' : r.ok === false ? 'FAIL' : 'wait',
      r.criterion,
      formatObserved(r.observed),
      formatObserved(r.threshold),
      String(r.n),
      r.lower === undefined || r.upper === undefined ? '' : `[${r.lower.toFixed(4)}, ${r.upper.toFixed(4)}]`,
    ]);
  }
  out.push(table(rows));
  return out;
}

export function formatReport(input: ReportInput): string {
  const s = input.stats.routes[input.route] ?? input.stats.total;
  const out: string[] = [];
  const line = (label: string, value: string): void => void out.push(`${label.padEnd(22)}${value}`);

  line('pairs', `${s.pairs}   (join rate ${pct(s.join_rate)}, pending ${s.pending}, unmatched production ${s.unmatched_production}, shadow ${s.unmatched_shadow})`);
  line('records', `production ${s.production}, shadow ${s.shadow}, baseline ${s.baseline}`);
  line('match rate', `${pct(s.match_rate)}   (status match ${s.status_match}, body match ${s.body_match})`);
  line('adjusted match rate', `${pct(s.adjusted_match_rate ?? s.match_rate)}   (noise paths left out)`);
  if (s.noise && s.noise.length > 0) {
    out.push('noise paths (learned from the baseline, a second production copy):');
    out.push(table([['path', 'baseline diffs', 'shadow diffs', 'triples'], ...s.noise.map((n) => [n.path, String(n.baseline_diffs), String(n.shadow_diffs), String(n.triples)])]));
  } else {
    line('noise paths', 'none');
  }
  if (s.fields.length > 0) {
    out.push('top differing fields (not noise):');
    out.push(table([['path', 'pairs'], ...s.fields.slice(0, 5).map((f) => [f.path, String(f.diffs)])]));
  }

  const p = s.prediction;
  if (p) {
    out.push('');
    line('label agreement', `${pct(p.label_agreement)} of ${p.pairs} pairs with both predictions`);
    const labels = [...new Set([...Object.keys(p.confusion), ...Object.values(p.confusion).flatMap((r) => Object.keys(r))])].sort();
    out.push('confusion (rows: production label, columns: shadow label):');
    out.push(table([['', ...labels], ...labels.map((a) => [a, ...labels.map((b) => String(p.confusion[a]?.[b] ?? 0))])]));
    line('score drift', `PSI ${num(p.psi, 4)}, KS ${num(p.ks, 4)}; |score delta| mean ${num(p.score_delta.mean_abs, 4)}, p95 ${num(p.score_delta.p95_abs, 4)}, max ${num(p.score_delta.max_abs, 4)}`);
    const f = p.feedback;
    if (f) {
      line('ground truth', `${f.labelled} labelled pairs: accuracy production ${pct(f.production_accuracy)}, shadow ${pct(f.shadow_accuracy)}`);
      line('McNemar', `p = ${num(f.mcnemar_p, 4)} → ${f.conclusion.replaceAll('_', ' ')}`);
    } else {
      line('ground truth', 'no labels yet');
    }
  }

  out.push('');
  out.push(
    table([
      ['', 'production', 'shadow'],
      ['latency p50', ms(s.latency_ms.production.p50), ms(s.latency_ms.shadow.p50)],
      ['latency p99', ms(s.latency_ms.production.p99), ms(s.latency_ms.shadow.p99)],
      ['errors (0 or >= 500)', String(s.production_errors), String(s.shadow_errors)],
    ], ''),
  );

  out.push('');
  if (input.verdict) out.push(...formatVerdict(input.verdict));
  else out.push('verdict: this collector has no GET /v1/verdict');

  if (input.mismatch) {
    const m = input.mismatch;
    out.push('');
    out.push(`one mismatching pair: ${m.id}`);
    for (const d of m.diffs.slice(0, 3)) out.push(`  ${d.path} (${d.kind}): production ${json(d.production)}, shadow ${json(d.shadow)}`);
    if (m.diffs.length === 0) out.push(`  status: production ${m.production?.status ?? '—'}, shadow ${m.shadow?.status ?? '—'}${m.shadow?.error ? ` (${m.shadow.error})` : ''}`);
    out.push(`  curl -s ${input.collectorUrl}/v1/pairs/${m.id}`);
  }
  out.push('');
  out.push(
    input.db.kept
      ? `database: ${input.db.path} (kept)`
      : `database: ${input.db.path} (temporary: deleted when the demo stops; --db FILE keeps it)`,
  );
  if (input.dashboardUrl) out.push(`dashboard: ${input.dashboardUrl}`);
  return out.join('\n');
}
