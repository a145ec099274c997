// `npm run build:ts`: src/**/*.ts → build/dist/**/*.js, one file each, types stripped.
// Type checking is `npm run typecheck` (tsc over src, test, bench and scripts, run by
// `npm test` and CI); the build only needs runnable JavaScript, and tsc spent ~13 s of a
// fresh clone's `npm start` checking what typecheck checks again (BENCHMARKS.md,
// "First run"). esbuild is the transpiler tsx already runs every test's sources with.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const entryPoints = readdirSync('src', { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .map((f) => join('src', f));
rmSync('build/dist', { recursive: true, force: true });
await build({
  entryPoints,
  outdir: 'build/dist',
  outbase: 'src',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
});
