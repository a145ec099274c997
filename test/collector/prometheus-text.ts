// Test helpers for GET /metrics: promtool (Debian's prometheus package) checks the
// text, and a reader of sample lines looks values up by name and labels.
import { spawn } from 'node:child_process';

export interface PromtoolResult {
  code: number | null;
  output: string;
}

/** `promtool check metrics` on `text` (exit 0 clean, 3 lint problems, 1 parse error). */
export function promtoolCheckMetrics(text: string): Promise<PromtoolResult> {
  return promtool(['check', 'metrics'], text);
}

export function promtool(args: string[], stdin?: string): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn('promtool', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, output }));
    proc.stdin.end(stdin ?? '');
  });
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;

/** The sample lines of an exposition (the format promtool has already validated). */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      LABEL.lastIndex = 0;
      let l: RegExpExecArray | null;
      while ((l = LABEL.exec(m[2])) !== null) {
        labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      }
    }
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

export class Scrape {
  readonly samples: Sample[];
  constructor(readonly text: string) {
    this.samples = parseSamples(text);
  }

  /** Every sample of `name` whose labels include `labels`. */
  all(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** The one value of `name` with exactly these labels, or undefined when there is no such series. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const keys = Object.keys(labels).length;
    const found = this.all(name, labels).filter((s) => Object.keys(s.labels).length === keys);
    if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} has ${found.length} series`);
    return found[0]?.value;
  }

  /** Names of the metric families the exposition declares (# TYPE lines). */
  families(): Set<string> {
    const names = new Set<string>();
    for (const line of this.text.split('\n')) {
      const m = /^# TYPE (\S+) \S+$/.exec(line);
      if (m) names.add(m[1]!);
    }
    return names;
  }
}

export async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return new Scrape(await res.text());
}
