// Progress of the demo's traffic: a bar on a terminal, a few plain lines otherwise
// (CI logs, pipes), so the output stays readable in both.
import cliProgress from 'cli-progress';

export interface Progress {
  tick(): void;
  stop(): void;
}

export function progress(total: number, label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {value}/{total} {percentage}% | {duration}s`, stream, hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { tick: () => bar.increment(), stop: () => bar.stop() };
  }
  // Plain lines at every tenth, and at the end.
  let done = 0;
  const step = Math.max(1, Math.ceil(total / 10));
  return {
    tick() {
      done++;
      if (done % step === 0 || done === total) stream.write(`${label}: ${done}/${total}\n`);
    },
    stop() {},
  };
}
