// The decision features on PostgreSQL, shared by every replica of one database:
// - feedback: labels committed before the answer, matched with their pairs once
//   (pg-feedback-store.ts), counted by every replica from the change feed;
// - noise: triples and excusable pairs written once in the batch that completes
//   them (pg-noise-store.ts), learned by every replica from the change feed;
// - verdict: every replica evaluates it on its own (identical) view; a change is
//   written by one conditional upsert, so exactly one replica makes it and alerts
//   (pg-decision-store.ts);
// - remote control: one shared row, read again for every batch answer
//   (pg-control-store.ts, api/pg-control-refresh.ts).
import type { FastifyInstance } from 'fastify';
import type { CollectorConfig } from '../../config.js';
import { WebhookAlerts, type WebhookOptions } from '../../alerts/webhook-alerts.js';
import { registerControlRoutes } from '../../api/control.js';
import { registerFeedbackRoutes } from '../../api/feedback.js';
import { registerPgControlRefresh } from '../../api/pg-control-refresh.js';
import { registerStatsRoutes } from '../../api/stats.js';
import { registerVerdictRoutes } from '../../api/verdict.js';
import { RemoteControl } from '../../control/remote-control.js';
import { StatsBuilder } from '../../stats/stats-builder.js';
import { VerdictKeeper } from '../../verdict/verdict-keeper.js';
import { PgControlStore } from './pg-control-store.js';
import { PG_DECISION_PART } from './pg-decision-tables.js';
import { PgDecisionStore } from './pg-decision-store.js';
import { PgFeedbackLedger } from './pg-feedback-store.js';
import { PgNoiseLearner } from './pg-noise-store.js';
import type { PgStore, PgStoreParts } from './pg-store.js';

export interface PgDecisionOptions {
  token?: string;
  alertWebhooks?: readonly string[];
  webhook?: WebhookOptions;
  /** How often this replica reads the decisions the others made (for /metrics). */
  decisionSyncMs?: number;
}

export interface PgDecisionFeatures {
  stats: StatsBuilder;
  feedback: PgFeedbackLedger;
  noise: PgNoiseLearner;
  verdicts: VerdictKeeper;
  control: RemoteControl;
  close(): void;
}

/** What the store needs before it opens: the tables, the feed consumers and the batch writers. */
export interface PgDecisionParts extends PgStoreParts {
  feedback: PgFeedbackLedger;
  noise: PgNoiseLearner;
}

export function pgDecisionParts(config: CollectorConfig): PgDecisionParts {
  const feedback = new PgFeedbackLedger();
  const noise = new PgNoiseLearner(config);
  return {
    schema: [PG_DECISION_PART],
    consumers: [feedback, noise],
    writers: [feedback.writer, noise.writer],
    feedback,
    noise,
  };
}

export async function attachPgDecisionFeatures(
  app: FastifyInstance,
  store: PgStore,
  parts: PgDecisionParts,
  config: CollectorConfig,
  opts: PgDecisionOptions,
): Promise<PgDecisionFeatures> {
  const { feedback, noise } = parts;
  feedback.usePool(store.pool);
  const stats = new StatsBuilder(store.join, store.reader, config, noise, feedback);
  const urls = opts.alertWebhooks ?? [];
  const alerts = urls.length > 0 ? new WebhookAlerts(urls, opts.webhook) : null;
  // The feed's watermark only grows, and replicas at the same watermark hold the same numbers.
  const decisionStore = await PgDecisionStore.open(store.pool, () => store.feed.watermark);
  const verdicts = new VerdictKeeper(stats, decisionStore, config, alerts, () => store.join.tick());
  decisionStore.follow(verdicts, opts.decisionSyncMs);
  const controlStore = await PgControlStore.open(store.pool);
  const control = new RemoteControl(controlStore);

  registerPgControlRefresh(app, controlStore, control);
  registerFeedbackRoutes(app, feedback);
  registerStatsRoutes(app, stats);
  registerVerdictRoutes(app, verdicts);
  registerControlRoutes(app, control, opts.token);
  // /metrics shows the decisions as kept in the database, whichever replica made them.
  app.addHook('preHandler', async (req) => {
    if (req.method === 'GET' && req.url.split('?', 1)[0] === '/metrics') await decisionStore.sync().catch(() => undefined);
  });
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
      decisionStore.close();
    },
  };
}
