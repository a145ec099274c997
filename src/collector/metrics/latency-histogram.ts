// shadowmesh_latency_seconds{route,role}: observed as sides are stored, and
// recounted from the database when the joiner rebuilds (a restart), so its
// _count agrees with the sides /v1/stats reports.
//
// Every stored side is observed on the main thread, inside the group commit, and
// prom-client's observe() checks and hashes the label set each time (about 3 % of
// that thread's time per record). So the counts are kept here, per (route, role) in
// plain arrays, and handed to prom-client only when /metrics is scraped, in the
// form its histogram exports itself.
import { Histogram, type Registry } from 'prom-client';
import type { SideObserver } from '../join/joiner.js';
import type { Role } from '../types.js';

/** 1 ms to 10 s in 1-2.5-5 steps: p50/p99 of fast and slow services both resolve. */
export const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const NAME = 'shadowmesh_latency_seconds';
const ROLES: readonly Role[] = ['production', 'shadow', 'baseline'];
const roleIndex = (role: Role): number => (role === 'production' ? 0 : role === 'shadow' ? 1 : 2);

interface Series {
  labels: { route: string; role: Role };
  /** Sides per bucket (not cumulative); the last is above the highest bound. */
  counts: number[];
  sum: number;
  count: number;
}

/** One exported line, as prom-client's histogram builds them (its labels go first, then the series'). */
interface ExportValue {
  labels: { le?: number | string };
  sharedLabels: { route: string; role: Role };
  value: number;
  metricName: string;
  /** None kept (no exemplars), as prom-client says so: null on buckets, absent on _sum and _count. */
  exemplar?: null;
}

class CountedHistogram extends Histogram<'route' | 'role'> {
  /** Per route, per role index; a series exists once a side of it was observed. */
  private readonly series = new Map<string, (Series | undefined)[]>();
  /** In the order they were first observed, as prom-client lists its series. */
  private readonly ordered: Series[] = [];

  add(route: string, role: Role, seconds: number): void {
    if (!Number.isFinite(seconds)) throw new TypeError(`Value is not a valid number: ${seconds}`);
    let byRole = this.series.get(route);
    if (!byRole) this.series.set(route, (byRole = [undefined, undefined, undefined]));
    const r = roleIndex(role);
    let s = byRole[r];
    if (!s) {
      s = { labels: { route, role: ROLES[r]! }, counts: new Array<number>(LATENCY_BUCKETS_SECONDS.length + 1).fill(0), sum: 0, count: 0 };
      byRole[r] = s;
      this.ordered.push(s);
    }
    let b = 0;
    while (b < LATENCY_BUCKETS_SECONDS.length && seconds > LATENCY_BUCKETS_SECONDS[b]!) b++;
    s.counts[b]!++;
    s.sum += seconds;
    s.count++;
  }

  override reset(): void {
    super.reset();
    // prom-client's constructor calls this too, before these fields are set.
    this.series?.clear();
    this.ordered?.splice(0);
  }

  /** What prom-client's registry reads to write the text format (get() reads it too). */
  async getForPromString(): Promise<{ name: string; help: string; type: string; values: ExportValue[]; aggregator: string }> {
    const values: ExportValue[] = [];
    for (const s of this.ordered) {
      let cumulative = 0;
      for (let b = 0; b < LATENCY_BUCKETS_SECONDS.length; b++) {
        cumulative += s.counts[b]!;
        values.push({ labels: { le: LATENCY_BUCKETS_SECONDS[b]! }, sharedLabels: s.labels, value: cumulative, metricName: `${NAME}_bucket`, exemplar: null });
      }
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: `${NAME}_bucket`, exemplar: null },
        { labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${NAME}_sum`, exemplar: undefined },
        { labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${NAME}_count`, exemplar: undefined },
      );
    }
    return { name: NAME, help: HELP, type: 'histogram', values, aggregator: 'sum' };
  }
}

const HELP = 'Latency of each stored side (request start to end of response as that side saw it), in seconds.';

export class LatencyHistogram implements SideObserver {
  private readonly histogram: CountedHistogram;

  constructor(registry: Registry) {
    this.histogram = new CountedHistogram({
      name: NAME,
      help: HELP,
      labelNames: ['route', 'role'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
    });
  }

  reset(): void {
    this.histogram.reset();
  }

  side(route: string, role: Role, latencyMs: number): void {
    this.histogram.add(route, role, latencyMs / 1000);
  }
}
