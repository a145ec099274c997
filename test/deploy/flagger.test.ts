// The Flagger MetricTemplate's PromQL, evaluated by promtool (Prometheus's own
// engine) over made-up collector series: 1 while the route's verdict is reject,
// 0 for promote, hold, another route's reject, or no series at all (so a
// collector that has not been scraped yet never fails the canary).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { yamlDocs } from './support.js';

const promtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
const template = yamlDocs('deploy/gates/flagger-metrictemplate.yaml')[0]!;

/** The query as Flagger sends it for a Canary with templateVariables {route}. */
const queryFor = (route: string): string => (template.spec.query as string).replace(/\{\{ variables\.route \}\}/g, route).trim();

function verdictSeries(route: string, decision: string): { series: string; values: string }[] {
  return ['promote', 'hold', 'reject'].map((d) => ({
    series: `shadowmesh_verdict{route="${route}",decision="${d}",pod="collector-0"}`,
    values: d === decision ? '1 1 1' : '0 0 0',
  }));
}

describe('the Flagger MetricTemplate query', { skip: promtool ? false : 'promtool is not installed' }, () => {
  it('is 1 only while the route is rejected', () => {
    const scenario = (series: { series: string; values: string }[], value: number) => ({
      interval: '1m',
      input_series: series,
      promql_expr_test: [{ expr: queryFor('predict'), eval_time: '2m', exp_samples: [{ labels: '{}', value }] }],
    });
    const tests = [
      scenario(verdictSeries('predict', 'reject'), 1),
      scenario([...verdictSeries('predict', 'reject'), ...verdictSeries('predict', 'reject').map((s) => ({ ...s, series: s.series.replace('collector-0', 'collector-1') }))], 1),
      scenario(verdictSeries('predict', 'promote'), 0),
      scenario(verdictSeries('predict', 'hold'), 0),
      scenario(verdictSeries('other', 'reject'), 0),
      scenario([{ series: 'up{job="shadowmesh-collector"}', values: '1 1 1' }], 0),
    ];
    const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-flagger-'));
    try {
      const file = join(dir, 'query.test.yaml');
      writeFileSync(file, stringify({ rule_files: [], evaluation_interval: '1m', tests }));
      const r = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /SUCCESS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
