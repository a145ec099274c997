// The GitHub Actions gate (deploy/gates/github-actions.yml): its verdict step's
// script, run with bash, passes the right arguments to `shadowmesh verdict
// --wait` and turns each of its exit codes into the decision output, the job
// summary and the step's own exit code. (gates-live.test.ts runs it against a
// real collector.)
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { StepRunner, verdictJob, verdictStep, workflow } from './gha-step.js';

const runner = new StepRunner();
after(() => runner.close());

describe('the GitHub Actions gate', () => {
  it('runs `shadowmesh verdict --wait` with the URL, route and wait, pinned to a version', () => {
    const r = runner.run({ npx: 'record' });
    assert.deepEqual(r.args, ['--yes', 'shadowmesh@0.1.0', 'verdict', '--url', 'http://collector:8700', '--route', 'predict', '--wait', '30m', '--json']);
  });

  it('passes --token only when the secret is set', () => {
    assert.deepEqual(runner.run({ npx: 'record', env: { SHADOWMESH_TOKEN: 's3cret' } }).args.slice(-2), ['--token', 's3cret']);
    assert.ok(!runner.run({ npx: 'record' }).args.includes('--token'));
  });

  for (const [exit, decision] of [[0, 'promote'], [2, 'hold'], [3, 'reject'], [1, 'error'], [9, 'error']] as const) {
    it(`exit ${exit} → decision ${decision}, and the step exits ${exit}`, () => {
      const r = runner.run({ npx: 'record', exit });
      assert.equal(r.code, exit);
      assert.equal(r.output, `decision=${decision}\n`);
      assert.match(r.summary, new RegExp(`shadowmesh verdict for predict: ${decision}`));
      assert.match(r.summary, /\{"decision":"stub"\}/);
    });
  }

  it('only a promote lets the promote job run; expressions stay out of the script', () => {
    assert.equal(verdictJob.outputs.decision, '${{ steps.verdict.outputs.decision }}');
    assert.deepEqual(workflow.jobs.promote.needs, 'verdict');
    assert.equal(workflow.jobs.promote.if, "needs.verdict.outputs.decision == 'promote'");
    assert.doesNotMatch(verdictStep.run, /\$\{\{/, 'inputs reach the script through env, never pasted into it');
    assert.ok(verdictJob['timeout-minutes'] > 30, 'the job outlives the default --wait');
  });
});
