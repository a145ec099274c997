// GET / (the built-in dashboard) and its assets under /ui/. Everything is served
// from this process: the page's own files from src/collector/dashboard/ui/, uPlot
// from its installed package, so the page works offline and the strict CSP below
// (nothing but this origin; no inline script or style) holds.
//
// The page itself holds no data; it reads /v1/* with the read token. With
// --read-token, GET / without the token answers 401 with the same page, which then
// asks for the token (kept in the tab's sessionStorage) and sends it as a bearer.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { bearerChecker } from '../ingest/auth.js';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  type: string;
  file: string;
}

/** The page's own files, found from this module whether it runs from src/ or build/dist/. */
function uiDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'src/collector/dashboard/ui');
    const up = dirname(dir);
    if (up === dir) return join(dirname(fileURLToPath(import.meta.url)), 'ui');
    dir = up;
  }
}

function assets(): Record<string, Asset> {
  const ui = uiDir();
  const uplot = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));
  return {
    '/': { type: 'text/html; charset=utf-8', file: join(ui, 'index.html') },
    '/ui/app.js': { type: 'text/javascript; charset=utf-8', file: join(ui, 'app.js') },
    '/ui/app.css': { type: 'text/css; charset=utf-8', file: join(ui, 'app.css') },
    '/ui/uPlot.iife.min.js': { type: 'text/javascript; charset=utf-8', file: join(uplot, 'uPlot.iife.min.js') },
    '/ui/uPlot.min.css': { type: 'text/css; charset=utf-8', file: join(uplot, 'uPlot.min.css') },
  };
}

export interface DashboardOptions {
  readToken?: string;
}

export function registerDashboardRoutes(app: FastifyInstance, opts: DashboardOptions): void {
  const read = opts.readToken ? bearerChecker(opts.readToken) : null;
  const cache = new Map<string, Buffer>();
  const load = (url: string, a: Asset): Buffer => {
    let b = cache.get(url);
    if (!b) {
      b = readFileSync(a.file);
      cache.set(url, b);
    }
    return b;
  };
  const send = (reply: FastifyReply, url: string, a: Asset, status: number): FastifyReply => {
    let body: Buffer;
    try {
      body = load(url, a);
    } catch (err) {
      return reply.code(503).send({ error: `dashboard file missing: ${a.file} (${(err as NodeJS.ErrnoException).code ?? String(err)})` });
    }
    return reply
      .code(status)
      .type(a.type)
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY')
      .header('cache-control', 'no-cache')
      .send(body);
  };

  for (const [url, a] of Object.entries(assets())) {
    app.get(url, async (req, reply) => {
      if (url !== '/') return send(reply, url, a, 200);
      // The page carries no data, so it is sent either way; without the token the
      // status says so and the page asks for it.
      const ok = !read || read(req.headers.authorization);
      if (!ok) reply.header('www-authenticate', 'Bearer');
      return send(reply, url, a, ok ? 200 : 401);
    });
  }
}
