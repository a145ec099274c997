// The GitHub Actions gate's verdict step (deploy/gates/github-actions.yml), run
// with bash as a runner would. `npx` is replaced on PATH: either by a stand-in
// that records its arguments and exits with a chosen code, or by one that only
// skips the registry and runs this checkout's CLI with the same arguments.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, type Manifest, yamlDocs } from './support.js';

export const workflow = yamlDocs('deploy/gates/github-actions.yml')[0]!;
export const verdictJob = workflow.jobs.verdict as Manifest;
export const verdictStep = (verdictJob.steps as Manifest[]).find((s) => s.id === 'verdict')!;

export interface StepRun {
  readonly code: number | null;
  /** What the step wrote to $GITHUB_OUTPUT. */
  readonly output: string;
  readonly summary: string;
  /** Arguments the recording stand-in received (empty with the real CLI). */
  readonly args: readonly string[];
}

export interface StepOptions {
  /** 'record': npx exits with `exit`; 'cli': npx runs this checkout's shadowmesh. */
  readonly npx: 'record' | 'cli';
  readonly exit?: number;
  readonly env?: Readonly<Record<string, string>>;
}

export class StepRunner {
  private readonly dir = mkdtempSync(join(tmpdir(), 'shadowmesh-gha-'));

  constructor() {
    mkdirSync(join(this.dir, 'record'));
    mkdirSync(join(this.dir, 'cli'));
    writeFileSync(join(this.dir, 'record', 'npx'), '#!/bin/sh\nfor a in "$@"; do echo "$a"; done > "$ARGS_FILE"\necho \'{"decision":"stub"}\'\nexit "$STUB_EXIT"\n');
    writeFileSync(join(this.dir, 'cli', 'npx'), `#!/bin/sh
[ "$1" = --yes ] && shift
case "$1" in shadowmesh@*) shift ;; *) echo "npx stand-in: expected shadowmesh@VERSION, got $1" >&2; exit 99 ;; esac
exec "${process.execPath}" "${join(REPO, 'bin/shadowmesh.js')}" "$@"
`);
    for (const k of ['record', 'cli']) chmodSync(join(this.dir, k, 'npx'), 0o755);
  }

  run(opts: StepOptions): StepRun {
    const files = { output: join(this.dir, 'output'), summary: join(this.dir, 'summary'), args: join(this.dir, 'args') };
    for (const f of Object.values(files)) writeFileSync(f, '');
    const r = spawnSync('bash', ['-e', '-c', verdictStep.run as string], {
      cwd: this.dir,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        PATH: `${join(this.dir, opts.npx)}:${process.env.PATH}`,
        GITHUB_OUTPUT: files.output,
        GITHUB_STEP_SUMMARY: files.summary,
        ARGS_FILE: files.args,
        STUB_EXIT: String(opts.exit ?? 0),
        SHADOWMESH_URL: 'http://collector:8700',
        SHADOWMESH_TOKEN: '',
        ROUTE: 'predict',
        WAIT: '30m',
        ...opts.env,
      },
    });
    return {
      code: r.status,
      output: readFileSync(files.output, 'utf8'),
      summary: readFileSync(files.summary, 'utf8'),
      args: readFileSync(files.args, 'utf8').split('\n').filter(Boolean),
    };
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
