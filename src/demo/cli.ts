// `shadowmesh demo [--requests N] [--once] [--db FILE]` (contract §5).
import { type Command, InvalidArgumentError } from 'commander';
import { runDemo } from './demo.js';

function positive(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < 1 || n > 100_000) throw new InvalidArgumentError('must be a whole number from 1 to 100000');
  return n;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('run the local stack (v1 in production, v2 as shadow, v1 as baseline, collector, sidecar with the filter), send held-out traffic and labels, print the report')
    .option('--requests <n>', 'requests to send through the sidecar', positive, 2000)
    .option('--once', 'exit after the report instead of keeping the stack up')
    .option('--db <file>', 'keep the collector database in this file (default: a temporary file, deleted at the end)')
    .action(async (flags: { requests: number; once?: boolean; db?: string }) => {
      const started = Date.now();
      const run = await runDemo({ requests: flags.requests, ...(flags.db !== undefined ? { db: flags.db } : {}) });
      const t = run.traffic;
      const f = run.feedback;
      process.stdout.write(
        [
          '',
          `shadowmesh demo: rain model v1 in production, v2 as shadow${run.baseline ? ', v1 again as baseline' : ''} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
          `sent ${t.sent} held-out days through the sidecar: ${t.ok} answered by production, ${t.failed} failed, ${t.notFromProduction} answers not from production`,
          f.accepted === null ? 'no ground truth posted: this collector has no POST /v1/feedback' : `posted the true label of ${f.accepted} of them to POST /v1/feedback`,
          '',
          run.report,
          '',
        ].join('\n'),
      );
      const healthy = t.failed === 0 && t.notFromProduction === 0 && run.stats.total.pairs > 0;
      if (flags.once) {
        await run.close();
        process.exitCode = healthy ? 0 : 1;
        return;
      }
      process.stdout.write(
        [
          'the stack keeps running; Ctrl-C stops every part of it:',
          `  sidecar    ${run.urls.sidecar}/predict${run.urls.admin ? `   (admin ${run.urls.admin}/stats)` : ''}`,
          `  collector  ${run.urls.collector}/v1/stats   ${run.urls.collector}/v1/verdict   ${run.urls.collector}/metrics`,
          `  models     production ${run.urls.production}, shadow ${run.urls.shadow}${run.urls.baseline ? `, baseline ${run.urls.baseline}` : ''}`,
          '',
        ].join('\n'),
      );
      const stop = (): void => {
        void run.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
