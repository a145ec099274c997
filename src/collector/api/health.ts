// GET /healthz: never needs a token.
import type { FastifyInstance } from 'fastify';
import type { Joiner } from '../join/joiner.js';

export function registerHealthRoutes(app: FastifyInstance, joiner: Joiner): void {
  app.get('/healthz', async () => ({ status: 'ok', join: joiner.memoryState() }));
}
