// Real HTTP servers and clients on 127.0.0.1 for the sidecar tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse, Agent, createServer, request } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningSidecar, type SidecarOptions, startSidecar } from '../../src/sidecar/index.js';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Body chunks as they arrived at this server. */
  chunks: number;
  connection: number;
  trailers: Record<string, string | undefined>;
}

export type Handler = (req: SeenRequest, res: ServerResponse) => void;

export interface Upstream {
  port: number;
  requests: SeenRequest[];
  /** TCP connections accepted so far. */
  connections(): number;
  /** Resolves when `n` requests have been fully received. */
  waitFor(n: number, ms?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startUpstream(handler: Handler = (r, res) => res.end(`ok ${r.url}`)): Promise<Upstream> {
  const requests: SeenRequest[] = [];
  let conns = 0;
  const waiters: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const ids = new WeakMap<Socket, number>();
  const server: Server = createServer((req: IncomingMessage, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const seen: SeenRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(parts).toString(),
        chunks: parts.length,
        connection: ids.get(req.socket) ?? -1,
        trailers: { ...req.trailers },
      };
      requests.push(seen);
      for (const w of waiters.splice(0)) w();
      handler(seen, res);
    });
  });
  server.on('connection', (s: Socket) => {
    conns++;
    ids.set(s, conns);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    connections: () => conns,
    async waitFor(n, ms = 5000) {
      const deadline = Date.now() + ms;
      while (requests.length < n) {
        if (Date.now() > deadline) throw new Error(`waited for ${n} requests, got ${requests.length}`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, 50);
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Response body chunks as they arrived at the client. */
  chunks: number;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Sent one by one, with `gapMs` between them, so each is its own chunk. */
  body?: string | string[];
  gapMs?: number;
  agent?: Agent | false;
}

export function send(port: number, path: string, opts: SendOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers ?? {}, agent: opts.agent ?? false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString(), chunks: parts.length }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    const body = opts.body;
    if (body === undefined) {
      req.end();
      return;
    }
    const list = typeof body === 'string' ? [body] : body;
    let i = 0;
    const next = (): void => {
      if (i >= list.length) {
        req.end();
        return;
      }
      req.write(list[i++]);
      setTimeout(next, opts.gapMs ?? 0);
    };
    next();
  });
}

/** A temp directory removed by the returned function. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-sidecar-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function writeFile(dir: string, name: string, text: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** The smallest valid wasm module (magic + version), for configs whose filter a test replaces. */
export const EMPTY_WASM = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);

export const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const WASM_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm';
export const ROUTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

export function staticCluster(name: string, port: number, extra = ''): string {
  return `
  - name: ${name}
    type: STATIC
    connect_timeout: 1s${extra}
    load_assignment:
      cluster_name: ${name}
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } }`;
}

export function wasmFilter(file: string, configuration: string | undefined, opts: { rootId?: string; name?: string; failOpen?: boolean } = {}): string {
  const cfg = configuration === undefined ? '' : `
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: ${JSON.stringify(configuration)}`;
  return `
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": ${WASM_TYPE}
              config:
                name: ${opts.name ?? 'shadowmesh'}
                root_id: ${JSON.stringify(opts.rootId ?? 'shadowmesh')}${cfg}
                fail_open: ${opts.failOpen ?? true}
                vm_config:
                  runtime: envoy.wasm.runtime.v8
                  code: { local: { filename: ${JSON.stringify(file)} } }`;
}

export interface ListenerSpec {
  name?: string;
  routes: string;
  filters?: string;
  domains?: string;
}

export function listener(spec: ListenerSpec): string {
  return `
  - name: ${spec.name ?? 'ingress'}
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": ${HCM_TYPE}
          stat_prefix: ${spec.name ?? 'ingress'}
          route_config:
            virtual_hosts:
            - name: vh
              domains: [${spec.domains ?? '"*"'}]
              routes:${spec.routes}
          http_filters:${spec.filters ?? ''}
          - name: envoy.filters.http.router
            typed_config: { "@type": ${ROUTER_TYPE} }`;
}

export function bootstrap(listeners: string[], clusters: string[], admin = false): string {
  return `${admin ? 'admin:\n  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }\n' : ''}static_resources:
  listeners:${listeners.join('')}
  clusters:${clusters.join('')}
`;
}

/** A port on 127.0.0.1 that nothing listens on (a server was there a moment ago). */
export async function deadPort(): Promise<number> {
  const d = await startUpstream();
  await d.close();
  return d.port;
}

export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const REPO = new URL('../../', import.meta.url).pathname;
export const FILTER_WASM = join(REPO, 'build/shadowmesh.wasm');

/** Tests of the real filter fail, with this message, when the build is missing: they never skip. */
export function requireFilterWasm(): void {
  if (!existsSync(FILTER_WASM)) throw new Error(`${FILTER_WASM} is missing: run npm run build:wasm (tests of the real filter do not skip without it)`);
}

/** Spawns a CLI subcommand and resolves with the first `listening on URL` line it prints. */
export async function spawnCli(args: string[], pattern = /listening on (http:\/\/\S+)/): Promise<{ url: string; child: ChildProcess; output: () => string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on" from ${args[0]}: ${out}`)), 60_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} exited with ${code}: ${out}`));
    });
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return {
    url,
    child,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Runs a CLI subcommand to its end. */
export function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  return (await res.json()) as T;
}

/**
 * What a test file starts — upstreams, sidecars — in one place: closed in reverse
 * order, and the temp dir removed, after the file's tests.
 */
export function testScope(): {
  dir: string;
  upstream: (...args: Parameters<typeof startUpstream>) => Promise<Upstream>;
  sidecar: (yaml: string, options?: Partial<SidecarOptions>) => Promise<RunningSidecar>;
  /** Anything else to close after the file's tests. */
  track: <T extends { close(): Promise<void> }>(thing: T) => T;
} {
  const tmp = tempDir();
  const running: Array<{ close(): Promise<void> }> = [];
  after(async () => {
    for (const r of running.reverse()) await r.close();
    tmp.cleanup();
  });
  return {
    dir: tmp.dir,
    track(thing) {
      running.push(thing);
      return thing;
    },
    async upstream(...args) {
      const u = await startUpstream(...args);
      running.push(u);
      return u;
    },
    async sidecar(yaml, options = {}) {
      const s = await startSidecar({ envoyConfigPath: writeFile(tmp.dir, `envoy-${running.length}.yaml`, yaml), log: () => {}, ...options });
      running.push(s);
      return s;
    },
  };
}
