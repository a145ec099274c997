// `shadowmesh sidecar --envoy-config FILE [overrides]`
import type { Command } from 'commander';
import { ConfigError } from './config/reader.js';
import { parseHostPort } from './config/parse.js';
import { type SidecarLogLevel, startSidecar } from './index.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'critical'] as const;

// A laptop run must not expose the listener or the unauthenticated admin to the
// network just because the bootstrap (written for a container) says 0.0.0.0.
const DEFAULT_LISTEN_ADDRESS = '127.0.0.1';

/** undefined: keep the YAML's addresses. */
function chooseListenAddress(opts: Pick<SidecarCliOptions, 'listenAddress' | 'listenAll'>): string | undefined {
  if (opts.listenAll && opts.listenAddress !== undefined) throw new ConfigError('--listen-all', 'cannot be combined with --listen-address');
  if (opts.listenAll) return undefined;
  return opts.listenAddress ?? DEFAULT_LISTEN_ADDRESS;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parsePort(s: string, what: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n > 65535) throw new ConfigError(what, `expected a port number, got "${s}"`);
  return n;
}

function pairs(list: string[], what: string): Array<[string, string]> {
  return list.map((item) => {
    const i = item.indexOf('=');
    if (i <= 0) throw new ConfigError(what, `expected NAME=VALUE, got "${item}"`);
    return [item.slice(0, i), item.slice(i + 1)];
  });
}

interface SidecarCliOptions {
  envoyConfig: string;
  resolve: string[];
  listen: string[];
  port?: string;
  listenAddress?: string;
  listenAll?: boolean;
  adminPort?: string;
  wasm?: string;
  nodeId?: string;
  logLevel: string;
  httpCallConnectFailure: string;
  httpCallTimeout: string;
}

export function register(program: Command): void {
  program
    .command('sidecar')
    .description('run the filter in a local Envoy-like HTTP/1.1 sidecar built from an Envoy v3 bootstrap YAML')
    .requiredOption('--envoy-config <file>', 'Envoy v3 bootstrap YAML (static_resources)')
    .option('--resolve <cluster=host:port>', 'replace a cluster\'s endpoints (repeatable), e.g. production=127.0.0.1:8001', collect, [])
    .option('--listen <listener=port>', 'listen on another port; listener by name or index (repeatable), 0 = any free port', collect, [])
    .option('--port <port>', 'port of the first listener (same as --listen 0=PORT)')
    .option('--listen-address <addr>', `address all listeners and the admin bind to (default ${DEFAULT_LISTEN_ADDRESS})`)
    .option('--listen-all', 'bind the addresses the YAML names (0.0.0.0 in ours: every interface, admin included)')
    .option('--admin-port <port>', 'admin port (only when the YAML has an admin section)')
    .option('--wasm <path>', 'use this .wasm for every wasm filter instead of vm_config.code.local.filename')
    .option('--node-id <id>', 'node.id (Envoy\'s --service-node), read by the filter as the records\' source')
    .option('--log-level <level>', `filter log level: ${LEVELS.join(', ')}`, 'info')
    .option('--http-call-connect-failure <as>', 'a filter http_call connect failure arrives as: response (Envoy: 503) or reset', 'response')
    .option('--http-call-timeout <as>', 'a filter http_call timeout arrives as: response (Envoy: 504) or reset', 'response')
    .action(async (opts: SidecarCliOptions) => {
      try {
        if (!(LEVELS as readonly string[]).includes(opts.logLevel)) throw new ConfigError('--log-level', `expected one of ${LEVELS.join(', ')}`);
        for (const [flag, v] of [['--http-call-connect-failure', opts.httpCallConnectFailure], ['--http-call-timeout', opts.httpCallTimeout]] as const) {
          if (v !== 'response' && v !== 'reset') throw new ConfigError(flag, `expected response or reset, got "${v}"`);
        }
        const resolve: Record<string, string> = {};
        for (const [cluster, hp] of pairs(opts.resolve, '--resolve')) {
          parseHostPort(hp, `--resolve ${cluster}`);
          resolve[cluster] = hp;
        }
        const listenerPorts: Record<string, number> = {};
        for (const [name, p] of pairs(opts.listen, '--listen')) listenerPorts[name] = parsePort(p, `--listen ${name}`);
        if (opts.port !== undefined) listenerPorts['0'] = parsePort(opts.port, '--port');
        const listenAddress = chooseListenAddress(opts);
        const sidecar = await startSidecar({
          envoyConfigPath: opts.envoyConfig,
          resolve,
          listenerPorts,
          ...(listenAddress !== undefined ? { listenAddress } : {}),
          ...(opts.adminPort !== undefined ? { adminPort: parsePort(opts.adminPort, '--admin-port') } : {}),
          ...(opts.wasm !== undefined ? { wasmPath: opts.wasm } : {}),
          ...(opts.nodeId !== undefined ? { nodeId: opts.nodeId } : {}),
          logLevel: opts.logLevel as SidecarLogLevel,
          httpCallConnectFailureAs: opts.httpCallConnectFailure as 'response' | 'reset',
          httpCallTimeoutAs: opts.httpCallTimeout as 'response' | 'reset',
        });
        for (const l of sidecar.listeners) {
          const wildcard = l.address === '0.0.0.0' || l.address === '::';
          process.stdout.write(`listening on ${l.url} (listener ${l.name}${wildcard ? `, bound to ${l.address}: every interface` : ''})\n`);
        }
        if (sidecar.adminPort !== undefined) process.stdout.write(`admin on http://${sidecar.config.admin!.address}:${sidecar.adminPort}\n`);
        const stop = (): void => {
          void sidecar.close().then(() => process.exit(0));
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        // SIGHUP re-reads the bootstrap and replaces the wasm plugins (delayed done for the old ones).
        process.on('SIGHUP', () => {
          sidecar.reload().then(
            () => process.stdout.write('sidecar: configuration reloaded\n'),
            (err: unknown) => process.stderr.write(`shadowmesh sidecar: reload rejected: ${(err as Error).message}\n`),
          );
        });
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`shadowmesh sidecar: ${err.message}\n`);
          process.exit(2);
        }
        process.stderr.write(`shadowmesh sidecar: ${(err as Error).message}\n`);
        process.exit(1);
      }
    });
}
