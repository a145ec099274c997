// Command-line mistakes: every subcommand names the unknown flag first and
// exits 1, and a bad flag value exits 1 with the flag named.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../sidecar/helpers.js';

async function subcommands(): Promise<string[]> {
  const r = await runCli(['--help']);
  const section = r.stdout.split(/^Commands:$/m)[1] ?? '';
  const names = [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
  assert.ok(names.includes('collector') && names.includes('sidecar'), `subcommands from --help: ${names.join(', ')}`);
  return names;
}

function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim() !== '') ?? '';
}

test('every subcommand reports an unknown flag first, and exits 1', async () => {
  for (const cmd of await subcommands()) {
    const r = await runCli([cmd, '--no-such-flag', 'x']);
    assert.equal(r.code, 1, `${cmd}: exit code; stderr: ${r.stderr}`);
    assert.equal(firstLine(r.stderr), "error: unknown option '--no-such-flag'", `${cmd}: ${r.stderr}`);
  }
});

test('sidecar --config x names --config, not the missing --envoy-config', async () => {
  const r = await runCli(['sidecar', '--config', 'x']);
  assert.equal(r.code, 1);
  assert.equal(firstLine(r.stderr), "error: unknown option '--config'");
  assert.doesNotMatch(r.stderr, /required option/);
});

test('a missing required option is still reported once the flags are known', async () => {
  const r = await runCli(['sidecar', '--port', '0']);
  assert.equal(r.code, 1);
  assert.equal(firstLine(r.stderr), "error: required option '--envoy-config <file>' not specified");
});

test('bad collector flag values exit 1 naming the flag', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--port', 'abc'], /'--port <port>' argument 'abc' is invalid/],
    [['--port', '70000'], /'--port <port>' argument '70000' is invalid/],
    [['--sync', 'sometimes'], /'--sync <mode>' argument 'sometimes' is invalid/],
    [['--join-window-ms', '0'], /'--join-window-ms <ms>' argument '0' is invalid/],
    [['--max-body-bytes', '-1'], /'--max-body-bytes <n>' argument '-1' is invalid/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(['collector', '--db', ':memory:', ...args]);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(firstLine(r.stderr), message);
    assert.equal(r.stdout, '', `${args.join(' ')} must not start listening`);
  }
});
