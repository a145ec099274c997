// GET /v1/stats[?route=R]
import type { FastifyInstance } from 'fastify';
import type { CollectorConfig } from '../config.js';
import type { Joiner } from '../join/joiner.js';
import { PredictionStats } from '../stats/prediction-stats.js';
import type { Repository } from '../store/repository.js';

export function registerStatsRoutes(app: FastifyInstance, joiner: Joiner, repo: Repository, config: CollectorConfig): void {
  app.get<{ Querystring: { route?: string } }>('/v1/stats', async (req) => {
    joiner.tick();
    const route = typeof req.query.route === 'string' && req.query.route !== '' ? req.query.route : undefined;
    const answer = joiner.stats.answer(route);
    // Model metrics for routes whose rules name a prediction; the distribution
    // shift is computed from the stored scores on the reader thread.
    for (const [name, s] of Object.entries(answer.routes)) {
      if (!config.rulesFor(name).prediction) continue;
      const stats = joiner.stats.routes.get(name);
      const prediction = stats?.hasPrediction ? stats.predictionStats() : new PredictionStats();
      const shift = prediction.pairs > 0 ? await repo.scoreShift(name) : { psi: null, ks: null };
      s.prediction = prediction.snapshot(shift);
    }
    return answer;
  });
}
