// GET /v1/stats[?route=R]
import type { FastifyInstance } from 'fastify';
import type { StatsBuilder } from '../stats/stats-builder.js';

export function registerStatsRoutes(app: FastifyInstance, stats: StatsBuilder): void {
  app.get<{ Querystring: { route?: string } }>('/v1/stats', async (req) => {
    const route = typeof req.query.route === 'string' && req.query.route !== '' ? req.query.route : undefined;
    return stats.answer(route);
  });
}
