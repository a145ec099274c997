// shadowmesh_latency_seconds{route,role}: observed as sides are stored, and
// recounted from the database when the joiner rebuilds (a restart), so its
// _count agrees with the sides /v1/stats reports.
import { Histogram, type Registry } from 'prom-client';
import type { SideObserver } from '../join/joiner.js';
import type { Role } from '../types.js';

/** 1 ms to 10 s in 1-2.5-5 steps: p50/p99 of fast and slow services both resolve. */
export const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class LatencyHistogram implements SideObserver {
  private readonly histogram: Histogram<'route' | 'role'>;

  constructor(registry: Registry) {
    this.histogram = new Histogram({
      name: 'shadowmesh_latency_seconds',
      help: 'Latency of each stored side (request start to end of response as that side saw it), in seconds.',
      labelNames: ['route', 'role'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
    });
  }

  reset(): void {
    this.histogram.reset();
  }

  side(route: string, role: Role, latencyMs: number): void {
    this.histogram.observe({ route, role }, latencyMs / 1000);
  }
}
