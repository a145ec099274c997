#!/usr/bin/env node
// Thin launcher: the CLI is compiled by `npm run build` into build/dist.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../build/dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('shadowmesh: build/dist is missing; run `npm run build` first');
  process.exit(1);
}
await import(main.href);
