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
  // On the request itself rather than in a WeakMap keyed by it: in a scavenge V8 keeps
  // the values of young-keyed WeakMap entries alive (compare/body-view.ts), which
  // promoted each request's read to the old generation.
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
