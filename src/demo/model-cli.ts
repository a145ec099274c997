// `shadowmesh model --version v1|v2 [--port 8001] [--host 127.0.0.1]`
import { type Command, InvalidArgumentError, Option } from 'commander';
import { EXIT_WITH_PARENT } from './processes.js';
import { MODEL_VERSIONS, type ModelVersion, startModelServer, VERSION_DEFAULTS } from './model-server.js';

function whole(min: number, max: number) {
  return (value: string): number => {
    if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return Number(value);
  };
}

interface ModelFlags {
  version: ModelVersion;
  port: number;
  host: string;
  delayMs?: number;
  failEvery?: number;
}

export function register(program: Command): void {
  program
    .command('model')
    .description('serve one version of the demo rain model: POST /predict → {label, score, model_version, served_at}')
    .addOption(new Option('--version <v>', 'model version (models/<v>.json)').choices(MODEL_VERSIONS).makeOptionMandatory())
    .option('--port <port>', 'port to listen on (0 = any free port)', whole(0, 65535), 8001)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--delay-ms <ms>', 'extra latency per prediction [v1: 0, v2: 1]', whole(0, 60_000))
    .option('--fail-every <n>', 'answer 500 on every n-th prediction, 0 = never [v1: 0, v2: 200]', whole(0, 1_000_000))
    .action(async (flags: ModelFlags) => {
      const defaults = VERSION_DEFAULTS[flags.version];
      let server;
      try {
        server = await startModelServer({
          version: flags.version,
          host: flags.host,
          port: flags.port,
          delayMs: flags.delayMs ?? defaults.delayMs,
          failEvery: flags.failEvery ?? defaults.failEvery,
        });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        process.stderr.write(`shadowmesh model: ${e.code === 'EADDRINUSE' ? `${flags.host}:${flags.port} is already in use` : e.message}\n`);
        process.exit(1);
      }
      process.stdout.write(`model ${flags.version} listening on ${server.url}\n`);
      const stop = (): void => {
        void server.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      if (process.env[EXIT_WITH_PARENT] === '1') {
        process.stdin.once('close', stop).resume();
      }
    });
}
