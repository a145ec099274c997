// `shadowmesh demo [--requests N] [--once]` (contract §5).
import { type Command, InvalidArgumentError } from 'commander';
import { runDemo } from './demo.js';

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new InvalidArgumentError('must be a whole number from 1 to 100000');
  return n;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('run the local stack (two model versions, collector, sidecar with the filter), send traffic, print the comparison')
    .option('--requests <n>', 'requests to send through the sidecar', positive, 300)
    .option('--once', 'exit after the report instead of keeping the stack up')
    .action(async (flags: { requests: number; once?: boolean }) => {
      const run = await runDemo({ requests: flags.requests });
      const t = run.traffic;
      process.stdout.write(
        `\nsent ${t.sent} requests through the sidecar: ${t.ok} answered by production, ${t.failed} failed, ` +
          `${t.notFromProduction} answers not from production\n\n${run.report}\n`,
      );
      const healthy = t.failed === 0 && t.notFromProduction === 0 && run.stats.total.pairs > 0;
      if (flags.once) {
        await run.close();
        process.exitCode = healthy ? 0 : 1;
        return;
      }
      process.stdout.write(
        `\nthe stack keeps running (Ctrl-C to stop):\n  sidecar   ${run.urls.sidecar}/predict\n  collector ${run.urls.collector}/v1/stats\n`,
      );
      const stop = (): void => {
        void run.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
