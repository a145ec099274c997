// The Grafana dashboard and the Prometheus alert rules in observability/: their
// PromQL parses (promtool), every metric they name is in a real collector's
// /metrics, the alerts fire on the series they are about (promtool test rules),
// and the Operator's PrometheusRule carries the same rules as the plain file.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { post, rec, ROOT, startCollector, tempDir } from './helpers.js';
import { promtool, scrape, type Scrape } from './prometheus-text.js';

const DASHBOARD = join(ROOT, 'observability/grafana/shadowmesh.json');
const ALERTS = join(ROOT, 'observability/prometheus/alerts.yaml');
const OPERATOR_RULE = join(ROOT, 'observability/prometheus/prometheusrule.yaml');

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

interface RuleGroups {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan']);

/** Metric names in a PromQL expression: identifiers that are not functions, keywords, label names or strings. */
function metricNames(expr: string): Set<string> {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}') // label matchers
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\[[^\]]*\]/g, '[]'); // ranges
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*(\(?))/g)) {
    if (m[1] === '(' || KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return names;
}

/** Grafana's variables replaced by values Prometheus accepts. */
const concrete = (expr: string): string => expr.replaceAll('$__rate_interval', '1m').replaceAll('$route', '.*');

function dashboardExprs(): { title: string; expr: string }[] {
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[]; templating: { list: { query?: unknown }[] } };
  const out: { title: string; expr: string }[] = [];
  const visit = (panels: Panel[]): void => {
    for (const p of panels) {
      for (const t of p.targets ?? []) out.push({ title: p.title, expr: t.expr });
      if (p.panels) visit(p.panels);
    }
  };
  visit(dash.panels);
  return out;
}

/** Has the exposition a series family (or histogram part) of this name? */
function exposes(m: Scrape, name: string): boolean {
  const families = m.families();
  if (families.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && m.text.includes(`# TYPE ${base} histogram`);
}

async function checkRules(dir: string, name: string, groups: RuleGroups): Promise<void> {
  const file = join(dir, name);
  writeFileSync(file, stringifyYaml(groups));
  const r = await promtool(['check', 'rules', file]);
  assert.equal(r.code, 0, r.output);
}

test('observability files: Grafana dashboard and alert rules', async (t) => {
  const dir = tempDir(t);
  const c = await startCollector(['--db', join(dir, 'c.db')], t);
  await post(c.url, [
    rec({ id: 'a', role: 'production', latency_ms: 3 }),
    rec({ id: 'a', role: 'shadow', latency_ms: 4, status: 500 }),
    rec({ id: 'a', role: 'baseline', latency_ms: 3 }),
  ]);
  const m = await scrape(c.url);

  await t.test('every dashboard query parses as PromQL', async () => {
    const exprs = dashboardExprs();
    assert.ok(exprs.length >= 12);
    await checkRules(dir, 'dashboard-rules.yaml', {
      groups: [{ name: 'dashboard', rules: exprs.map((e, i) => ({ record: `dashboard:query_${i}`, expr: concrete(e.expr) })) }],
    });
  });

  await t.test('every metric name the dashboard uses exists in /metrics', () => {
    const used = new Set<string>();
    for (const { expr } of dashboardExprs()) for (const n of metricNames(expr)) used.add(n);
    const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { templating: { list: { definition?: string }[] } };
    for (const v of dash.templating.list) if (v.definition) for (const n of /label_values\((\w+),/.exec(v.definition)!.slice(1)) used.add(n);
    assert.ok(used.size >= 10, [...used].join(' '));
    for (const n of used) assert.ok(exposes(m, n), `the dashboard uses ${n}, which /metrics does not have`);
    // A typo would be caught: the check is not vacuous.
    assert.equal(exposes(m, 'shadowmesh_pair_total'), false);
  });

  await t.test('the dashboard covers what it is for', () => {
    const all = dashboardExprs().map((e) => e.expr).join('\n');
    assert.match(all, /rate\(shadowmesh_pairs_total/);
    assert.match(all, /shadowmesh_match_rate/);
    assert.match(all, /shadowmesh_adjusted_match_rate/);
    assert.match(all, /shadowmesh_errors_total\{[^}]*role=~"production\|shadow"/);
    assert.match(all, /histogram_quantile\(0\.5, sum by \(le, route, role\) \(rate\(shadowmesh_latency_seconds_bucket/);
    assert.match(all, /histogram_quantile\(0\.99, sum by \(le, route, role\) \(rate\(shadowmesh_latency_seconds_bucket/);
    assert.match(all, /shadowmesh_unmatched/);
    assert.match(all, /shadowmesh_late_pairs_total/);
    assert.match(all, /shadowmesh_verdict/);
    assert.match(all, /shadowmesh_noise_paths/);
  });

  const plain = parseYaml(readFileSync(ALERTS, 'utf8')) as RuleGroups;

  await t.test('alerts.yaml passes promtool check rules; its metrics exist', async () => {
    const r = await promtool(['check', 'rules', ALERTS]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /SUCCESS: 3 rules found/);
    const alerts = plain.groups.flatMap((g) => g.rules.map((x) => x.alert));
    assert.deepEqual(alerts, ['ShadowmeshVerdictReject', 'ShadowmeshJoinRateFalling', 'ShadowmeshShadowErrorRateAboveProduction']);
    for (const rule of plain.groups.flatMap((g) => g.rules)) {
      for (const n of metricNames(rule.expr)) assert.ok(exposes(m, n), `${rule.alert} uses ${n}, which /metrics does not have`);
    }
  });

  await t.test('the alerts fire on their cause and stay quiet on a healthy route (promtool test rules)', async () => {
    const r = await promtool(['test', 'rules', join(ROOT, 'observability/prometheus/alerts.test.yaml')]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /SUCCESS/);
  });

  await t.test('the PrometheusRule is valid for the Operator and has the same rules', async () => {
    const doc = parseYaml(readFileSync(OPERATOR_RULE, 'utf8')) as { apiVersion: string; kind: string; metadata: { name: string }; spec: RuleGroups };
    assert.equal(doc.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(doc.kind, 'PrometheusRule');
    new PrometheusRule(doc as ConstructorParameters<typeof PrometheusRule>[0]).validate();
    assert.deepEqual(doc.spec, plain);
    await checkRules(dir, 'operator-spec.yaml', doc.spec);
  });

  assert.equal(await c.stop(), 0);
});
