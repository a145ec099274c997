// `shadowmesh verdict --url URL [--route R] [--token T] [--json] [--wait D] [--interval D]`:
// prints the collector's verdict; exit 0 promote, 2 hold, 3 reject, 1 error. For CI/CD gates.
import { Command } from 'commander';
import type { Decision, Verdict } from '../collector/verdict/decide.js';
import { CliError, requestJson, UnreachableError } from './collector-client.js';
import { parseDuration } from './duration.js';
import { verdictTable } from './verdict-table.js';

export const EXIT: Record<Decision, number> = { promote: 0, hold: 2, reject: 3 };

interface VerdictFlags {
  url: string;
  route?: string;
  token?: string;
  json?: boolean;
  wait?: number;
  interval: number;
}

function isVerdict(v: unknown): v is Verdict {
  const d = (v as { decision?: unknown } | null)?.decision;
  return d === 'promote' || d === 'hold' || d === 'reject';
}

async function fetchVerdict(f: VerdictFlags): Promise<Verdict> {
  const path = f.route ? `v1/verdict?route=${encodeURIComponent(f.route)}` : 'v1/verdict';
  const v = await requestJson({ url: f.url, token: f.token }, 'GET', path);
  if (!isVerdict(v)) throw new CliError(`the collector at ${f.url} answered something that is not a verdict`);
  return v;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function run(f: VerdictFlags): Promise<number> {
  const deadline = f.wait === undefined ? null : Date.now() + f.wait;
  let v: Verdict | null = null;
  let lastError: CliError | null = null;
  for (;;) {
    try {
      const next = await fetchVerdict(f);
      if (deadline !== null && v?.decision !== next.decision && next.decision === 'hold') process.stderr.write(`hold: ${next.summary}\n`);
      v = next;
      lastError = null;
    } catch (err) {
      // While waiting, a collector that is briefly away (a restart) is waited for too.
      if (!(err instanceof UnreachableError) || deadline === null) throw err;
      lastError = err;
    }
    if (deadline === null || (v !== null && v.decision !== 'hold' && lastError === null)) break;
    const left = deadline - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(f.interval, left));
  }
  if (v === null || lastError) throw lastError ?? new CliError('no verdict');
  process.stdout.write(f.json ? JSON.stringify(v, null, 2) + '\n' : verdictTable(v));
  return EXIT[v.decision];
}

export function register(program: Command): void {
  program
    .command('verdict')
    .description('print the collector\'s promote / hold / reject decision; exit 0 promote, 2 hold, 3 reject, 1 error')
    .requiredOption('--url <url>', 'the collector, e.g. http://127.0.0.1:8700')
    .option('--route <route>', 'one route (default: all routes together)')
    .option('--token <token>', 'bearer token for the collector (its --read-token)')
    .option('--json', 'print the verdict object as JSON')
    .option('--wait <duration>', 'poll until promote or reject, or until this much time has passed (then hold)', parseDuration)
    .option('--interval <duration>', 'time between polls with --wait', parseDuration, 10_000)
    .showHelpAfterError(false)
    .action(async (flags: VerdictFlags) => {
      try {
        process.exitCode = await run(flags);
      } catch (err) {
        if (!(err instanceof CliError)) throw err;
        process.stderr.write(`shadowmesh verdict: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
}
