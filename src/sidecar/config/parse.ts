// Reads the subset of an Envoy v3 bootstrap (static_resources) the sidecar
// implements. Errors name the YAML path; fields that have no behaviour here are
// collected once into `unimplemented` for a single warning line.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import { parseDocument } from 'yaml';
import {
  type CircuitBreakerThresholds,
  type ClusterConfig,
  type ClusterType,
  DEFAULT_CIRCUIT_BREAKERS,
  type Denominator,
  type HeaderMatcher,
  type HttpConnectionManagerConfig,
  type HttpFilterConfig,
  type ListenerConfig,
  type MirrorPolicy,
  type NodeInfo,
  type RouteConfig,
  type SidecarConfig,
  type SocketAddress,
  type VirtualHost,
  type WasmFilterConfig,
} from './model.js';
import { BOOTSTRAP_SCHEMA } from './envoy-fields.js';
import { ConfigError, Node, UnreadKeys } from './reader.js';

const HCM_NAME = 'envoy.filters.network.http_connection_manager';
const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const WASM_NAME = 'envoy.filters.http.wasm';
const WASM_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm';
const ROUTER_NAME = 'envoy.filters.http.router';
const ROUTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const STRING_VALUE_TYPE = 'type.googleapis.com/google.protobuf.StringValue';
const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_DNS_REFRESH_MS = 5_000;

/** Changes applied on top of the YAML so one file serves Docker and a laptop. */
export interface ConfigOverrides {
  /** cluster name → "host:port": replaces that cluster's endpoints (becomes STATIC). */
  readonly resolve?: Readonly<Record<string, string>>;
  /** listener name (or index as a string) → port; 0 picks a free port. */
  readonly listenerPorts?: Readonly<Record<string, number>>;
  /** Address every listener binds to instead of the YAML's (e.g. 127.0.0.1). */
  readonly listenAddress?: string;
  /** Admin port (0 = free port); the admin is off unless the YAML has one. */
  readonly adminPort?: number;
  /** Path of the .wasm used for every wasm filter, instead of vm_config.code.local.filename. */
  readonly wasmPath?: string;
  /** node.id, as Envoy's --service-node. */
  readonly nodeId?: string;
}

export interface ParseOptions {
  /** Path of the YAML file: relative wasm filenames resolve against its directory. */
  readonly sourcePath: string;
  readonly overrides?: ConfigOverrides;
}

export function loadEnvoyConfig(path: string, overrides: ConfigOverrides = {}): SidecarConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('(file)', `cannot read: ${(err as Error).message}`, path);
  }
  return parseEnvoyConfig(text, { sourcePath: resolvePath(path), overrides });
}

export function parseEnvoyConfig(text: string, options: ParseOptions): SidecarConfig {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const offset = Math.min(e.pos[0], text.length);
    const before = text.slice(0, offset);
    const at = `line ${before.split('\n').length}, column ${offset - before.lastIndexOf('\n')}`;
    throw new ConfigError(at, `invalid YAML: ${e.message.split('\n')[0]}`, options.sourcePath);
  }
  try {
    return new BootstrapParser(options).parse(doc.toJS() as unknown);
  } catch (err) {
    if (err instanceof ConfigError && !err.file) throw new ConfigError(err.yamlPath, err.message.slice(err.yamlPath.length + 2), options.sourcePath);
    throw err;
  }
}

class BootstrapParser {
  private readonly unread = new UnreadKeys();
  private readonly overrides: ConfigOverrides;
  private readonly baseDir: string;

  constructor(private readonly options: ParseOptions) {
    this.overrides = options.overrides ?? {};
    this.baseDir = dirname(options.sourcePath);
  }

  parse(raw: unknown): SidecarConfig {
    const root = new Node(raw ?? {}, '', this.unread, BOOTSTRAP_SCHEMA);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) root.fail('expected a mapping (an Envoy bootstrap)');
    const sr = root.opt('static_resources');
    if (!sr) throw new ConfigError('static_resources', 'is required (the sidecar reads static listeners and clusters only)');

    const clusters = new Map<string, ClusterConfig>();
    for (const c of sr.opt('clusters')?.items() ?? []) {
      const cluster = this.cluster(c);
      if (clusters.has(cluster.name)) c.fail(`duplicate cluster name "${cluster.name}"`);
      clusters.set(cluster.name, cluster);
    }
    for (const name of Object.keys(this.overrides.resolve ?? {})) {
      if (!clusters.has(name)) throw new ConfigError('--resolve', `no cluster named "${name}" (clusters: ${[...clusters.keys()].join(', ') || 'none'})`);
    }

    const listenerNodes = sr.opt('listeners')?.items() ?? [];
    if (listenerNodes.length === 0) sr.fail('at least one listener is required under static_resources.listeners');
    const listeners = listenerNodes.map((l, i) => this.listener(l, i, clusters));
    for (const key of Object.keys(this.overrides.listenerPorts ?? {})) {
      if (!listeners.some((l, i) => l.name === key || String(i) === key)) {
        throw new ConfigError('--listen', `no listener named "${key}" (listeners: ${listeners.map((l) => l.name).join(', ')})`);
      }
    }
    sr.done();

    let admin: SocketAddress | undefined;
    const adminNode = root.opt('admin');
    if (adminNode) {
      const addr = this.socketAddress(adminNode.req('address'));
      adminNode.accept('access_log', 'access_log_path', 'profile_path');
      adminNode.done();
      admin = {
        address: this.overrides.listenAddress ?? addr.address,
        port: this.overrides.adminPort ?? addr.port,
      };
    }
    const node = this.node(root.opt('node'));
    root.accept('layered_runtime');
    root.done();

    return {
      sourcePath: this.options.sourcePath,
      node,
      listeners,
      clusters,
      admin,
      unimplemented: this.unread.list(),
    };
  }

  private node(n: Node | undefined): NodeInfo {
    const id = this.overrides.nodeId ?? n?.opt('id')?.str() ?? '';
    const cluster = n?.opt('cluster')?.str() ?? '';
    const metadata: Record<string, string> = {};
    const md = n?.opt('metadata');
    if (md) {
      if (typeof md.value !== 'object' || Array.isArray(md.value)) md.fail('expected a mapping');
      for (const [k, v] of Object.entries(md.value as Record<string, unknown>)) {
        if (typeof v === 'string') metadata[k] = v;
        else this.unread.add(`${md.path}.${k}`);
      }
      md.accept(...Object.keys(md.value as Record<string, unknown>));
    }
    n?.accept('locality', 'user_agent_name');
    n?.done();
    return { id, cluster, metadata };
  }

  private socketAddress(addrNode: Node): SocketAddress {
    const sa = addrNode.req('socket_address');
    const address = sa.req('address').str();
    const port = sa.req('port_value').int(0, 65535);
    sa.accept('protocol');
    sa.done();
    addrNode.done();
    return { address, port };
  }

  private cluster(c: Node): ClusterConfig {
    const name = c.req('name').str();
    const type = (c.opt('type')?.oneOf(['STATIC', 'STRICT_DNS', 'LOGICAL_DNS']) ?? 'STATIC') as ClusterType;
    const connectTimeoutMs = c.opt('connect_timeout')?.durationMs() ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const dnsRefreshMs = c.opt('dns_refresh_rate')?.durationMs() ?? DEFAULT_DNS_REFRESH_MS;
    // Round robin over endpoints is what we do; the other policies differ only in choice.
    c.accept('lb_policy', 'dns_lookup_family');
    let endpoints: SocketAddress[] = [];
    const la = c.opt('load_assignment');
    if (la) {
      la.accept('cluster_name');
      for (const group of la.opt('endpoints')?.items() ?? []) {
        for (const lbe of group.opt('lb_endpoints')?.items() ?? []) {
          const ep = lbe.req('endpoint');
          endpoints.push(this.socketAddress(ep.req('address')));
          ep.done();
          lbe.done();
        }
        group.done();
      }
      la.done();
    }
    const circuitBreakers = this.circuitBreakers(c.opt('circuit_breakers'));
    const override = this.overrides.resolve?.[name];
    let effectiveType: ClusterType = type;
    if (override !== undefined) {
      endpoints = [parseHostPort(override, `--resolve ${name}`)];
      effectiveType = 'STATIC';
    }
    if (endpoints.length === 0) c.fail(`cluster "${name}" has no endpoints (load_assignment.endpoints[].lb_endpoints[].endpoint.address)`);
    c.done();
    return { name, type: effectiveType, connectTimeoutMs, dnsRefreshMs, endpoints, circuitBreakers, yamlPath: c.path };
  }

  /**
   * The DEFAULT-priority thresholds: our routes carry no priority, so HIGH thresholds
   * never apply (they are read for validation only). Unset limits are Envoy's defaults.
   */
  private circuitBreakers(cb: Node | undefined): CircuitBreakerThresholds {
    let out: CircuitBreakerThresholds = DEFAULT_CIRCUIT_BREAKERS;
    if (!cb) return out;
    const U32 = 4_294_967_295;
    for (const t of cb.opt('thresholds')?.items() ?? []) {
      const priority = t.opt('priority')?.oneOf(['DEFAULT', 'HIGH']) ?? 'DEFAULT';
      const read = {
        maxConnections: t.opt('max_connections')?.int(0, U32) ?? DEFAULT_CIRCUIT_BREAKERS.maxConnections,
        maxPendingRequests: t.opt('max_pending_requests')?.int(0, U32) ?? DEFAULT_CIRCUIT_BREAKERS.maxPendingRequests,
        maxRequests: t.opt('max_requests')?.int(0, U32) ?? DEFAULT_CIRCUIT_BREAKERS.maxRequests,
      };
      t.done();
      if (priority === 'DEFAULT') out = read;
    }
    cb.done();
    return out;
  }

  private listener(l: Node, index: number, clusters: Map<string, ClusterConfig>): ListenerConfig {
    const name = l.opt('name')?.str() ?? `listener_${index}`;
    const addr = this.socketAddress(l.req('address'));
    const portOverride = this.overrides.listenerPorts?.[name] ?? this.overrides.listenerPorts?.[String(index)];
    const address: SocketAddress = {
      address: this.overrides.listenAddress ?? addr.address,
      port: portOverride ?? addr.port,
    };
    const chains = l.req('filter_chains').items();
    if (chains.length !== 1) l.opt('filter_chains')!.fail(`exactly one filter chain is supported, found ${chains.length}`);
    const chain = chains[0]!;
    const filters = chain.req('filters').items();
    let hcm: HttpConnectionManagerConfig | undefined;
    for (const f of filters) {
      const fname = f.req('name').str();
      const tc = f.req('typed_config');
      const type = tc.req('@type').str();
      if (fname !== HCM_NAME && type !== HCM_TYPE) f.fail(`network filter "${fname}" is not supported (only ${HCM_NAME})`);
      if (type !== HCM_TYPE) tc.opt('@type')!.fail(`expected ${HCM_TYPE}`);
      if (hcm) f.fail('only one http_connection_manager per listener is supported');
      hcm = this.hcm(tc, clusters);
      f.done();
    }
    if (!hcm) throw new ConfigError(chain.path, `no ${HCM_NAME} filter in the filter chain`);
    chain.done();
    l.done();
    return { name, address, declaredAddress: addr, hcm, yamlPath: l.path };
  }

  private hcm(tc: Node, clusters: Map<string, ClusterConfig>): HttpConnectionManagerConfig {
    const statPrefix = tc.opt('stat_prefix')?.str() ?? 'http';
    const generateRequestId = tc.opt('generate_request_id')?.bool() ?? true;
    const serverName = tc.opt('server_name')?.str() ?? 'envoy';
    const stripAnyHostPort = tc.opt('strip_any_host_port')?.bool() ?? false;
    const codec = tc.opt('codec_type')?.oneOf(['AUTO', 'HTTP1', 'HTTP2', 'HTTP3']) ?? 'AUTO';
    if (codec === 'HTTP2' || codec === 'HTTP3') tc.opt('codec_type')!.fail(`codec ${codec} is not supported (HTTP/1.1 only)`);
    const rc = tc.opt('route_config');
    if (!rc) {
      if (tc.has('rds')) tc.opt('rds')!.fail('RDS is not supported: put the routes inline under route_config');
      tc.fail('route_config is required');
    }
    rc.accept('name');
    const virtualHosts = rc.req('virtual_hosts').items().map((vh) => this.virtualHost(vh, clusters));
    rc.done();
    const filterNodes = tc.opt('http_filters')?.items() ?? [];
    const parsed = filterNodes.map((f) => ({ node: f, filter: this.httpFilter(f) }));
    const kept = parsed.filter((p): p is { node: Node; filter: HttpFilterConfig } => p.filter !== undefined);
    const httpFilters = kept.map((p) => p.filter);
    const routerIndex = httpFilters.findIndex((f) => f.kind === 'router');
    if (routerIndex === -1) tc.fail(`http_filters must end with ${ROUTER_NAME}`);
    if (routerIndex !== httpFilters.length - 1) kept[routerIndex]!.node.fail(`${ROUTER_NAME} must be the last http filter`);
    tc.accept('@type');
    tc.done();
    return { statPrefix, generateRequestId, serverName, stripAnyHostPort, virtualHosts, httpFilters };
  }

  private virtualHost(vh: Node, clusters: Map<string, ClusterConfig>): VirtualHost {
    const name = vh.opt('name')?.str() ?? vh.path;
    const domainsNode = vh.req('domains');
    const domains = domainsNode.items().map((d) => d.str().toLowerCase());
    if (domains.length === 0) domainsNode.fail('at least one domain is required ("*" matches all)');
    const routes = (vh.opt('routes')?.items() ?? []).map((r) => this.route(r, clusters));
    vh.done();
    return { name, domains, routes };
  }

  private route(r: Node, clusters: Map<string, ClusterConfig>): RouteConfig {
    const name = r.opt('name')?.str() ?? '';
    const m = r.req('match');
    const prefix = m.opt('prefix')?.str();
    const path = m.opt('path')?.str();
    if (prefix === undefined && path === undefined) m.fail('match needs "prefix" or "path" (safe_regex and others are not supported)');
    if (prefix !== undefined && path !== undefined) m.fail('match has both "prefix" and "path"');
    const caseSensitive = m.opt('case_sensitive')?.bool() ?? true;
    const headers = (m.opt('headers')?.items() ?? []).map((h) => this.headerMatcher(h));
    m.done();
    const match = { ...(prefix !== undefined ? { prefix } : {}), ...(path !== undefined ? { path } : {}), caseSensitive, headers };

    const dr = r.opt('direct_response');
    const ra = r.opt('route');
    if (dr && ra) r.fail('a route has either "route" or "direct_response"');
    if (dr) {
      const status = dr.req('status').int(100, 599);
      const bodyNode = dr.opt('body');
      const body = bodyNode?.opt('inline_string')?.str() ?? '';
      bodyNode?.done();
      dr.done();
      r.done();
      return { name, match, action: { kind: 'direct_response', status, body } };
    }
    if (!ra) r.fail('a route needs "route" (with a cluster) or "direct_response"');
    const clusterNode = ra.req('cluster');
    const cluster = clusterNode.str();
    if (!clusters.has(cluster)) clusterNode.fail(`unknown cluster "${cluster}"`);
    const timeoutMs = ra.opt('timeout')?.durationMs() ?? DEFAULT_ROUTE_TIMEOUT_MS;
    const prefixRewrite = ra.opt('prefix_rewrite')?.str();
    const hostRewriteLiteral = ra.opt('host_rewrite_literal')?.str();
    const mirrorPolicies = (ra.opt('request_mirror_policies')?.items() ?? []).map((p) => this.mirrorPolicy(p, clusters));
    ra.done();
    r.done();
    return {
      name,
      match,
      action: {
        kind: 'route',
        cluster,
        timeoutMs,
        mirrorPolicies,
        ...(prefixRewrite !== undefined ? { prefixRewrite } : {}),
        ...(hostRewriteLiteral !== undefined ? { hostRewriteLiteral } : {}),
      },
    };
  }

  private headerMatcher(h: Node): HeaderMatcher {
    const name = h.req('name').str().toLowerCase();
    const invert = h.opt('invert_match')?.bool() ?? false;
    let result: HeaderMatcher | undefined;
    const exact = h.opt('exact_match')?.str();
    if (exact !== undefined) result = { name, exact, invert };
    const present = h.opt('present_match')?.bool();
    if (present !== undefined) result = { name, present, invert };
    const prefix = h.opt('prefix_match')?.str();
    if (prefix !== undefined) result = { name, prefix, invert };
    const sm = h.opt('string_match');
    if (sm) {
      const e = sm.opt('exact')?.str();
      const p = sm.opt('prefix')?.str();
      const s = sm.opt('suffix')?.str();
      const c = sm.opt('contains')?.str();
      if (sm.has('ignore_case') && sm.opt('ignore_case')!.bool()) sm.opt('ignore_case')!.fail('ignore_case is not supported');
      if (e !== undefined) result = { name, exact: e, invert };
      else if (p !== undefined) result = { name, prefix: p, invert };
      else if (s !== undefined) result = { name, suffix: s, invert };
      else if (c !== undefined) result = { name, contains: c, invert };
      else sm.fail('string_match needs exact, prefix, suffix or contains (safe_regex is not supported)');
      sm.done();
    }
    h.done();
    // Envoy: a header matcher with no match specifier matches when the header is present.
    return result ?? { name, present: true, invert };
  }

  private mirrorPolicy(p: Node, clusters: Map<string, ClusterConfig>): MirrorPolicy {
    // Envoy: exactly one of cluster and cluster_header (the header's value names the cluster per request).
    const clusterNode = p.opt('cluster');
    const headerNode = p.opt('cluster_header');
    if (clusterNode && headerNode) headerNode.fail('only one of cluster and cluster_header can be specified');
    if (!clusterNode && !headerNode) p.fail('needs cluster or cluster_header');
    const cluster = clusterNode?.str() ?? '';
    if (clusterNode && !clusters.has(cluster)) clusterNode.fail(`unknown cluster "${cluster}"`);
    const clusterHeader = headerNode?.str().toLowerCase();
    if (headerNode && !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(clusterHeader ?? '')) headerNode.fail('must be a header name');
    let numerator = 100;
    let denominator: Denominator = 'HUNDRED';
    const rf = p.opt('runtime_fraction');
    if (rf) {
      rf.accept('runtime_key');
      const dv = rf.opt('default_value');
      if (dv) {
        numerator = dv.opt('numerator')?.int() ?? 0;
        denominator = dv.opt('denominator')?.oneOf(['HUNDRED', 'TEN_THOUSAND', 'MILLION']) ?? 'HUNDRED';
        dv.done();
      }
      rf.done();
    }
    const disableShadowHostSuffixAppend = p.opt('disable_shadow_host_suffix_append')?.bool() ?? false;
    p.done();
    return { cluster, ...(clusterHeader !== undefined ? { clusterHeader } : {}), numerator, denominator, disableShadowHostSuffixAppend };
  }

  private httpFilter(f: Node): HttpFilterConfig | undefined {
    const name = f.req('name').str();
    const tc = f.opt('typed_config');
    const type = tc?.opt('@type')?.str();
    if (name === ROUTER_NAME || type === ROUTER_TYPE) {
      tc?.done();
      f.done();
      return { kind: 'router' };
    }
    if (name === WASM_NAME || type === WASM_TYPE) {
      if (!tc) f.fail('typed_config is required for the wasm filter');
      if (type !== WASM_TYPE) tc.fail(`@type must be ${WASM_TYPE}`);
      const wasm = this.wasm(tc.req('config'));
      tc.done();
      f.done();
      return wasm;
    }
    if (f.opt('is_optional')?.bool()) {
      // Envoy skips an optional filter it does not know; so do we, and say so.
      this.unread.add(`${f.path}(${name})`);
      return undefined;
    }
    return f.fail(`http filter "${name}" is not supported (only ${WASM_NAME} and ${ROUTER_NAME})`);
  }

  private wasm(cfg: Node): WasmFilterConfig {
    const pluginName = cfg.opt('name')?.str() ?? '';
    const rootId = cfg.opt('root_id')?.str() ?? '';
    const configuration = this.stringValue(cfg.opt('configuration'));
    const failOpen = this.failOpen(cfg);
    const vm = cfg.req('vm_config');
    const vmId = vm.opt('vm_id')?.str() ?? '';
    const runtime = vm.opt('runtime')?.str() ?? 'envoy.wasm.runtime.v8';
    const vmConfiguration = this.stringValue(vm.opt('configuration'));
    vm.accept('allow_precompiled', 'nack_on_code_cache_miss');
    const code = vm.req('code');
    const local = code.opt('local');
    if (!local) throw new ConfigError(code.path, 'only code.local (a file) is supported; remote and inline code are not');
    const filenameNode = local.opt('filename');
    if (!filenameNode) throw new ConfigError(local.path, 'only local.filename is supported');
    const codePath = this.wasmFile(filenameNode);
    local.done();
    code.done();
    vm.done();
    cfg.done();
    return { kind: 'wasm', pluginName, rootId, vmId, runtime, configuration, vmConfiguration, codePath, failOpen, yamlPath: cfg.path };
  }

  /**
   * Envoy's failure_policy (current) or the deprecated fail_open: Envoy refuses a
   * config that sets fail_open: true and a failure_policy. FAIL_RELOAD needs a VM
   * reload the sidecar does not do, so it is refused rather than run as another policy.
   */
  private failOpen(cfg: Node): boolean {
    const legacy = cfg.opt('fail_open')?.bool() ?? false;
    const policyNode = cfg.opt('failure_policy');
    if (!policyNode) return legacy;
    const policy = policyNode.oneOf(['UNSPECIFIED', 'FAIL_CLOSED', 'FAIL_OPEN', 'FAIL_RELOAD']);
    if (legacy && policy !== 'UNSPECIFIED') policyNode.fail('only one of fail_open or failure_policy can be set (as in Envoy); prefer failure_policy');
    if (policy === 'FAIL_RELOAD') policyNode.fail('FAIL_RELOAD is not supported by the local sidecar (it does not reload a failed VM); use FAIL_OPEN or FAIL_CLOSED');
    return legacy || policy === 'FAIL_OPEN';
  }

  /** google.protobuf.StringValue as Envoy writes it: {"@type": …StringValue, value: "…"}. */
  private stringValue(n: Node | undefined): string | undefined {
    if (!n) return undefined;
    if (typeof n.value === 'string') return n.value; // tolerated shorthand
    const type = n.req('@type').str();
    if (type !== STRING_VALUE_TYPE) n.opt('@type')!.fail(`expected ${STRING_VALUE_TYPE}, got ${type} (the sidecar passes plugin configuration as text)`);
    const valueNode = n.opt('value');
    const value = valueNode?.str() ?? '';
    // Our filter takes JSON; catching it here gives the YAML path instead of a
    // one-line complaint from proxy_on_configure later.
    const trimmed = value.trim();
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      try {
        JSON.parse(trimmed);
      } catch (err) {
        valueNode!.fail(`configuration is not valid JSON: ${(err as Error).message}`);
      }
    }
    n.done();
    return value;
  }

  private wasmFile(n: Node): string {
    const override = this.overrides.wasmPath;
    const file = override !== undefined ? resolvePath(override) : isAbsolute(n.str()) ? n.str() : resolvePath(this.baseDir, n.str());
    if (!existsSync(file)) {
      const how = override !== undefined ? '(from --wasm)' : `(${n.str()}, relative names resolve against ${this.baseDir}; use --wasm PATH to override)`;
      n.fail(`wasm file not found: ${file} ${how}`);
    }
    return file;
  }
}

/** "host:port" or "[v6]:port". */
export function parseHostPort(s: string, what: string): SocketAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(what, `expected HOST:PORT, got "${s}"`);
  return { address: (m[1] ?? m[2])!, port };
}
