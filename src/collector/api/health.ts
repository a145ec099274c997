// GET /healthz: never needs a token.
import type { FastifyInstance } from 'fastify';
import type { JoinView } from '../join/join-view.js';

export function registerHealthRoutes(app: FastifyInstance, joiner: JoinView): void {
  app.get('/healthz', async () => {
    const m = process.memoryUsage();
    const mib = (n: number): number => Math.round((n / 1048576) * 10) / 10;
    return {
      status: 'ok',
      join: joiner.memoryState(),
      memory_mib: { rss: mib(m.rss), heap_used: mib(m.heapUsed), external: mib(m.external) },
    };
  });
}
