// The benches' command line, parsed one way for all of them: node's util.parseArgs
// in strict mode, plus numbers checked. An unknown flag, a flag without its value,
// a value that is not a number of the right kind or a stray argument stops the
// bench with what was wrong and its usage line (exit 2), rather than being ignored
// and giving figures for a run nobody asked for.
import { relative } from 'node:path';
import { parseArgs } from 'node:util';

/** Counts (records, rounds…) are integers; seconds and rates may have a fraction. Neither is negative. */
type NumberFlag = { type: 'integer' | 'number'; default: number; min?: number };
type StringFlag = { type: 'string'; default?: string };
type BooleanFlag = { type: 'boolean' };
export type BenchFlag = NumberFlag | StringFlag | BooleanFlag;

type FlagValue<F extends BenchFlag> = F extends NumberFlag ? number : F extends BooleanFlag ? boolean : F extends { default: string } ? string : string | undefined;
export type BenchFlagValues<F extends Record<string, BenchFlag>> = { [K in keyof F]: FlagValue<F[K]> };

export interface BenchArgsSpec<F extends Record<string, BenchFlag>, P> {
  /** The usage line after the script's name, e.g. `[--records N] [--rounds R]`. */
  usage: string;
  /** By name without the leading `--`. */
  flags: F;
  /** Converts the arguments that are not flags (throw a UsageError for bad ones); without it there must be none. */
  positionals?: (args: string[]) => P;
}

/** A flag that counts something (records, rounds, connections…): an integer of at least 1. */
export const count = (byDefault: number): NumberFlag => ({ type: 'integer', default: byDefault, min: 1 });

/** A bad command line: the message says what was wrong. */
export class UsageError extends Error {}

/** `text` as a number of the flag's kind, at least `min` (0 unless given). */
export function numberArg(what: string, text: string, kind: 'integer' | 'number', min = 0): number {
  const n = text.trim() === '' ? Number.NaN : Number(text);
  if (!(kind === 'integer' ? Number.isInteger(n) : Number.isFinite(n)) || n < min) {
    throw new UsageError(`${what} takes ${kind === 'integer' ? 'an integer' : 'a number'}${min > 0 ? ` of at least ${min}` : ' (0 or more)'}, not ${JSON.stringify(text)}`);
  }
  return n;
}

/** Parses `argv` (the arguments after the script) against `spec`; throws UsageError. */
export function parseBenchArgs<const F extends Record<string, BenchFlag>, P = never[]>(spec: BenchArgsSpec<F, P>, argv: string[]): BenchFlagValues<F> & { positionals: P } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries(spec.flags).map(([name, f]) => [name, { type: f.type === 'boolean' ? 'boolean' : 'string' } as const])),
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    // parseArgs's own messages name the flag ("Unknown option '--recods'", "Option '--rounds <value>' argument missing").
    throw new UsageError((err as Error).message);
  }
  const values: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(spec.flags)) {
    const given = parsed.values[name];
    if (f.type === 'boolean') values[name] = given === true;
    else if (f.type === 'string') values[name] = given ?? f.default;
    else values[name] = given === undefined ? f.default : numberArg(`--${name}`, String(given), f.type, f.min);
  }
  if (!spec.positionals && parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[0])}`);
  const positionals = spec.positionals ? spec.positionals(parsed.positionals) : ([] as P);
  return Object.assign(values as BenchFlagValues<F>, { positionals });
}

/** This process's command line parsed against `spec`; on a bad one prints why and the usage line, and exits 2. */
export function benchArgs<const F extends Record<string, BenchFlag>, P = never[]>(spec: BenchArgsSpec<F, P>): BenchFlagValues<F> & { positionals: P } {
  try {
    return parseBenchArgs(spec, process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    const script = relative(process.cwd(), process.argv[1] ?? 'bench');
    console.error(`${script}: ${err.message}\nusage: ${script} ${spec.usage}`);
    process.exit(2);
  }
}
