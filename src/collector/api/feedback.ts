// POST /v1/feedback: ground-truth labels, JSON array or NDJSON, answered like /v1/records.
import type { FastifyInstance } from 'fastify';
import type { FeedbackLedger } from '../feedback/feedback-ledger.js';
import { BodyError, isNdjson, parseJsonArray, parseNdjson } from '../ingest/body.js';

export function registerFeedbackRoutes(app: FastifyInstance, ledger: FeedbackLedger): void {
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
