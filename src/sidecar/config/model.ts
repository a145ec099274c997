// The part of an Envoy v3 bootstrap the sidecar honours, after parsing and
// validation. Every field here has a behaviour behind it; see docs/sidecar.md.

export interface SocketAddress {
  readonly address: string;
  readonly port: number;
}

export type ClusterType = 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS';

export interface ClusterConfig {
  readonly name: string;
  readonly type: ClusterType;
  readonly connectTimeoutMs: number;
  /** STRICT_DNS re-resolution period (Envoy default 5 s). */
  readonly dnsRefreshMs: number;
  readonly endpoints: readonly SocketAddress[];
  /** The DEFAULT-priority circuit breaker thresholds (Envoy's defaults when absent). */
  readonly circuitBreakers: CircuitBreakerThresholds;
  /** Where in the YAML the cluster is defined, for error messages. */
  readonly yamlPath: string;
}

/** Envoy's cluster circuit breakers (`circuit_breakers.thresholds`, priority DEFAULT). */
export interface CircuitBreakerThresholds {
  /** Connections the cluster may hold open (idle ones included). */
  readonly maxConnections: number;
  /** Requests that may wait for a connection. */
  readonly maxPendingRequests: number;
  /** Requests that may be in flight on connections. */
  readonly maxRequests: number;
}

/** Envoy's defaults for each threshold not set (api: cluster/v3/circuit_breaker.proto). */
export const DEFAULT_CIRCUIT_BREAKERS: CircuitBreakerThresholds = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024 };

export type Denominator = 'HUNDRED' | 'TEN_THOUSAND' | 'MILLION';

export interface MirrorPolicy {
  /** The mirror cluster; empty when `clusterHeader` names it per request. */
  readonly cluster: string;
  /** Envoy's `cluster_header` (lower-case): the request header whose value is the mirror cluster. */
  readonly clusterHeader?: string;
  readonly numerator: number;
  readonly denominator: Denominator;
  readonly disableShadowHostSuffixAppend: boolean;
}

export interface HeaderMatcher {
  readonly name: string;
  readonly exact?: string;
  readonly prefix?: string;
  readonly suffix?: string;
  readonly contains?: string;
  readonly present?: boolean;
  readonly invert: boolean;
}

export interface RouteMatch {
  readonly prefix?: string;
  readonly path?: string;
  readonly caseSensitive: boolean;
  readonly headers: readonly HeaderMatcher[];
}

export interface RouteAction {
  readonly kind: 'route';
  readonly cluster: string;
  /** 0 = no timeout; Envoy's default is 15 s. */
  readonly timeoutMs: number;
  readonly mirrorPolicies: readonly MirrorPolicy[];
  readonly prefixRewrite?: string;
  readonly hostRewriteLiteral?: string;
}

export interface DirectResponseAction {
  readonly kind: 'direct_response';
  readonly status: number;
  readonly body: string;
}

export interface RouteConfig {
  readonly name: string;
  readonly match: RouteMatch;
  readonly action: RouteAction | DirectResponseAction;
}

export interface VirtualHost {
  readonly name: string;
  readonly domains: readonly string[];
  readonly routes: readonly RouteConfig[];
}

export interface WasmFilterConfig {
  readonly kind: 'wasm';
  /** config.name: plugin_name property. */
  readonly pluginName: string;
  readonly rootId: string;
  readonly vmId: string;
  readonly runtime: string;
  /** Raw plugin configuration text (StringValue.value), undefined when absent. */
  readonly configuration: string | undefined;
  readonly vmConfiguration: string | undefined;
  /** Absolute path of the .wasm file, after overrides. */
  readonly codePath: string;
  readonly failOpen: boolean;
  readonly yamlPath: string;
}

export interface RouterFilterConfig {
  readonly kind: 'router';
}

export type HttpFilterConfig = WasmFilterConfig | RouterFilterConfig;

export interface HttpConnectionManagerConfig {
  readonly statPrefix: string;
  readonly generateRequestId: boolean;
  /** Value of the `server` response header (Envoy: server_name, default "envoy"). */
  readonly serverName: string;
  /** strip_any_host_port: match virtual hosts on the authority without its port. */
  readonly stripAnyHostPort: boolean;
  readonly virtualHosts: readonly VirtualHost[];
  readonly httpFilters: readonly HttpFilterConfig[];
}

export interface ListenerConfig {
  readonly name: string;
  /** Where to listen, after overrides. */
  readonly address: SocketAddress;
  /** The address as the YAML declares it (clusters pointing here follow an override). */
  readonly declaredAddress: SocketAddress;
  readonly hcm: HttpConnectionManagerConfig;
  readonly yamlPath: string;
}

/** Bootstrap `node`: what the filter reads as properties node.id, node.cluster, node.metadata. */
export interface NodeInfo {
  readonly id: string;
  readonly cluster: string;
  /** String-valued metadata only. */
  readonly metadata: Readonly<Record<string, string>>;
}

export interface SidecarConfig {
  readonly sourcePath: string;
  readonly node: NodeInfo;
  readonly listeners: readonly ListenerConfig[];
  readonly clusters: ReadonlyMap<string, ClusterConfig>;
  readonly admin: SocketAddress | undefined;
  /** Fields present in the YAML that the sidecar does not implement (normalised paths, each once). */
  readonly unimplemented: readonly string[];
}
