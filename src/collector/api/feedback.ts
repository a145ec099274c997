// POST /v1/feedback: ground-truth labels, JSON array or NDJSON, answered like /v1/records.
import type { FastifyInstance } from 'fastify';
import { BodyError, isNdjson, parseJsonArray, parseNdjson, type BodyItem } from '../ingest/body.js';
import type { IngestResult } from '../types.js';

/** Where labels go: the SQLite ledger, or the PostgreSQL one shared by replicas. */
export interface FeedbackSink {
  ingest(items: readonly BodyItem[]): IngestResult | Promise<IngestResult>;
}

export function registerFeedbackRoutes(app: FastifyInstance, ledger: FeedbackSink): void {
  app.post('/v1/feedback', async (req, reply) => {
    const text = typeof req.body === 'string' ? req.body : '';
    let items;
    try {
      items = isNdjson(req.headers['content-type']) ? parseNdjson(text) : parseJsonArray(text);
    } catch (err) {
      if (err instanceof BodyError) return reply.code(400).send({ error: err.message.replace('array of records', 'array of feedback items') });
      throw err;
    }
    return ledger.ingest(items);
  });
}
