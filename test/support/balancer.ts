// A round-robin balancer on 127.0.0.1:0 in front of N collector replicas, for tests
// and benches, the way a Kubernetes Service with Istio spreads the filter's batches.
//
// Two modes, because the filter and the sidecar keep their connections alive:
// - 'http' picks the next upstream per request (as Envoy does for HTTP), so one
//   keep-alive client still reaches every replica;
// - 'tcp' picks it per connection (a plain L4 Service without a mesh).
// An upstream that refuses the connection is skipped for that request (the next one
// is tried), so a killed replica looks like a pod leaving the Service's endpoints; a
// request cut off mid-way (the replica died holding it) answers 502, and when none
// answers at all the client gets 502 (http) or a closed socket (tcp).
import { Agent, createServer as createHttpServer, request, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';

export interface Upstream {
  host: string;
  port: number;
}

export interface Balancer {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Requests (http) or connections (tcp) each upstream took, in upstream order. */
  served(): number[];
  /** Replaces the upstream list (a restarted replica comes back on another port). */
  setUpstreams(urls: string[]): void;
  close(): Promise<void>;
}

export type BalancerMode = 'http' | 'tcp';

function parse(url: string): Upstream {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}


export async function startBalancer(upstreamUrls: string[], mode: BalancerMode = 'http'): Promise<Balancer> {
  if (upstreamUrls.length === 0) throw new Error('a balancer needs at least one upstream');
  let upstreams = upstreamUrls.map(parse);
  let counts = upstreams.map(() => 0);
  let next = 0;
  const pick = (): number => {
    const i = next % upstreams.length;
    next = (next + 1) % upstreams.length;
    return i;
  };

  const server: HttpServer | TcpServer = mode === 'http' ? httpBalancer() : tcpBalancer();
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });

  function httpBalancer(): HttpServer {
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    return createHttpServer((req, res) => {
      // The body is read once and replayed, so a request can move to the next
      // upstream when one refuses the connection (nothing reached it).
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => forward(req, res, Buffer.concat(chunks), agent, upstreams.length));
    });
  }

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer, agent: Agent, triesLeft: number): void {
    const i = pick();
    const up = upstreams[i]!;
    const headers = { ...req.headers, host: `${up.host}:${up.port}` };
    delete headers.connection;
    const out = request({ host: up.host, port: up.port, method: req.method, path: req.url, headers, agent }, (r) => {
      counts[i] = (counts[i] ?? 0) + 1;
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // Only a refused connection moves on: a reset may come after the upstream took the
      // request, and the client must see that failure, as it would behind a real Service.
      if (err.code === 'ECONNREFUSED' && triesLeft > 1) {
        forward(req, res, body, agent, triesLeft - 1);
        return;
      }
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `balancer: no upstream answered (${err.code ?? err.message})` }));
    });
    out.end(body);
  }

  function tcpBalancer(): TcpServer {
    return createTcpServer((client) => {
      client.pause();
      let upstream: Socket | null = null;
      client.on('error', () => upstream?.destroy());
      client.once('close', () => upstream?.destroy());
      const attempt = (triesLeft: number): void => {
        const i = pick();
        const up = upstreams[i]!;
        const sock = connect(up.port, up.host);
        let connected = false;
        sock.once('connect', () => {
          connected = true;
          upstream = sock;
          counts[i] = (counts[i] ?? 0) + 1;
          client.pipe(sock);
          sock.pipe(client);
          client.resume();
        });
        sock.on('error', (err: NodeJS.ErrnoException) => {
          if (!connected && err.code === 'ECONNREFUSED' && triesLeft > 1 && !client.destroyed) attempt(triesLeft - 1);
          else client.destroy();
        });
        sock.once('close', () => {
          if (connected) client.destroy();
        });
      };
      attempt(upstreams.length);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    served: () => [...counts],
    setUpstreams(urls: string[]) {
      if (urls.length === 0) throw new Error('a balancer needs at least one upstream');
      upstreams = urls.map(parse);
      counts = upstreams.map(() => 0);
      next = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
