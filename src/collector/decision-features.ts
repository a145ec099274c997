// Wires what turns numbers into a decision onto a collector: ground-truth feedback,
// noise learned from baseline records, the stats builder that includes both, the
// verdict with its alert webhooks, and the remote control of sampling.
import type { FastifyInstance } from 'fastify';
import type { CollectorConfig } from './config.js';
import { WebhookAlerts, type WebhookOptions } from './alerts/webhook-alerts.js';
import { registerControlRoutes } from './api/control.js';
import { registerFeedbackRoutes } from './api/feedback.js';
import { registerStatsRoutes } from './api/stats.js';
import { registerVerdictRoutes } from './api/verdict.js';
import { RemoteControl } from './control/remote-control.js';
import { FeedbackLedger } from './feedback/feedback-ledger.js';
import type { Joiner } from './join/joiner.js';
import { NoiseLearner } from './noise/noise-learner.js';
import { StatsBuilder } from './stats/stats-builder.js';
import type { Repository } from './store/repository.js';
import { VerdictKeeper } from './verdict/verdict-keeper.js';

export interface DecisionOptions {
  token?: string;
  alertWebhooks?: readonly string[];
  webhook?: WebhookOptions;
}

export interface DecisionFeatures {
  stats: StatsBuilder;
  feedback: FeedbackLedger;
  noise: NoiseLearner;
  verdicts: VerdictKeeper;
  control: RemoteControl;
  close(): void;
}

export function attachDecisionFeatures(
  app: FastifyInstance,
  repo: Repository,
  joiner: Joiner,
  config: CollectorConfig,
  opts: DecisionOptions,
): DecisionFeatures {
  const feedback = new FeedbackLedger(repo, joiner);
  const noise = new NoiseLearner(repo, config, joiner);
  const stats = new StatsBuilder(joiner, repo, config, noise, feedback);
  const urls = opts.alertWebhooks ?? [];
  const alerts = urls.length > 0 ? new WebhookAlerts(urls, opts.webhook) : null;
  const verdicts = new VerdictKeeper(stats, repo.decisions, config, alerts, () => joiner.tick());
  const control = new RemoteControl(repo.decisions);

  registerFeedbackRoutes(app, feedback);
  registerStatsRoutes(app, stats);
  registerVerdictRoutes(app, verdicts);
  registerControlRoutes(app, control, opts.token);
  app.addHook('onResponse', async (req) => {
    if (req.method === 'POST') verdicts.markDirty();
  });

  return {
    stats,
    feedback,
    noise,
    verdicts,
    control,
    close() {
      verdicts.close();
    },
  };
}
