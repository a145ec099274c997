// Turns the collector's answers into the demo's printed comparison.

export interface Quantiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface RouteStats {
  production: number;
  shadow: number;
  pairs: number;
  pending: number;
  unmatched_production: number;
  unmatched_shadow: number;
  status_match: number;
  body_match: number;
  match_rate: number | null;
  production_errors: number;
  shadow_errors: number;
  latency_ms: { production: Quantiles; shadow: Quantiles };
  fields: { path: string; diffs: number }[];
}

export interface StatsAnswer {
  routes: Record<string, RouteStats>;
  total: RouteStats;
}

export interface PairDiff {
  path: string;
  kind: string;
  production?: unknown;
  shadow?: unknown;
}

export interface PairAnswer {
  id: string;
  route: string;
  diffs: PairDiff[];
  production: { status: number } | null;
  shadow: { status: number; error?: string } | null;
}

const pct = (x: number | null): string => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
const ms = (x: number | null): string => (x === null ? '—' : `${x.toFixed(1)} ms`);
const short = (v: unknown): string => {
  const s = v === undefined ? '(absent)' : JSON.stringify(v);
  return s.length > 32 ? `${s.slice(0, 29)}...` : s;
};

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

export function formatReport(stats: StatsAnswer, mismatches: PairAnswer[]): string {
  const t = stats.total;
  const out: string[] = [];
  out.push('shadowmesh — production (v1) vs shadow (v2)', '');
  out.push(
    table([
      ['', 'production', 'shadow'],
      ['records', String(t.production), String(t.shadow)],
      ['errors (status 0 or >= 500)', String(t.production_errors), String(t.shadow_errors)],
      ['latency p50', ms(t.latency_ms.production.p50), ms(t.latency_ms.shadow.p50)],
      ['latency p95', ms(t.latency_ms.production.p95), ms(t.latency_ms.shadow.p95)],
      ['latency p99', ms(t.latency_ms.production.p99), ms(t.latency_ms.shadow.p99)],
      ['unmatched', String(t.unmatched_production), String(t.unmatched_shadow)],
    ]),
  );
  out.push('');
  out.push(
    table([
      ['pairs', 'status match', 'body match', 'match rate', 'pending'],
      [String(t.pairs), String(t.status_match), String(t.body_match), pct(t.match_rate), String(t.pending)],
    ]),
  );
  if (t.fields.length > 0) {
    out.push('', 'fields that differ most:');
    out.push(table([['path', 'pairs'], ...t.fields.slice(0, 5).map((f) => [f.path, String(f.diffs)])]));
  }
  if (mismatches.length > 0) {
    out.push('', 'some mismatching pairs:');
    const rows = [['id', 'status', 'path', 'kind', 'production', 'shadow']];
    for (const p of mismatches) {
      const status = `${p.production?.status ?? '—'}/${p.shadow?.status ?? '—'}`;
      const d = p.diffs[0];
      rows.push([p.id.slice(0, 12), status, d?.path ?? '', d?.kind ?? (p.shadow?.error ?? ''), short(d?.production), short(d?.shadow)]);
    }
    out.push(table(rows));
  }
  return out.join('\n');
}
