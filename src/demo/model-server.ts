// Serves one version of the demo's rain model over HTTP: POST /predict with a
// day's observations answers {label, score, model_version, served_at}.
//
// served_at differs on every call, also between two copies of the same
// version: that is the kind of field the collector learns to treat as noise
// from the baseline. The candidate can be made a little slower (delayMs) and
// to fail now and then (failEvery), as a real new build might.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { inputError, type WeatherInput, type WeatherLabel } from './model/features.js';
import { type ModelFile, WeatherModel } from './model/logistic.js';
import { packageRoot } from './package-root.js';

export const MODEL_VERSIONS = ['v1', 'v2'] as const;
export type ModelVersion = (typeof MODEL_VERSIONS)[number];

export interface PredictAnswer {
  label: WeatherLabel;
  score: number;
  model_version: string;
  served_at: string;
}

/** How each version behaves when nothing else is asked: v2, the candidate, is a bit slower and fails one call in 200. */
export const VERSION_DEFAULTS: Record<ModelVersion, { delayMs: number; failEvery: number }> = {
  v1: { delayMs: 0, failEvery: 0 },
  v2: { delayMs: 1, failEvery: 200 },
};

const MAX_BODY_BYTES = 64 * 1024;

export function loadModel(version: ModelVersion, modelsDir = join(packageRoot(), 'models')): WeatherModel {
  const file = join(modelsDir, `${version}.json`);
  return new WeatherModel(JSON.parse(readFileSync(file, 'utf8')) as ModelFile);
}

/** Wall-clock time with microseconds, so two calls in the same millisecond still differ. */
function servedAt(): string {
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const iso = new Date(Math.floor(us / 1000)).toISOString();
  return `${iso.slice(0, -1)}${String(us % 1000).padStart(3, '0')}Z`;
}

export interface ModelServerOptions {
  version: ModelVersion;
  host?: string;
  port?: number;
  /** Extra latency per prediction, in milliseconds. */
  delayMs?: number;
  /** Every n-th prediction answers 500 (0 = never). */
  failEvery?: number;
  modelsDir?: string;
}

export interface RunningModelServer {
  readonly url: string;
  readonly port: number;
  readonly predictions: number;
  close(): Promise<void>;
}

export async function startModelServer(opts: ModelServerOptions): Promise<RunningModelServer> {
  const model = loadModel(opts.version, opts.modelsDir);
  const host = opts.host ?? '127.0.0.1';
  let predictions = 0;

  const reply = (res: ServerResponse, status: number, payload: unknown): void => {
    const text = JSON.stringify(payload);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const predict = (res: ServerResponse, body: Buffer): void => {
    predictions++;
    if (opts.failEvery && predictions % opts.failEvery === 0) return reply(res, 500, { error: 'model failed', model_version: opts.version });
    let input: unknown;
    try {
      input = JSON.parse(body.toString('utf8'));
    } catch {
      return reply(res, 400, { error: 'body must be JSON' });
    }
    const problem = inputError(input);
    if (problem) return reply(res, 422, { error: problem });
    const answer: PredictAnswer = { ...model.predict(input as WeatherInput), model_version: opts.version, served_at: servedAt() };
    reply(res, 200, answer);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') return reply(res, 200, { ok: true, model_version: opts.version });
    if (path !== '/predict') return reply(res, 404, { error: 'not found; POST /predict' });
    if (req.method !== 'POST') return reply(res, 405, { error: 'use POST' });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return reply(res, 413, { error: `body over ${MAX_BODY_BYTES} bytes` });
      const body = Buffer.concat(chunks);
      if (opts.delayMs) setTimeout(() => predict(res, body), opts.delayMs);
      else predict(res, body);
    });
  };

  const server: Server = createServer(handle);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    get predictions() {
      return predictions;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
