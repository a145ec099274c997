// Builds the published-SDK baseline filter once (its own npm project, with the
// older AssemblyScript it needs). Started from `npm run`, whose PATH puts
// node_modules/.bin first, where as-pect's dependencies leave an npm 6 that
// cannot read this lock file: so run the npm that started us, with the npm_*
// variables of the outer project cleared.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
if (existsSync(new URL('build/sdk_filter.wasm', import.meta.url))) process.exit(0);

const npmCli = process.env.npm_execpath;
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
for (const args of [['ci', '--no-audit', '--no-fund'], ['run', 'build']]) {
  const r = npmCli
    ? spawnSync(process.execPath, [npmCli, ...args], { cwd: dir, env, stdio: 'inherit' })
    : spawnSync('npm', args, { cwd: dir, env, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`sdk-baseline: npm ${args.join(' ')} failed`);
    process.exit(r.status ?? 1);
  }
}
