// With replicas sharing PostgreSQL, PUT /v1/control may have been answered by
// another replica: POST /v1/records and GET /v1/control re-read the setting before
// they answer. The read starts when the request arrives and runs while its body is
// received, so it rarely adds to the answer time. When it fails the setting last
// read stays (the batch itself then fails or not on its own account).
import type { FastifyInstance } from 'fastify';
import type { RemoteControl } from '../control/remote-control.js';
import type { PgControlStore } from '../store/pg/pg-control-store.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The control setting's re-read for this request, when it needs one. */
    controlRead: Promise<void> | null;
  }
}

export function registerPgControlRefresh(app: FastifyInstance, store: PgControlStore, control: RemoteControl): void {
  // On the request itself rather than in a WeakMap keyed by it: V8's young-generation
  // collector keeps an ephemeron whose key is young alive, so every request (and all
  // it holds, its body among it) would have outlived its scavenge.
  app.decorateRequest('controlRead', null);
  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?', 1)[0];
    const wanted = (req.method === 'POST' && path === '/v1/records') || (req.method === 'GET' && path === '/v1/control');
    if (!wanted) return;
    req.controlRead = store.load().then(
      (json) => control.adopt(json),
      () => undefined,
    );
  });
  app.addHook('preHandler', async (req) => {
    await req.controlRead;
  });
}
