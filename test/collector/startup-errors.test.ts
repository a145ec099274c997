// Start-up mistakes a new user makes, against the real CLI: each is one line on
// stderr that says what to do, with the documented exit code, and no stack trace.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCollectorToExit, tempDir } from './helpers.js';

const ROOT_DIR = fileURLToPath(new URL('../..', import.meta.url));

/** The lines meant for a person: the structured log (JSON lines, also on stderr) aside. */
function lines(s: string): string[] {
  return s.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
}

test('a port already in use: one line naming host:port, exit 1', async (t) => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  t.after(() => taken.close());
  const port = (taken.address() as AddressInfo).port;
  const r = await runCollectorToExit(['--db', ':memory:', '--port', String(port)]);
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(lines(r.stderr), [`shadowmesh collector: cannot listen on 127.0.0.1:${port}: the address is already in use (another collector? pick another --port)`]);
});

test('a YAML syntax error: one line naming the file, line and column, exit 2', async (t) => {
  const dir = tempDir(t);
  const cases: Array<[string, string, string]> = [
    ['bracket.yaml', 'routes:\n  predict:\n    ignore: ["/a"\n  other: {}\n', 'line 4, column 3'],
    ['tab.yaml', 'routes:\n\tpredict: {}\n', 'line 2, column 1'],
    ['dup.yaml', 'verdict:\n  min_pairs: 1\n  min_pairs: 2\n', 'line 3, column 3'],
  ];
  for (const [name, text, at] of cases) {
    const file = join(dir, name);
    writeFileSync(file, text);
    const r = await runCollectorToExit(['--db', ':memory:', '--config', file]);
    assert.equal(r.code, 2, `${name}: ${r.stderr}`);
    const out = lines(r.stderr);
    assert.equal(out.length, 1, `${name}: ${r.stderr}`);
    assert.match(out[0]!, new RegExp(`^shadowmesh collector: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${at}: invalid YAML: \\S`), name);
  }
});

test('a postgres:// database that cannot be reached: one line naming host:port/db, exit 1, no password echoed', async () => {
  const r = await runCollectorToExit(['--db', 'postgres://user:s3cret@127.0.0.1:1/db']);
  assert.equal(r.code, 1, r.stderr);
  const out = lines(r.stderr);
  assert.equal(out.length, 1, r.stderr);
  assert.match(out[0]!, /^shadowmesh collector: cannot reach PostgreSQL at 127\.0\.0\.1:1\/db: \S/);
  // Neither the human line nor the structured log carries the password.
  assert.doesNotMatch(r.stderr, /s3cret/);
  assert.equal(existsSync(join(ROOT_DIR, 'postgres:')), false);
});

test('--ingest-thread-timeout-ms that is not a whole number of at least 100: one line naming the flag, exit 1', async () => {
  for (const [value, why] of [['50', 'must be between 100 and 2147483647'], ['1e4', 'must be a whole number'], ['2147483648', 'must be between 100 and 2147483647']] as const) {
    const r = await runCollectorToExit(['--db', ':memory:', '--ingest-thread-timeout-ms', value]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`option '--ingest-thread-timeout-ms <ms>' argument '${value}' is invalid\\. ${why}`));
  }
});
