// Loopback servers for the sidecar benches, run in their own process so that they
// do not share a thread with the load generator: a production model, shadow models
// (healthy, 2 s slow, answering 500) and a collector stand-in that acknowledges
// every batch. Prints one JSON line with their ports, then serves until killed.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SLOW_SHADOW_MS } from './servers-config.js';

type Handler = (body: string, res: ServerResponse) => void;

const predict = (version: string): Handler => (body, res) => {
  // A small model answer that depends on the request, like a real scoring service.
  let h = 0;
  for (let i = 0; i < body.length; i++) h = (h * 31 + body.charCodeAt(i)) >>> 0;
  const score = (h % 10_000) / 10_000;
  const out = JSON.stringify({ label: score < 0.5 ? 'approve' : 'review', score, model: { name: 'risk', version } });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
  res.end(out);
};

const handlers: Record<string, Handler> = {
  production: predict('v1'),
  shadow: predict('v2'),
  slow: (body, res) => {
    const t = setTimeout(() => predict('v2')(body, res), SLOW_SHADOW_MS);
    res.on('close', () => clearTimeout(t));
  },
  failing: (_body, res) => {
    res.writeHead(500, { 'content-type': 'text/plain', 'content-length': 4 });
    res.end('boom');
  },
  collector: (body, res) => {
    // Counts records roughly (one "id" key per record) to answer like the collector.
    const n = body.split('"id":').length - 1;
    const out = `{"accepted":${n},"rejected":0,"errors":[]}`;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': out.length });
    res.end(out);
  },
};

const ports: Record<string, number> = {};
// Connections accepted and requests received by each server, for the benches to read
// around a measured window (GET on the `stats` port).
const counts: Record<string, { connections: number; requests: number }> = {};
for (const [name, handle] of Object.entries(handlers)) {
  const count = (counts[name] = { connections: 0, requests: 0 });
  const server = createServer((req: IncomingMessage, res) => {
    count.requests++;
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => handle(Buffer.concat(parts).toString(), res));
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', () => count.connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  ports[name] = (server.address() as AddressInfo).port;
}
const stats = createServer((_req, res) => {
  const out = JSON.stringify(counts);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
  res.end(out);
});
await new Promise<void>((r) => stats.listen(0, '127.0.0.1', r));
ports.stats = (stats.address() as AddressInfo).port;
// A port where nothing listens: a server was there a moment ago.
const gone = createServer();
await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
ports.refused = (gone.address() as AddressInfo).port;
await new Promise<void>((r) => gone.close(() => r()));
process.stdout.write(JSON.stringify(ports) + '\n');
