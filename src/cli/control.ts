// `shadowmesh pause` / `shadowmesh resume`: set or clear the collector's remote
// control, which every filter applies within one flush (sampling 0 stops mirroring).
import { Command } from 'commander';
import { CliError, requestJson } from './collector-client.js';

interface ControlFlags {
  url: string;
  route?: string;
  token?: string;
  readToken?: string;
}

type Control = { sample_percent?: Record<string, number> };

async function change(f: ControlFlags, pause: boolean): Promise<Control> {
  const write = { url: f.url, token: f.token };
  if (f.route === undefined) {
    // All routes: pausing replaces every per-route value (a route's own value would
    // otherwise win over "*"); resuming clears the control.
    return (await requestJson(write, 'PUT', 'v1/control', pause ? { sample_percent: { '*': 0 } } : {})) as Control;
  }
  const current = (await requestJson({ url: f.url, token: f.readToken ?? f.token }, 'GET', 'v1/control')) as Control;
  const sp = { ...(current.sample_percent ?? {}) };
  if (pause) sp[f.route] = 0;
  else delete sp[f.route];
  return (await requestJson(write, 'PUT', 'v1/control', Object.keys(sp).length > 0 ? { sample_percent: sp } : {})) as Control;
}

function command(program: Command, name: 'pause' | 'resume', description: string): void {
  program
    .command(name)
    .description(description)
    .requiredOption('--url <url>', 'the collector, e.g. http://127.0.0.1:8700')
    .option('--route <route>', 'only this route (default: every route)')
    .option('--token <token>', 'the collector\'s write token (--token)')
    .option('--read-token <token>', 'the collector\'s read token, when it differs (needed with --route)')
    .showHelpAfterError(false)
    .action(async (flags: ControlFlags) => {
      try {
        const now = await change(flags, name === 'pause');
        const scope = flags.route === undefined ? 'every route' : `route ${flags.route}`;
        process.stdout.write(`${name === 'pause' ? 'paused' : 'resumed'} ${scope}; control is now ${JSON.stringify(now)}\n`);
      } catch (err) {
        if (!(err instanceof CliError)) throw err;
        process.stderr.write(`shadowmesh ${name}: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
}

export function register(program: Command): void {
  command(program, 'pause', 'stop shadow mirroring now (sample_percent 0 through the collector)');
  command(program, 'resume', 'undo pause: filters go back to their configured sampling');
}
