// Tokens are checked in onRequest, before any body byte is read: an
// unauthorised upload is refused without being buffered.
import type { FastifyInstance } from 'fastify';
import { bearerChecker } from '../ingest/auth.js';

export interface AuthOptions {
  /** Needed by every POST. */
  token?: string;
  /** Needed by GET /v1/* and GET /. */
  readToken?: string;
}

export function registerAuthHooks(app: FastifyInstance, opts: AuthOptions): void {
  const write = opts.token ? bearerChecker(opts.token) : null;
  const read = opts.readToken ? bearerChecker(opts.readToken) : null;
  if (!write && !read) return;
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?', 1)[0]!;
    const needs =
      // GET / checks the read token itself (dashboard-routes.ts): its 401 carries the page that asks for it.
      req.method === 'POST' ? write : req.method === 'GET' || req.method === 'HEAD' ? (path.startsWith('/v1/') ? read : null) : null;
    if (needs && !needs(req.headers.authorization)) {
      // The body was not read; closing the connection spares the client sending it.
      return reply.code(401).header('www-authenticate', 'Bearer').header('connection', 'close').send({ error: 'missing or wrong bearer token' });
    }
  });
}
