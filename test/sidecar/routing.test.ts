// Envoy's route table lookup, as units: virtual host precedence and matchers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteConfig, VirtualHost } from '../../src/sidecar/config/model.js';
import { selectRoute, selectVirtualHost } from '../../src/sidecar/routing.js';

function vh(name: string, domains: string[], routes: RouteConfig[] = []): VirtualHost {
  return { name, domains, routes };
}

function route(name: string, match: Partial<RouteConfig['match']>): RouteConfig {
  return { name, match: { caseSensitive: true, headers: [], ...match }, action: { kind: 'route', cluster: 'c', timeoutMs: 0, mirrorPolicies: [] } };
}

describe('virtual host selection', () => {
  const hosts = [vh('any', ['*']), vh('prefix', ['api.*']), vh('suffix', ['*.example.com']), vh('longer-suffix', ['*.api.example.com']), vh('exact', ['api.example.com', 'model:8080'])];
  it('exact beats wildcards, longest suffix beats shorter, suffix beats prefix, * last', () => {
    assert.equal(selectVirtualHost(hosts, 'api.example.com')?.name, 'exact');
    assert.equal(selectVirtualHost(hosts, 'v1.api.example.com')?.name, 'longer-suffix');
    assert.equal(selectVirtualHost(hosts, 'www.example.com')?.name, 'suffix');
    assert.equal(selectVirtualHost(hosts, 'api.internal')?.name, 'prefix');
    assert.equal(selectVirtualHost(hosts, 'other')?.name, 'any');
  });
  it('compares the whole authority, port included, case-insensitively (as Envoy by default)', () => {
    assert.equal(selectVirtualHost(hosts, 'model:8080')?.name, 'exact');
    assert.equal(selectVirtualHost(hosts, 'model:9090')?.name, 'any');
    assert.equal(selectVirtualHost(hosts, 'API.example.com:443')?.name, 'prefix', 'api.* matches, the exact domain has no port');
    assert.equal(selectVirtualHost([vh('only', ['x'])], 'y'), undefined);
  });
  it('strip_any_host_port drops the port before matching', () => {
    assert.equal(selectVirtualHost(hosts, 'API.example.com:443', true)?.name, 'exact');
  });
});

describe('route matching', () => {
  const routes = [
    route('exact-path', { path: '/v1/predict' }),
    route('canary', { prefix: '/v1', headers: [{ name: 'x-canary', exact: 'yes', invert: false }] }),
    route('not-debug', { prefix: '/v1', headers: [{ name: 'x-debug', present: true, invert: true }] }),
    route('ci', { prefix: '/CASE', caseSensitive: false }),
  ];
  const table = [vh('all', ['*'], routes)];
  const pick = (path: string, extra: Array<[string, string]> = []) =>
    selectRoute(table, [[':authority', 'h'], [':path', path], ...extra])?.name;

  it('path ignores the query, prefix does not need to', () => {
    assert.equal(pick('/v1/predict?x=1'), 'exact-path');
    assert.equal(pick('/v1/predictions'), 'not-debug');
  });
  it('header matchers, inverted presence, first match wins', () => {
    assert.equal(pick('/v1/x', [['x-canary', 'yes']]), 'canary');
    assert.equal(pick('/v1/x', [['x-canary', 'no']]), 'not-debug');
    assert.equal(pick('/v1/x', [['x-debug', '1']]), undefined);
  });
  it('case-insensitive prefix', () => {
    assert.equal(pick('/case/a'), 'ci');
    assert.equal(pick('/nothing'), undefined);
  });
});
