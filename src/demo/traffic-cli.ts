// `shadowmesh traffic --target URL [--requests N] [--collector URL]`: the demo's
// traffic and ground truth against a stack started by hand, so it gives the
// demo's numbers.
import { type Command, InvalidArgumentError } from 'commander';
import { labelled, postFeedback } from './feedback.js';
import { progress } from './progress.js';
import { drawRows, loadHeldOut, sendTraffic } from './traffic.js';

function whole(min: number, max: number) {
  return (value: string): number => {
    if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return Number(value);
  };
}

function baseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('must be a URL like http://127.0.0.1:10000');
  }
  if (url.protocol !== 'http:') throw new InvalidArgumentError('must be an http:// URL');
  return url.origin;
}

interface TrafficFlags {
  target: string;
  requests: number;
  collector?: string;
  labelEvery: number;
}

export function register(program: Command): void {
  program
    .command('traffic')
    .description('send held-out days to POST TARGET/predict, each with its own correlation id, and post the true labels of some to the collector')
    .requiredOption('--target <url>', 'where the requests go (the sidecar or Envoy listener)', baseUrl)
    .option('--requests <n>', 'requests to send', whole(1, 100_000), 2000)
    .option('--collector <url>', 'post the true labels to URL/v1/feedback', baseUrl)
    .option('--label-every <n>', 'label every n-th request', whole(1, 1_000_000), 2)
    .action(async (flags: TrafficFlags) => {
      const rows = drawRows(loadHeldOut(), flags.requests);
      const bar = progress(rows.length, 'requests');
      const t = await sendTraffic(flags.target, rows, { onDone: () => bar.tick() });
      bar.stop();
      process.stdout.write(`sent ${t.sent} held-out days to ${flags.target}/predict: ${t.ok} answered, ${t.failed} failed\n`);
      if (flags.collector) {
        const f = await postFeedback(flags.collector, labelled(t.requests, flags.labelEvery));
        if (f.accepted === null) {
          process.stderr.write(`shadowmesh traffic: ${flags.collector} has no POST /v1/feedback\n`);
          process.exitCode = 1;
        } else {
          process.stdout.write(`posted ${f.accepted} true labels to ${flags.collector}/v1/feedback (${f.rejected} rejected)\n`);
        }
      }
      if (t.failed > 0) process.exitCode = 1;
    });
}
