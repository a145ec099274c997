// GET /metrics (Prometheus text format; never needs a token), and the hooks that
// count what the ingest endpoints reject.
import type { FastifyInstance } from 'fastify';
import { isRouteCapError } from '../ingest/route-cap.js';
import type { CollectorMetrics, Endpoint } from '../metrics/collector-metrics.js';

const ENDPOINTS: Record<string, Endpoint> = { '/v1/records': 'records', '/v1/feedback': 'feedback' };

interface IngestAnswer {
  rejected: number;
  errors?: { error: string }[];
}

const isIngestAnswer = (p: unknown): p is IngestAnswer =>
  typeof p === 'object' && p !== null && typeof (p as { rejected?: unknown }).rejected === 'number';

export function registerMetricsRoutes(app: FastifyInstance, metrics: CollectorMetrics): void {
  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.render();
    return reply.type(metrics.contentType).header('cache-control', 'no-store').send(text);
  });

  // The answers are counted where they are sent, so a rejection is counted exactly
  // when a client is told about it.
  app.addHook('preSerialization', async (req, reply, payload) => {
    const endpoint = req.method === 'POST' ? ENDPOINTS[req.routeOptions.url ?? ''] : undefined;
    if (endpoint && reply.statusCode === 200 && isIngestAnswer(payload)) {
      const routeLimit = payload.errors?.filter((e) => isRouteCapError(e.error)).length ?? 0;
      metrics.countAnswer(endpoint, payload.rejected, routeLimit);
    }
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    if (req.method !== 'POST' || reply.statusCode < 400) return;
    // A 401 is decided before routing, so the URL is the only thing to go by.
    const endpoint = ENDPOINTS[req.url.split('?', 1)[0]!];
    if (endpoint) metrics.countRefused(endpoint, reply.statusCode);
  });
}
