// Wires what turns numbers into a decision onto a collector: ground-truth feedback,
// noise learned from baseline records, the stats builder that includes both, the
// verdict with its alert webhooks, and the remote control of sampling.
import type { FastifyInstance } from 'fastify';
import type { CollectorConfig } from './config.js';
import { registerFeedbackRoutes } from './api/feedback.js';
import { registerStatsRoutes } from './api/stats.js';
import { FeedbackLedger } from './feedback/feedback-ledger.js';
import type { Joiner } from './join/joiner.js';
import { NoiseLearner } from './noise/noise-learner.js';
import { StatsBuilder } from './stats/stats-builder.js';
import type { Repository } from './store/repository.js';

export interface DecisionOptions {
  token?: string;
}

export interface DecisionFeatures {
  stats: StatsBuilder;
  feedback: FeedbackLedger;
  noise: NoiseLearner;
  close(): Promise<void>;
}

export function attachDecisionFeatures(
  app: FastifyInstance,
  repo: Repository,
  joiner: Joiner,
  config: CollectorConfig,
  _opts: DecisionOptions,
): DecisionFeatures {
  const feedback = new FeedbackLedger(repo, joiner);
  const noise = new NoiseLearner(repo, config, joiner);
  const stats = new StatsBuilder(joiner, repo, config, noise, feedback);
  registerFeedbackRoutes(app, feedback);
  registerStatsRoutes(app, stats);
  return {
    stats,
    feedback,
    noise,
    async close() {},
  };
}
