// `npm run oci` (envoy/istio/oci.sh) without Docker or oras on this machine:
// stand-ins on PATH record what the script asks of them, so the flags that make
// the image pullable by Istio (linux/amd64, no provenance index; or the Wasm
// artifact media types) are checked, as is the exact file that gets pushed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FILTER_WASM, REPO, requireFilterWasm } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-oci-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const log = join(dir, 'calls.log');

// Each stand-in appends its argv (one argument a line) and, for oras, what it
// would upload from its working directory.
const STUB = `#!/bin/sh
{ echo "== $(basename "$0")"; for a in "$@"; do echo "$a"; done
  if [ "$(basename "$0")" = oras ]; then echo "-- plugin.wasm $(sha256sum plugin.wasm | cut -d' ' -f1)"; echo "-- runtime-config.json $(cat runtime-config.json)"; fi
} >> "${log}"
`;
const bin = join(dir, 'bin');
spawnSync('mkdir', ['-p', bin]);
for (const tool of ['docker', 'oras']) {
  writeFileSync(join(bin, tool), STUB);
  chmodSync(join(bin, tool), 0o755);
}

function run(args: string[], path = `${bin}:${process.env.PATH}`): { code: number | null; stderr: string; calls: string[] } {
  writeFileSync(log, '');
  const r = spawnSync('/bin/sh', [join(REPO, 'envoy/istio/oci.sh'), ...args], { env: { ...process.env, PATH: path }, encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr, calls: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

describe('npm run oci', () => {
  it('is the script envoy/istio/oci.sh', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.oci, 'sh envoy/istio/oci.sh');
  });

  it('buildx: linux/amd64, no provenance, the scratch Dockerfile, pushed with --push', () => {
    requireFilterWasm();
    const r = run(['registry.example/shadowmesh-filter:0.1.0', '--push']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls, [
      '== docker', 'buildx', 'build', '--platform', 'linux/amd64', '--provenance=false',
      '-f', join(REPO, 'envoy/istio/Dockerfile'), '-t', 'registry.example/shadowmesh-filter:0.1.0', '--push', REPO.replace(/\/$/, ''),
    ]);
  });

  it('buildx without --push loads the image locally instead', () => {
    requireFilterWasm();
    const r = run(['shadowmesh-filter:dev']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.calls.includes('--load'));
    assert.ok(!r.calls.includes('--push'));
  });

  it('oras: pushes build/shadowmesh.wasm as plugin.wasm with the Wasm media types, two layers', () => {
    requireFilterWasm();
    const r = run(['registry.example/shadowmesh-filter:0.1.0', '--oras']);
    assert.equal(r.code, 0, r.stderr);
    const sha = createHash('sha256').update(readFileSync(FILTER_WASM)).digest('hex');
    assert.deepEqual(r.calls.slice(0, 5), [
      '== oras', 'push', 'registry.example/shadowmesh-filter:0.1.0',
      'runtime-config.json:application/vnd.module.wasm.config.v1+json',
      'plugin.wasm:application/vnd.module.wasm.content.layer.v1+wasm',
    ]);
    assert.equal(r.calls[5], `-- plugin.wasm ${sha}`);
    const config = JSON.parse(r.calls[6]!.replace('-- runtime-config.json ', '')) as { type: string; config: { root_ids: string[] } };
    assert.equal(config.type, 'envoy_proxy');
    assert.deepEqual(config.config.root_ids, ['shadowmesh']);
  });

  it('refuses to run without an image, or with an unknown option, exit 2 and the usage', () => {
    for (const args of [[], ['img', '--platform=arm64'], ['a', 'b']]) {
      const r = run(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /usage: npm run oci -- IMAGE/);
      assert.deepEqual(r.calls, []);
    }
  });

  it('names the missing tool', () => {
    requireFilterWasm();
    const bare = join(dir, 'bare');
    spawnSync('mkdir', ['-p', bare]);
    for (const t of ['dirname', 'mktemp', 'cp', 'rm']) {
      const which = spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim();
      try { symlinkSync(which, join(bare, t)); } catch { /* already there */ }
    }
    const r = run(['img', '--oras'], bare);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /oci: oras is not installed/);
  });
});

describe('the filter image', () => {
  it('is FROM scratch with plugin.wasm, and its build context is only the .wasm', () => {
    const text = readFileSync(join(REPO, 'envoy/istio/Dockerfile'), 'utf8');
    const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    assert.deepEqual(lines, ['FROM scratch', 'COPY build/shadowmesh.wasm ./plugin.wasm']);
    const ignore = readFileSync(join(REPO, 'envoy/istio/Dockerfile.dockerignore'), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    assert.deepEqual(ignore, ['*', '!build/shadowmesh.wasm']);
  });
});
