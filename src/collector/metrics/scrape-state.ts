// Builds what one scrape of /metrics reads from the collector's parts: S per route
// from the same stats builder /v1/stats uses, after the same tick (so sides whose
// window ended count as unmatched).
import type { RemoteControl } from '../control/remote-control.js';
import type { FeedbackSnapshot } from '../feedback/feedback-book.js';
import type { JoinView } from '../join/join-view.js';
import type { StatsBuilder } from '../stats/stats-builder.js';
import type { VerdictKeeper } from '../verdict/verdict-keeper.js';
import type { RouteSnapshot, ScrapeState } from './collector-metrics.js';

export interface ScrapeParts {
  joiner: JoinView;
  stats: StatsBuilder;
  verdicts: VerdictKeeper;
  control: RemoteControl;
}

export function scrapeState(p: ScrapeParts): ScrapeState {
  const { joiner, stats } = p;
  joiner.tick();
  const routes: [string, RouteSnapshot][] = [];
  const feedback: [string, FeedbackSnapshot][] = [];
  for (const name of stats.routeNames()) {
    const s: RouteSnapshot = stats.route(name);
    const own = joiner.stats.routes.get(name);
    // Label agreement without the distribution shift, which needs the reader thread.
    if (own?.hasPrediction) s.prediction = own.predictionStats().snapshot({ psi: null, ks: null });
    routes.push([name, s]);
    // Confidence only decides the conclusion, which is not a series.
    const f = stats.feedbackCounts(name).snapshot(0.95);
    if (f) feedback.push([name, f]);
  }
  return {
    routes,
    feedback,
    // The decisions the keeper holds (evaluated every few seconds and on every
    // GET /v1/verdict), so a scrape never runs the verdict itself.
    verdicts: [...p.verdicts.lastDecisions()].map(([scope, d]) => [scope, d.decision] as const),
    control: p.control.current.sample_percent ?? {},
    webhookFailures: p.verdicts.webhookFailures,
    routeCap: { max: joiner.routeCap.max, known: joiner.stats.routes.size },
  };
}
