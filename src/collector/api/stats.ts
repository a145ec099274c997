// GET /v1/stats[?route=R]
import type { FastifyInstance } from 'fastify';
import type { Joiner } from '../join/joiner.js';

export function registerStatsRoutes(app: FastifyInstance, joiner: Joiner): void {
  app.get<{ Querystring: { route?: string } }>('/v1/stats', async (req) => {
    joiner.tick();
    const route = typeof req.query.route === 'string' && req.query.route !== '' ? req.query.route : undefined;
    return joiner.stats.answer(route);
  });
}
