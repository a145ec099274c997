// GET /v1/verdict[?route=R]
import type { FastifyInstance } from 'fastify';
import type { VerdictKeeper } from '../verdict/verdict-keeper.js';

export function registerVerdictRoutes(app: FastifyInstance, verdicts: VerdictKeeper): void {
  app.get<{ Querystring: { route?: string } }>('/v1/verdict', async (req) => {
    const route = typeof req.query.route === 'string' && req.query.route !== '' ? req.query.route : undefined;
    return verdicts.verdict(route);
  });
}
