// `npm run build`: the filter (asc) and the TypeScript (esbuild, scripts/transpile.mjs)
// at the same time. They share nothing, so on a 2-core machine side by side takes the
// time of the longer one, asc's (BENCHMARKS.md, "First run"). Fails when either fails,
// after both have ended.
import { spawn } from 'node:child_process';

const steps = ['build:wasm', 'build:ts'];
const npm = process.env.npm_execpath;
const codes = await Promise.all(
  steps.map(
    (step) =>
      new Promise((resolve) => {
        // Under npm, npm_execpath is npm's own CLI script: run it with this node, no shell.
        const child = npm ? spawn(process.execPath, [npm, 'run', '--silent', step], { stdio: 'inherit' }) : spawn('npm', ['run', '--silent', step], { stdio: 'inherit' });
        child.once('error', (err) => {
          console.error(`build: ${step}: ${err.message}`);
          resolve(1);
        });
        child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
      }),
  ),
);
const failed = steps.filter((_, i) => codes[i] !== 0);
if (failed.length > 0) {
  console.error(`build: ${failed.join(' and ')} failed`);
  process.exit(1);
}
