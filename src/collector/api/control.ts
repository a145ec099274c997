// PUT /v1/control (write token when --token is set) and GET /v1/control; every
// successful POST /v1/records answer carries the current setting as `control`,
// and none when nothing is set (which tells filters to use their configured values).
import type { FastifyInstance } from 'fastify';
import { ControlError, type RemoteControl } from '../control/remote-control.js';
import { bearerChecker } from '../ingest/auth.js';

export function registerControlRoutes(app: FastifyInstance, control: RemoteControl, token: string | undefined): void {
  const write = token ? bearerChecker(token) : null;
  if (write) {
    app.addHook('onRequest', async (req, reply) => {
      if (req.method !== 'PUT' || req.url.split('?', 1)[0] !== '/v1/control') return;
      if (!write(req.headers.authorization)) {
        return reply.code(401).header('www-authenticate', 'Bearer').header('connection', 'close').send({ error: 'missing or wrong bearer token' });
      }
    });
  }

  app.get('/v1/control', async () => control.current);

  app.put('/v1/control', async (req, reply) => {
    let body: unknown;
    try {
      body = JSON.parse(typeof req.body === 'string' ? req.body : '');
    } catch (err) {
      return reply.code(400).send({ error: `body is not valid JSON: ${(err as Error).message}` });
    }
    try {
      return await control.set(body);
    } catch (err) {
      if (err instanceof ControlError) return reply.code(400).send({ error: err.message });
      throw err;
    }
  });

  app.addHook('preSerialization', async (req, reply, payload) => {
    if (control.isEmpty || req.method !== 'POST' || reply.statusCode !== 200 || req.url.split('?', 1)[0] !== '/v1/records') return payload;
    if (payload === null || typeof payload !== 'object' || !('accepted' in payload)) return payload;
    return { ...payload, control: control.current };
  });
}
