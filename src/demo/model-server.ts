// Two versions of a small credit-risk model served over HTTP, so the demo has a
// real production service and a real candidate to compare. The candidate (v2)
// reweights one feature: most answers agree, some scores move a little (inside
// the comparison's tolerance), a few labels flip, and it is a bit slower.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ModelVersion = 'v1' | 'v2';

export interface Applicant {
  income: number;
  debt: number;
  age: number;
  late_payments: number;
}

export interface Prediction {
  label: 'approve' | 'review' | 'decline';
  score: number;
  model: { name: string; version: ModelVersion };
  meta: { request_id: string; served_at: string };
}

const WEIGHTS: Record<ModelVersion, { bias: number; ratio: number; late: number; age: number }> = {
  v1: { bias: -1.2, ratio: 3.1, late: 0.55, age: -0.012 },
  v2: { bias: -1.2, ratio: 3.1, late: 0.56, age: -0.012 },
};

export function score(version: ModelVersion, a: Applicant): number {
  const w = WEIGHTS[version];
  const ratio = a.debt / Math.max(a.income, 1);
  const z = w.bias + w.ratio * ratio + w.late * a.late_payments + w.age * (a.age - 40);
  return Math.round((1 / (1 + Math.exp(-z))) * 10_000) / 10_000;
}

export function label(s: number): Prediction['label'] {
  return s < 0.3 ? 'approve' : s < 0.6 ? 'review' : 'decline';
}

function isApplicant(v: unknown): v is Applicant {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return ['income', 'debt', 'age', 'late_payments'].every((k) => typeof o[k] === 'number' && Number.isFinite(o[k]));
}

export interface ModelServerOptions {
  version: ModelVersion;
  host?: string;
  port?: number;
  /** Extra latency per request, in milliseconds. */
  delayMs?: number;
  /** Every n-th request answers 500 (0 = never): lets the demo show errors. */
  failEvery?: number;
}

export interface RunningModelServer {
  readonly url: string;
  readonly port: number;
  readonly requests: number;
  close(): Promise<void>;
}

export async function startModelServer(opts: ModelServerOptions): Promise<RunningModelServer> {
  let requests = 0;
  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    requests++;
    const reply = (status: number, payload: unknown): void => {
      const text = JSON.stringify(payload);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (req.method === 'GET' && req.url === '/healthz') return reply(200, { ok: true });
    if (req.method !== 'POST' || !req.url?.startsWith('/predict')) return reply(404, { error: 'not found' });
    if (opts.failEvery && requests % opts.failEvery === 0) return reply(500, { error: 'model crashed' });
    let input: unknown;
    try {
      input = JSON.parse(body.toString('utf8'));
    } catch {
      return reply(400, { error: 'body must be JSON' });
    }
    if (!isApplicant(input)) return reply(422, { error: 'expected {income, debt, age, late_payments} numbers' });
    const s = score(opts.version, input);
    const prediction: Prediction = {
      label: label(s),
      score: s,
      model: { name: 'credit-risk', version: opts.version },
      meta: { request_id: String(req.headers['x-request-id'] ?? ''), served_at: new Date().toISOString() },
    };
    reply(200, prediction);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (opts.delayMs) setTimeout(() => handle(req, res, body), opts.delayMs);
      else handle(req, res, body);
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Deterministic applicants, so two demo runs send the same traffic. */
export function* applicants(seed = 1): Generator<Applicant> {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    // xorshift32: small, deterministic, good enough for demo traffic
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
  for (;;) {
    const income = Math.round(20_000 + next() * 130_000);
    yield {
      income,
      debt: Math.round(next() * income * 0.9),
      age: 18 + Math.floor(next() * 60),
      late_payments: Math.floor(next() ** 2 * 6),
    };
  }
}
