// GET /v1/pairs (newest first, cursor pages) and GET /v1/pairs/{id}.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { PairReader } from '../store/read-store.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

interface PairsQuery {
  route?: string;
  mismatch?: string;
  limit?: string;
  cursor?: string;
}

// The cursor is the last item's sequence number; opaque to clients.
const encodeCursor = (seq: number): string => Buffer.from(`s${seq}`).toString('base64url');

function decodeCursor(c: string): number | null {
  const m = /^s([0-9]{1,15})$/.exec(Buffer.from(c, 'base64url').toString('utf8'));
  return m ? Number(m[1]) : null;
}

function bad(reply: FastifyReply, error: string): FastifyReply {
  return reply.code(400).send({ error });
}

export function registerPairRoutes(app: FastifyInstance, repo: PairReader): void {
  app.get<{ Querystring: PairsQuery }>('/v1/pairs', async (req, reply) => {
    const q = req.query;
    let limit = DEFAULT_LIMIT;
    if (q.limit !== undefined) {
      if (!/^[0-9]+$/.test(q.limit) || Number(q.limit) < 1) return bad(reply, 'limit must be a positive integer');
      limit = Math.min(Number(q.limit), MAX_LIMIT);
    }
    let match: boolean | undefined;
    if (q.mismatch !== undefined) {
      if (q.mismatch !== 'true' && q.mismatch !== 'false') return bad(reply, 'mismatch must be true or false');
      match = q.mismatch === 'false';
    }
    let beforeSeq: number | undefined;
    if (q.cursor !== undefined && q.cursor !== '') {
      const seq = decodeCursor(q.cursor);
      if (seq === null) return bad(reply, 'cursor is not one this server gave out');
      beforeSeq = seq;
    }
    const route = q.route !== undefined && q.route !== '' ? q.route : undefined;
    const page = await repo.pairPage({ route, match, beforeSeq, limit });
    const next = page.nextSeq === null ? 'null' : JSON.stringify(encodeCursor(page.nextSeq));
    return reply.type('application/json; charset=utf-8').send(`{"items":${page.items},"next_cursor":${next}}`);
  });

  app.get<{ Params: { id: string } }>('/v1/pairs/:id', async (req, reply) => {
    const json = await repo.pairJson(req.params.id);
    if (json === null) return reply.code(404).send({ error: `no record with id ${JSON.stringify(req.params.id)}` });
    return reply.type('application/json; charset=utf-8').send(json);
  });
}
