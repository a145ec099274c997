// POST /v1/records: JSON array or NDJSON in, per-record answer out.
import type { FastifyInstance } from 'fastify';
import { BodyError, isNdjson, parseJsonArray, parseNdjson } from '../ingest/body.js';
import type { RecordSink } from '../ingest/record-sink.js';
import { internalErrorFields } from '../log.js';

export function registerRecordRoutes(app: FastifyInstance, sink: RecordSink): void {
  app.post('/v1/records', async (req, reply) => {
    const text = typeof req.body === 'string' ? req.body : '';
    const ndjson = isNdjson(req.headers['content-type']);
    let result;
    try {
      // Answered only once the sink says the accepted records are committed.
      result = sink.ingestText
        ? await sink.ingestText(text, ndjson)
        : await sink.ingest(ndjson ? parseNdjson(text) : parseJsonArray(text));
    } catch (err) {
      if (err instanceof BodyError) return reply.code(400).send({ error: err.message });
      throw err;
    }
    for (const f of result.internal ?? []) {
      req.log.error({ ...internalErrorFields(f.error), record_index: f.index }, 'internal error while storing a record');
    }
    return result;
  });
}
