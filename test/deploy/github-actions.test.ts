// The GitHub Actions gate (deploy/gates/github-actions.yml): its verdict step's
// script is run with bash as a runner would, with a stand-in for npx (no
// registry here) that exits with each of `shadowmesh verdict`'s codes, and the
// decision it reports, the job summary and the step's exit code are checked.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type Manifest, yamlDocs } from './support.js';

const [workflow] = yamlDocs('deploy/gates/github-actions.yml') as [Manifest];
const verdictJob = workflow.jobs.verdict as Manifest;
const step = (verdictJob.steps as Manifest[]).find((s) => s.id === 'verdict')!;

const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-gha-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'npx'), `#!/bin/sh
for a in "$@"; do echo "$a"; done > "$ARGS_FILE"
echo '{"decision":"stub"}'
exit "$STUB_EXIT"
`);
chmodSync(join(dir, 'npx'), 0o755);

function runStep(exit: number, token = ''): { code: number | null; output: string; summary: string; args: string[] } {
  const out = join(dir, 'output');
  const summary = join(dir, 'summary');
  const argsFile = join(dir, 'args');
  for (const f of [out, summary, argsFile]) writeFileSync(f, '');
  const r = spawnSync('bash', ['-e', '-c', step.run], {
    cwd: dir,
    encoding: 'utf8',
    env: {
      PATH: `${dir}:${process.env.PATH}`, GITHUB_OUTPUT: out, GITHUB_STEP_SUMMARY: summary, ARGS_FILE: argsFile, STUB_EXIT: String(exit),
      SHADOWMESH_URL: 'http://collector:8700', SHADOWMESH_TOKEN: token, ROUTE: 'predict', WAIT: '30m',
    },
  });
  return { code: r.status, output: readFileSync(out, 'utf8'), summary: readFileSync(summary, 'utf8'), args: readFileSync(argsFile, 'utf8').split('\n').filter(Boolean) };
}

describe('the GitHub Actions gate', () => {
  it('runs `shadowmesh verdict --wait` with the URL, route and wait, pinned to a version', () => {
    const r = runStep(0);
    assert.deepEqual(r.args, ['--yes', 'shadowmesh@0.1.0', 'verdict', '--url', 'http://collector:8700', '--route', 'predict', '--wait', '30m', '--json']);
  });

  it('passes --token only when the secret is set', () => {
    assert.deepEqual(runStep(0, 's3cret').args.slice(-2), ['--token', 's3cret']);
  });

  for (const [exit, decision] of [[0, 'promote'], [2, 'hold'], [3, 'reject'], [1, 'error'], [9, 'error']] as const) {
    it(`exit ${exit} → decision ${decision}, and the step exits ${exit}`, () => {
      const r = runStep(exit);
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
    assert.doesNotMatch(step.run, /\$\{\{/, 'inputs reach the script through env, never pasted into it');
    assert.ok(verdictJob['timeout-minutes'] > 30, 'the job outlives the default --wait');
  });
});
