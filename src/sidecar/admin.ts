// A small part of Envoy's admin interface: /ready, /stats (text, or JSON with
// ?format=json) and /clusters, so the same probes work against the sidecar.
import { type Server, createServer } from 'node:http';

export type StatsSource = () => Array<[string, number]>;

export function startAdmin(address: string, port: number, stats: StatsSource, clusters: () => string[]): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (url.pathname === '/ready') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('LIVE\n');
      return;
    }
    if (url.pathname === '/stats') {
      const filter = url.searchParams.get('filter');
      const re = filter ? safeRegExp(filter) : undefined;
      const rows = stats().filter(([k]) => !re || re.test(k));
      if (url.searchParams.get('format') === 'json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ stats: rows.map(([name, value]) => ({ name, value })) }));
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(rows.map(([k, v]) => `${k}: ${v}\n`).join(''));
      }
      return;
    }
    if (url.pathname === '/clusters') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(clusters().join('\n') + '\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('admin: /ready, /stats, /clusters\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve(server));
  });
}

function safeRegExp(s: string): RegExp | undefined {
  try {
    return new RegExp(s);
  } catch {
    return undefined;
  }
}
