// The rollout gates against a real collector (started with the CLI, records
// posted over loopback) holding three routes: one that must promote, one that
// must be rejected, one with too few pairs (hold). The GitHub Actions step runs
// this checkout's `shadowmesh verdict --wait`; the Argo AnalysisTemplate's web
// metric is fetched as Argo would (its URL with the args filled in, its
// jsonPath) and its conditions name the same three outcomes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnCli } from '../sidecar/helpers.js';
import { StepRunner } from './gha-step.js';
import { type Manifest, yamlDocs } from './support.js';

const runner = new StepRunner();
const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-gates-'));
const rulesFile = join(dir, 'rules.yaml');
const CASES = [['good', 'promote', 0], ['bad', 'reject', 3], ['few', 'hold', 2]] as const;

describe('gates against a real collector', () => {
  let collector: Awaited<ReturnType<typeof spawnCli>>;

  before(async () => {
    writeFileSync(rulesFile, 'verdict: { min_pairs: 5, min_match_rate: 0.5, max_error_rate_delta: 0.5, max_latency_p99_ratio: 10, confidence: 0.95 }\n');
    collector = await spawnCli(['collector', '--host', '127.0.0.1', '--port', '0', '--db', ':memory:', '--config', rulesFile]);
    const side = (id: string, route: string, role: string, body: string): Manifest => ({
      v: 1, id, role, route, method: 'POST', path: '/predict', status: 200, latency_ms: 5, ts_ms: 1_700_000_000_000, response_body: body,
    });
    const records: Manifest[] = [];
    for (let i = 0; i < 12; i++) {
      records.push(side(`good-${i}`, 'good', 'production', '{"label":"rain"}'), side(`good-${i}`, 'good', 'shadow', '{"label":"rain"}'));
      records.push(side(`bad-${i}`, 'bad', 'production', '{"label":"rain"}'), side(`bad-${i}`, 'bad', 'shadow', '{"label":"dry"}'));
    }
    records.push(side('few-0', 'few', 'production', '{}'), side('few-0', 'few', 'shadow', '{}'));
    const res = await fetch(`${collector.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(records) });
    assert.equal(((await res.json()) as { accepted: number }).accepted, records.length);
  });
  after(async () => {
    await collector?.stop();
    runner.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [route, decision, exit] of CASES) {
    it(`GitHub Actions step, route ${route}: ${decision}, exit ${exit}`, () => {
      const r = runner.run({ npx: 'cli', env: { SHADOWMESH_URL: collector.url, ROUTE: route, WAIT: '1s' } });
      assert.equal(r.code, exit, r.summary);
      assert.equal(r.output, `decision=${decision}\n`);
      const json = /```json\n([\s\S]*)\n```/.exec(r.summary)![1]!;
      assert.equal((JSON.parse(json) as { decision: string }).decision, decision, 'the summary holds the verdict JSON');
    });
  }

  it('Argo AnalysisTemplate: its URL and jsonPath read the decision; promote succeeds, reject fails, hold matches neither', async () => {
    const template = yamlDocs('deploy/gates/argo-analysistemplate.yaml')[0]!;
    const metric = template.spec.metrics[0];
    const outcome = (result: string): string => {
      // The two conditions are `result == "<decision>"` (manifests.test.ts checks their text).
      const wanted = (cond: string): string => /^result == "(\w+)"$/.exec(cond)![1]!;
      if (result === wanted(metric.successCondition)) return 'Successful';
      if (result === wanted(metric.failureCondition)) return 'Failed';
      return 'Inconclusive';
    };
    const path = /^\{\$\.(\w+)\}$/.exec(metric.provider.web.jsonPath)![1]!;
    const seen: Record<string, string> = {};
    for (const [route] of CASES) {
      const args: Record<string, string> = { 'collector-url': collector.url, route };
      const url = (metric.provider.web.url as string).replace(/\{\{args\.([a-z-]+)\}\}/g, (_, name: string) => args[name]!);
      const res = await fetch(url);
      assert.equal(res.status, 200, url);
      seen[route] = outcome(((await res.json()) as Record<string, string>)[path]!);
    }
    assert.deepEqual(seen, { good: 'Successful', bad: 'Failed', few: 'Inconclusive' });
  });
});

