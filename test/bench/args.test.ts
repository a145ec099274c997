// The benches' shared command line (bench/args.ts): defaults, typed values, and a
// refusal naming what was wrong for an unknown flag, a missing or malformed value
// or a stray argument, where the benches used to ignore them and run anyway.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { parseBenchArgs, UsageError } from '../../bench/args.js';
import { ROOT } from '../collector/helpers.js';

const spec = {
  usage: '[--records N] [--seconds S] [--before DIR] [--floor]',
  flags: {
    records: { type: 'integer', default: 200, min: 1 },
    seconds: { type: 'number', default: 5 },
    before: { type: 'string' },
    floor: { type: 'boolean' },
  },
} as const;

test('defaults when nothing is given; values typed when given', () => {
  assert.deepEqual({ ...parseBenchArgs(spec, []) }, { records: 200, seconds: 5, before: undefined, floor: false, positionals: [] });
  assert.deepEqual(
    { ...parseBenchArgs(spec, ['--records', '3200', '--seconds=2.5', '--before', '/tmp/x', '--floor']) },
    { records: 3200, seconds: 2.5, before: '/tmp/x', floor: true, positionals: [] },
  );
});

test('an unknown flag, a missing value, a malformed number or a stray argument is refused, naming it', () => {
  const refused = (argv: string[], message: RegExp): void => assert.throws(() => parseBenchArgs(spec, argv), (e: unknown) => e instanceof UsageError && message.test(e.message));
  refused(['--recods', '10'], /--recods/);
  refused(['--records'], /--records/);
  refused(['--records', 'many'], /--records takes an integer of at least 1, not "many"/);
  refused(['--records', '1.5'], /--records takes an integer/);
  refused(['--records', '0'], /at least 1/);
  refused(['--seconds', ''], /--seconds takes a number \(0 or more\), not ""/);
  refused(['--floor=yes'], /--floor/);
  refused(['3200'], /unexpected argument "3200"/);
});

test('positionals go through the script\'s converter, whose UsageError is the refusal', () => {
  const files = (p: string[]): string[] => {
    if (p.length === 0) throw new UsageError('no file given');
    return p;
  };
  const withFiles = { ...spec, positionals: files };
  assert.deepEqual(parseBenchArgs(withFiles, ['a', '--floor', 'b']).positionals, ['a', 'b']);
  assert.throws(() => parseBenchArgs(withFiles, []), /no file given/);
});

test('a bench given a misspelt flag exits 2 with the reason and its usage before doing any work', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/collector/floor.ts', '--record', '3200'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^bench\/collector\/floor\.ts: Unknown option '--record'/);
  assert.match(r.stderr, /\nusage: bench\/collector\/floor\.ts \[--records N\] \[--rounds R\]\n$/);
});
