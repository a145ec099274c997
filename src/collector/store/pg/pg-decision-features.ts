// The decision features on PostgreSQL: the stats builder over the feed-built join
// aggregates, the verdict, the remote control and (to come) feedback and noise.
//
// STOP-GAP until the pg-decisions work lands (it owns this file and replaces its
// body): noise and feedback books stay empty, POST /v1/feedback answers 501, and the
// last decisions and the control setting live in this replica's memory only (so a
// change alerts once per replica, and a control set on one replica is not seen by
// the others). Stats, pairs and /metrics numbers are already shared.
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import type { CollectorConfig } from '../../config.js';
import { WebhookAlerts } from '../../alerts/webhook-alerts.js';
import { registerControlRoutes } from '../../api/control.js';
import { registerStatsRoutes } from '../../api/stats.js';
import { registerVerdictRoutes } from '../../api/verdict.js';
import { RemoteControl } from '../../control/remote-control.js';
import { FeedbackBook } from '../../feedback/feedback-book.js';
import { NoiseBook } from '../../noise/noise-book.js';
import { StatsBuilder } from '../../stats/stats-builder.js';
import { VerdictKeeper } from '../../verdict/verdict-keeper.js';
import { DecisionStore } from '../decision-store.js';
import { DECISION_TABLES_SQL } from '../decision-tables.js';
import type { PgStore, PgStoreParts } from './pg-store.js';

export interface PgDecisionOptions {
  token?: string;
  alertWebhooks?: readonly string[];
}

export interface PgDecisionFeatures {
  stats: StatsBuilder;
  verdicts: VerdictKeeper;
  control: RemoteControl;
  close(): void;
}

/** Tables, feed consumers and batch writers of the decision features (none yet). */
export function pgDecisionParts(): PgStoreParts {
  return {};
}

export function attachPgDecisionFeatures(
  app: FastifyInstance,
  store: PgStore,
  config: CollectorConfig,
  opts: PgDecisionOptions,
): PgDecisionFeatures {
  const stats = new StatsBuilder(store.join, store.reader, config, { book: new NoiseBook() }, { book: new FeedbackBook() });
  const local = new Database(':memory:');
  local.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  local.exec(DECISION_TABLES_SQL);
  const decisions = new DecisionStore(local);
  const urls = opts.alertWebhooks ?? [];
  const alerts = urls.length > 0 ? new WebhookAlerts(urls) : null;
  const verdicts = new VerdictKeeper(stats, decisions, config, alerts, () => store.join.tick());
  const control = new RemoteControl(decisions);
  // Nothing remembered locally: a replica that starts later decides at once from the shared numbers.
  verdicts.evaluateAll();

  app.post('/v1/feedback', async (_req, reply) => reply.code(501).send({ error: 'POST /v1/feedback is not on the PostgreSQL store yet' }));
  registerStatsRoutes(app, stats);
  registerVerdictRoutes(app, verdicts);
  registerControlRoutes(app, control, opts.token);
  app.addHook('onResponse', async (req) => {
    if (req.method === 'POST') verdicts.markDirty();
  });
  return {
    stats,
    verdicts,
    control,
    close() {
      verdicts.close();
      local.close();
    },
  };
}
