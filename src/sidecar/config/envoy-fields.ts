// The field names of the Envoy v3 API messages a bootstrap file can hold in the
// part the sidecar reads, so that a misspelt field is rejected as real Envoy
// rejects it (its bootstrap is parsed strictly: an unknown field stops the start),
// while a field Envoy knows and the sidecar does not implement only warns.
// Taken from the v3 .proto files of envoyproxy/data-plane-api (the api/ tree of
// Envoy; commit 84e84367, 2026): every field, deprecated ones included (Envoy
// still accepts those), none of the `reserved` (removed) ones. Where a new Envoy
// adds a field, add it here.
//
// `children` says which message a field holds, for the fields the sidecar walks
// into; `Any` fields are resolved by their "@type".

export interface MessageSchema {
  /** Full protobuf name, for error messages. */
  readonly name: string;
  readonly fields: ReadonlySet<string>;
  readonly children: Readonly<Record<string, SchemaRef>>;
}

/** A message by key, `Any` (decided by "@type"), or `Duration`. */
type SchemaRef = string;

function words(s: string): ReadonlySet<string> {
  return new Set(s.trim().split(/\s+/));
}

const MESSAGES: Record<string, { name: string; fields: string; children?: Record<string, SchemaRef> }> = {
  Bootstrap: {
    name: 'envoy.config.bootstrap.v3.Bootstrap',
    fields: `
      node node_context_params static_resources dynamic_resources cluster_manager hds_config
      flags_path stats_sinks deferred_stat_options stats_config stats_flush_interval
      stats_flush_on_admin stats_eviction_interval watchdog watchdogs tracing
      layered_runtime admin overload_manager enable_dispatcher_stats header_prefix
      stats_server_version_override use_tcp_for_dns_lookups dns_resolution_config
      typed_dns_resolver_config bootstrap_extensions fatal_actions config_sources
      default_config_source default_socket_interface certificate_provider_instances
      inline_headers perf_tracing_file_path default_regex_engine xds_delegate_extension
      xds_config_tracker_extension listener_manager application_log_config
      grpc_async_client_manager_config memory_allocator_manager`,
    children: { static_resources: 'StaticResources', admin: 'Admin', node: 'Node' },
  },
  StaticResources: {
    name: 'envoy.config.bootstrap.v3.Bootstrap.StaticResources',
    fields: `
      listeners clusters secrets`,
    children: { listeners: 'Listener', clusters: 'Cluster' },
  },
  Admin: {
    name: 'envoy.config.bootstrap.v3.Admin',
    fields: `
      access_log access_log_path profile_path address socket_options
      ignore_global_conn_limit allow_paths`,
    children: { address: 'Address' },
  },
  Node: {
    name: 'envoy.config.core.v3.Node',
    fields: `
      id cluster metadata dynamic_parameters locality user_agent_name user_agent_version
      user_agent_build_version extensions client_features listening_addresses`,
  },
  Address: {
    name: 'envoy.config.core.v3.Address',
    fields: `
      socket_address pipe envoy_internal_address`,
    children: { socket_address: 'SocketAddress' },
  },
  SocketAddress: {
    name: 'envoy.config.core.v3.SocketAddress',
    fields: `
      protocol address port_value named_port resolver_name ipv4_compat
      network_namespace_filepath`,
  },
  Cluster: {
    name: 'envoy.config.cluster.v3.Cluster',
    fields: `
      transport_socket_matches transport_socket_matcher name alt_stat_name type cluster_type
      eds_cluster_config connect_timeout per_connection_buffer_limit_bytes lb_policy
      load_assignment health_checks max_requests_per_connection circuit_breakers
      upstream_http_protocol_options common_http_protocol_options http_protocol_options
      http2_protocol_options typed_extension_protocol_options dns_refresh_rate dns_jitter
      dns_failure_refresh_rate respect_dns_ttl dns_lookup_family dns_resolvers
      use_tcp_for_dns_lookups dns_resolution_config typed_dns_resolver_config
      wait_for_warm_on_init outlier_detection cleanup_interval upstream_bind_config
      lb_subset_config ring_hash_lb_config maglev_lb_config original_dst_lb_config
      least_request_lb_config round_robin_lb_config common_lb_config transport_socket
      metadata protocol_selection upstream_connection_options
      close_connections_on_host_health_failure ignore_health_on_host_removal filters
      load_balancing_policy lrs_server lrs_report_endpoint_metrics track_timeout_budgets
      upstream_config track_cluster_stats preconnect_policy
      connection_pool_per_downstream_connection`,
    children: { load_assignment: 'ClusterLoadAssignment', connect_timeout: 'Duration', dns_refresh_rate: 'Duration', circuit_breakers: 'CircuitBreakers' },
  },
  CircuitBreakers: {
    name: 'envoy.config.cluster.v3.CircuitBreakers',
    fields: `
      thresholds per_host_thresholds`,
    children: { thresholds: 'Thresholds' },
  },
  Thresholds: {
    name: 'envoy.config.cluster.v3.CircuitBreakers.Thresholds',
    fields: `
      priority max_connections max_pending_requests max_requests max_retries retry_budget
      track_remaining max_connection_pools`,
  },
  ClusterLoadAssignment: {
    name: 'envoy.config.endpoint.v3.ClusterLoadAssignment',
    fields: `
      cluster_name endpoints named_endpoints policy`,
    children: { endpoints: 'LocalityLbEndpoints' },
  },
  LocalityLbEndpoints: {
    name: 'envoy.config.endpoint.v3.LocalityLbEndpoints',
    fields: `
      locality metadata lb_endpoints load_balancer_endpoints leds_cluster_locality_config
      load_balancing_weight priority proximity`,
    children: { lb_endpoints: 'LbEndpoint' },
  },
  LbEndpoint: {
    name: 'envoy.config.endpoint.v3.LbEndpoint',
    fields: `
      endpoint endpoint_name health_status metadata load_balancing_weight`,
    children: { endpoint: 'Endpoint' },
  },
  Endpoint: {
    name: 'envoy.config.endpoint.v3.Endpoint',
    fields: `
      address health_check_config hostname additional_addresses`,
    children: { address: 'Address' },
  },
  Listener: {
    name: 'envoy.config.listener.v3.Listener',
    fields: `
      name address additional_addresses stat_prefix filter_chains fcds_config
      filter_chain_matcher use_original_dst default_filter_chain
      per_connection_buffer_limit_bytes metadata deprecated_v1 drain_type listener_filters
      listener_filters_timeout continue_on_listener_filters_timeout transparent freebind
      socket_options tcp_fast_open_queue_length traffic_direction udp_listener_config
      api_listener connection_balance_config reuse_port enable_reuse_port access_log
      tcp_backlog_size max_connections_to_accept_per_socket_event bind_to_port
      internal_listener enable_mptcp ignore_global_conn_limit bypass_overload_manager
      tcp_keepalive`,
    children: { address: 'Address', filter_chains: 'FilterChain' },
  },
  FilterChain: {
    name: 'envoy.config.listener.v3.FilterChain',
    fields: `
      filter_chain_match filters use_proxy_proto metadata transport_socket
      transport_socket_connect_timeout name`,
    children: { filters: 'Filter' },
  },
  Filter: {
    name: 'envoy.config.listener.v3.Filter',
    fields: `
      name typed_config config_discovery`,
    children: { typed_config: 'Any' },
  },
  HttpConnectionManager: {
    name: 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    fields: `
      codec_type stat_prefix rds route_config scoped_routes http_filters add_user_agent
      tracing common_http_protocol_options http1_safe_max_connection_duration
      http_protocol_options http2_protocol_options http3_protocol_options server_name
      server_header_transformation scheme_header_transformation max_request_headers_kb
      stream_idle_timeout stream_flush_timeout request_timeout request_headers_timeout
      drain_timeout delayed_close_timeout access_log access_log_flush_interval
      flush_access_log_on_new_request access_log_options use_remote_address
      xff_num_trusted_hops original_ip_detection_extensions early_header_mutation_extensions
      internal_address_config skip_xff_append via generate_request_id
      preserve_external_request_id always_set_request_id_in_response
      forward_client_cert_details set_current_client_cert_details
      forward_client_cert_matcher proxy_100_continue
      represent_ipv4_remote_address_as_ipv4_mapped_ipv6 upgrade_configs normalize_path
      merge_slashes path_with_escaped_slashes_action request_id_extension local_reply_config
      strip_matching_host_port strip_any_host_port stream_error_on_invalid_http_message
      path_normalization_options strip_trailing_host_dot proxy_status_config
      typed_header_validation_config append_x_forwarded_port append_local_overload
      add_proxy_protocol_connection_state forward_proto_config`,
    children: { route_config: 'RouteConfiguration', http_filters: 'HttpFilter' },
  },
  HttpFilter: {
    name: 'envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter',
    fields: `
      name typed_config config_discovery is_optional disabled`,
    children: { typed_config: 'Any' },
  },
  RouteConfiguration: {
    name: 'envoy.config.route.v3.RouteConfiguration',
    fields: `
      name virtual_hosts vhds internal_only_headers response_headers_to_add
      response_headers_to_remove request_headers_to_add request_headers_to_remove
      most_specific_header_mutations_wins validate_clusters
      max_direct_response_body_size_bytes cluster_specifier_plugins request_mirror_policies
      ignore_port_in_host_matching vhost_header ignore_path_parameters_in_path_matching
      typed_per_filter_config metadata`,
    children: { virtual_hosts: 'VirtualHost' },
  },
  VirtualHost: {
    name: 'envoy.config.route.v3.VirtualHost',
    fields: `
      name domains routes matcher require_tls virtual_clusters rate_limits
      request_headers_to_add request_headers_to_remove response_headers_to_add
      response_headers_to_remove cors typed_per_filter_config include_request_attempt_count
      include_attempt_count_in_response retry_policy retry_policy_typed_config hedge_policy
      include_is_timeout_retry_header per_request_buffer_limit_bytes
      request_body_buffer_limit request_mirror_policies metadata`,
    children: { routes: 'Route' },
  },
  Route: {
    name: 'envoy.config.route.v3.Route',
    fields: `
      name match route redirect direct_response filter_action non_forwarding_action metadata
      decorator typed_per_filter_config request_headers_to_add request_headers_to_remove
      response_headers_to_add response_headers_to_remove tracing
      per_request_buffer_limit_bytes stat_prefix request_body_buffer_limit`,
    children: { match: 'RouteMatch', route: 'RouteAction', direct_response: 'DirectResponseAction' },
  },
  RouteMatch: {
    name: 'envoy.config.route.v3.RouteMatch',
    fields: `
      prefix path safe_regex connect_matcher path_separated_prefix path_match_policy
      case_sensitive runtime_fraction headers query_parameters cookies grpc tls_context
      dynamic_metadata filter_state`,
    children: { headers: 'HeaderMatcher' },
  },
  RouteAction: {
    name: 'envoy.config.route.v3.RouteAction',
    fields: `
      cluster cluster_header weighted_clusters cluster_specifier_plugin
      inline_cluster_specifier_plugin cluster_not_found_response_code metadata_match
      prefix_rewrite regex_rewrite path_rewrite_policy path_rewrite host_rewrite_literal
      auto_host_rewrite host_rewrite_header host_rewrite_path_regex host_rewrite
      append_x_forwarded_host timeout idle_timeout flush_timeout early_data_policy
      retry_policy retry_policy_typed_config request_mirror_policies priority rate_limits
      include_vh_rate_limits hash_policy cors max_grpc_timeout grpc_timeout_offset
      upgrade_configs internal_redirect_policy internal_redirect_action
      max_internal_redirects hedge_policy max_stream_duration`,
    children: { request_mirror_policies: 'RequestMirrorPolicy', timeout: 'Duration' },
  },
  RequestMirrorPolicy: {
    name: 'envoy.config.route.v3.RouteAction.RequestMirrorPolicy',
    fields: `
      cluster cluster_header runtime_fraction trace_sampled
      disable_shadow_host_suffix_append request_headers_mutations host_rewrite_literal`,
    children: { runtime_fraction: 'RuntimeFractionalPercent' },
  },
  DirectResponseAction: {
    name: 'envoy.config.route.v3.DirectResponseAction',
    fields: `
      status body body_format`,
    children: { body: 'DataSource' },
  },
  HeaderMatcher: {
    name: 'envoy.config.route.v3.HeaderMatcher',
    fields: `
      name exact_match safe_regex_match range_match present_match prefix_match suffix_match
      contains_match string_match invert_match treat_missing_header_as_empty`,
    children: { string_match: 'StringMatcher' },
  },
  StringMatcher: {
    name: 'envoy.type.matcher.v3.StringMatcher',
    fields: `
      exact prefix suffix safe_regex contains custom ignore_case`,
  },
  DataSource: {
    name: 'envoy.config.core.v3.DataSource',
    fields: `
      filename inline_bytes inline_string environment_variable watched_directory`,
  },
  AsyncDataSource: {
    name: 'envoy.config.core.v3.AsyncDataSource',
    fields: `
      local remote`,
    children: { local: 'DataSource' },
  },
  RuntimeFractionalPercent: {
    name: 'envoy.config.core.v3.RuntimeFractionalPercent',
    fields: `
      default_value runtime_key`,
    children: { default_value: 'FractionalPercent' },
  },
  FractionalPercent: {
    name: 'envoy.type.v3.FractionalPercent',
    fields: `
      numerator denominator`,
  },
  Wasm: {
    name: 'envoy.extensions.filters.http.wasm.v3.Wasm',
    fields: `
      config`,
    children: { config: 'PluginConfig' },
  },
  PluginConfig: {
    name: 'envoy.extensions.wasm.v3.PluginConfig',
    fields: `
      name root_id vm_config configuration fail_open failure_policy reload_config
      capability_restriction_config allow_on_headers_stop_iteration`,
    children: { vm_config: 'VmConfig', configuration: 'Any' },
  },
  VmConfig: {
    name: 'envoy.extensions.wasm.v3.VmConfig',
    fields: `
      vm_id runtime code configuration allow_precompiled nack_on_code_cache_miss
      environment_variables`,
    children: { code: 'AsyncDataSource', configuration: 'Any' },
  },
  Router: {
    name: 'envoy.extensions.filters.http.router.v3.Router',
    fields: `
      dynamic_stats start_child_span upstream_log upstream_log_options
      suppress_envoy_headers strict_check_headers respect_expected_rq_timeout
      suppress_grpc_request_failure_code_stats upstream_http_filters
      reject_connect_request_early_data`,
  },
  Duration: { name: 'google.protobuf.Duration', fields: 'seconds nanos' },
  StringValue: { name: 'google.protobuf.StringValue', fields: 'value' },
};

/** "@type" URL → message key, for the Any values the sidecar understands. */
const ANY_TYPES: Record<string, string> = {
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager': 'HttpConnectionManager',
  'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm': 'Wasm',
  'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router': 'Router',
  'type.googleapis.com/google.protobuf.StringValue': 'StringValue',
};

const built = new Map<string, MessageSchema>();

function schema(key: string): MessageSchema {
  let s = built.get(key);
  if (!s) {
    const m = MESSAGES[key];
    if (!m) throw new Error(`no schema ${key}`);
    s = { name: m.name, fields: words(m.fields), children: m.children ?? {} };
    built.set(key, s);
  }
  return s;
}

export const BOOTSTRAP_SCHEMA: MessageSchema = schema('Bootstrap');

/**
 * The schema of `parent`'s field `key` holding `value`; undefined when the sidecar
 * cannot know it (an Any of a type it does not read, a Struct): then nothing
 * below is checked, only reported as not implemented.
 */
export function childSchema(parent: MessageSchema | undefined, key: string, value: unknown): MessageSchema | undefined {
  const ref = parent?.children[key];
  if (ref === undefined) return undefined;
  if (ref !== 'Any') return schema(ref);
  if (typeof value !== 'object' || value === null) return undefined;
  const type = (value as Record<string, unknown>)['@type'];
  const k = typeof type === 'string' ? ANY_TYPES[type] : undefined;
  return k === undefined ? undefined : withTypeField(schema(k));
}

/** An Any carries its "@type" next to the message's own fields. */
const anyForms = new Map<MessageSchema, MessageSchema>();
function withTypeField(s: MessageSchema): MessageSchema {
  let a = anyForms.get(s);
  if (!a) {
    a = { name: s.name, fields: new Set([...s.fields, '@type']), children: s.children };
    anyForms.set(s, a);
  }
  return a;
}
