// Builds what one scrape of /metrics reads from the collector's parts: the same
// per-route aggregates /v1/stats answers, after the same tick (so sides whose
// window ended count as unmatched).
import type { Joiner } from '../join/joiner.js';
import type { RouteSnapshot, ScrapeState } from './collector-metrics.js';

export interface ScrapeParts {
  joiner: Joiner;
}

export function scrapeState(p: ScrapeParts): ScrapeState {
  const { joiner } = p;
  joiner.tick();
  const routes: [string, RouteSnapshot][] = [];
  for (const name of [...joiner.stats.routes.keys()].sort()) {
    const stats = joiner.stats.routes.get(name)!;
    const s: RouteSnapshot = stats.snapshot();
    if (stats.hasPrediction) s.prediction = stats.predictionStats().snapshot({ psi: null, ks: null });
    routes.push([name, s]);
  }
  return {
    routes,
    verdicts: [],
    control: {},
    webhookFailures: null,
    routeCap: { max: joiner.routeCap.max, known: joiner.stats.routes.size },
  };
}
