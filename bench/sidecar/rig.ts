// Shared pieces of the sidecar benches: the loopback servers' process, a sidecar
// process started from a generated Envoy bootstrap, and one autocannon run.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { ROOT } from '../collector/common.js';

export type Ports = Record<'production' | 'shadow' | 'slow' | 'failing' | 'collector' | 'refused' | 'stats', number>;

/** What each bench server has seen so far: connections accepted, requests received. */
export type ServerCounts = Record<'production' | 'shadow' | 'slow' | 'failing' | 'collector', { connections: number; requests: number }>;

export async function serverCounts(ports: Ports): Promise<ServerCounts> {
  const res = await fetch(`http://127.0.0.1:${ports.stats}/`);
  return (await res.json()) as ServerCounts;
}

export interface Proc<T> {
  info: T;
  proc: ChildProcess;
  stop(): Promise<void>;
}

function stopper(proc: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((done) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return done();
      proc.once('exit', () => done());
      proc.kill('SIGTERM');
    });
}

function firstLine<T>(proc: ChildProcess, parse: (line: string) => T | undefined, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n')) {
        const v = parse(line);
        if (v !== undefined) return resolve(v);
      }
    });
    proc.once('exit', (code) => reject(new Error(`${what} exited with ${code}: ${err.slice(-500)}`)));
  });
}

export async function startServers(): Promise<Proc<Ports>> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'bench/sidecar/servers.ts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const info = await firstLine(proc, (l) => (l.startsWith('{') ? (JSON.parse(l) as Ports) : undefined), 'bench servers');
  return { info, proc, stop: stopper(proc) };
}

export type FilterMode = 'none' | 'tagging' | 'mirroring';

/** An Envoy bootstrap with one listener routing to `production`, with or without the filter (and an admin, for /stats). */
export function bootstrap(mode: FilterMode, opts: { admin?: boolean } = {}): string {
  const filterConfig = {
    role: 'production',
    ...(mode === 'mirroring' ? { shadow_cluster: 'shadow' } : {}),
    routes: [{ name: 'predict', path_prefix: '/predict', methods: ['POST'] }],
    collector_cluster: 'collector',
    flush_interval_ms: 500,
  };
  const wasm =
    mode === 'none'
      ? ''
      : `
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: shadowmesh
                root_id: shadowmesh
                fail_open: true
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: '${JSON.stringify(filterConfig)}'
                vm_config:
                  vm_id: shadowmesh
                  runtime: envoy.wasm.runtime.v8
                  code: { local: { filename: ${join(ROOT, 'build/shadowmesh.wasm')} } }`;
  const cluster = (name: string): string => `
  - name: ${name}
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: ${name}
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } }`;
  const admin = opts.admin ? 'admin:\n  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }\n' : '';
  return `${admin}static_resources:
  listeners:
  - name: ingress
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config:
            virtual_hosts:
            - name: model
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: production, timeout: 15s }
          http_filters:${wasm}
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
  clusters:${cluster('production')}${cluster('shadow')}${cluster('collector')}
`;
}

export interface SidecarOptions {
  /** Also serve the admin (its URL in `adminUrl`), for /stats. */
  admin?: boolean;
  /** Run the sidecar of another checkout of the project (default: this one), to compare code in one run. */
  root?: string;
}

export async function startSidecar(
  mode: FilterMode,
  resolve: { production: number; shadow: number; collector: number },
  opts: SidecarOptions = {},
): Promise<Proc<{ url: string; adminUrl?: string }>> {
  const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-bench-sidecar-'));
  const file = join(dir, `envoy-${mode}.yaml`);
  writeFileSync(file, bootstrap(mode, { admin: opts.admin }));
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'sidecar', '--envoy-config', file, '--listen-address', '127.0.0.1', '--port', '0'];
  if (opts.admin) args.push('--admin-port', '0');
  for (const [name, port] of Object.entries(resolve)) args.push('--resolve', `${name}=127.0.0.1:${port}`);
  const proc = spawn(process.execPath, args, { cwd: opts.root ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let url: string | undefined;
  // The admin line follows the listener's.
  const info = await firstLine(
    proc,
    (l) => {
      url ??= /listening on (http:\/\/\S+)/.exec(l)?.[1];
      const adminUrl = /^admin on (http:\/\/\S+)/.exec(l)?.[1];
      if (url !== undefined && (!opts.admin || adminUrl !== undefined)) return adminUrl !== undefined ? { url, adminUrl } : { url };
      return undefined;
    },
    `sidecar (${mode})`,
  );
  return { info, proc, stop: stopper(proc) };
}

export interface Load {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  non2xx: number;
}

export const REQUEST_BODY = JSON.stringify({ income: 52_000, debt: 9_100, age: 37, late_payments: 1, note: 'x'.repeat(120) });

/**
 * One autocannon run against `url`/predict: at full speed, or at `rate` requests/s overall.
 * `perRequest`: latencies are those of the requests sent. Without it, a paced run adds
 * autocannon's coordinated-omission samples with an expected interval of 1 ms (it divides
 * 1 by the per-connection rate per second and rounds up), so a 40 ms answer counts 40
 * times (40, 39, … 1 ms) and the quoted p99 is weighted toward slow answers.
 */
export async function load(url: string, opts: { seconds: number; connections: number; rate?: number; perRequest?: boolean }): Promise<Load> {
  const r = await autocannon({
    url: `${url}/predict`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: REQUEST_BODY,
    connections: opts.connections,
    duration: opts.seconds,
    ...(opts.rate ? { overallRate: opts.rate, ...(opts.perRequest ? { ignoreCoordinatedOmission: true } : {}) } : {}),
  });
  return {
    requestsPerSecond: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r.requests.total,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}
