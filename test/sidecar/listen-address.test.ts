// The CLI binds loopback unless told otherwise: envoy/envoy.yaml says 0.0.0.0
// (for a container), and a laptop run must not expose the listener or the admin.
// 127.0.0.2 is loopback too on Linux, but only a socket bound to 0.0.0.0 answers there.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { test } from 'node:test';
import { FILTER_WASM, runCli, spawnCli } from './helpers.js';

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/ready', agent: false }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

const args = ['sidecar', '--envoy-config', 'envoy/envoy.yaml', '--wasm', 'build/shadowmesh.wasm', '--port', '0', '--admin-port', '0',
  '--resolve', 'production=127.0.0.1:1', '--resolve', 'shadow=127.0.0.1:1', '--resolve', 'collector=127.0.0.1:1'];

function ports(output: string): { listener: number; admin: number } {
  const listener = /listening on http:\/\/[^:]+:(\d+)/.exec(output);
  const admin = /admin on http:\/\/(\S+):(\d+)/.exec(output);
  assert.ok(listener && admin, output);
  return { listener: Number(listener[1]), admin: Number(admin[2]) };
}

test('build/shadowmesh.wasm exists (run npm run build:wasm)', () => {
  assert.ok(existsSync(FILTER_WASM), `${FILTER_WASM} is missing: run npm run build:wasm`);
});

test('by default the listener and the admin bind 127.0.0.1 only', async () => {
  const cli = await spawnCli(args, /admin on (http:\/\/\S+)/);
  try {
    const p = ports(cli.output());
    assert.match(cli.output(), /admin on http:\/\/127\.0\.0\.1:/);
    assert.equal(await reachable('127.0.0.1', p.admin), true);
    assert.equal(await reachable('127.0.0.1', p.listener), true);
    assert.equal(await reachable('127.0.0.2', p.admin), false, 'admin reachable beyond 127.0.0.1');
    assert.equal(await reachable('127.0.0.2', p.listener), false, 'listener reachable beyond 127.0.0.1');
  } finally {
    await cli.stop();
  }
});

test('--listen-all binds the YAML\'s 0.0.0.0 and says so', async () => {
  const cli = await spawnCli([...args, '--listen-all'], /admin on (http:\/\/\S+)/);
  try {
    const p = ports(cli.output());
    assert.match(cli.output(), /\(listener ingress, bound to 0\.0\.0\.0: every interface\)/);
    assert.match(cli.output(), /admin on http:\/\/0\.0\.0\.0:/);
    assert.equal(await reachable('127.0.0.2', p.admin), true);
    assert.equal(await reachable('127.0.0.2', p.listener), true);
  } finally {
    await cli.stop();
  }
});

test('--listen-address picks one address; with --listen-all it is an error', async () => {
  const cli = await spawnCli([...args, '--listen-address', '127.0.0.2'], /admin on (http:\/\/\S+)/);
  try {
    const p = ports(cli.output());
    assert.equal(await reachable('127.0.0.2', p.listener), true);
    assert.equal(await reachable('127.0.0.1', p.listener), false);
  } finally {
    await cli.stop();
  }
  const r = await runCli([...args, '--listen-all', '--listen-address', '0.0.0.0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--listen-all: cannot be combined with --listen-address/);
});
