// shadowmesh command line. Each part registers its own subcommand so that the
// parts stay independent; see contract §5 in docs/contract.md.
import { Command } from 'commander';

const program = new Command();
program
  .name('shadowmesh')
  .description('Shadow deployments inside the service mesh')
  .showHelpAfterError();

const parts = ['../collector/cli.js', '../sidecar/cli.js', '../demo/cli.js', '../verdict/cli.js'];
for (const part of parts) {
  try {
    const mod = (await import(part)) as { register: (p: Command) => void };
    mod.register(program);
  } catch (err) {
    // A part that is not built yet simply has no subcommand.
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
  }
}

await program.parseAsync(process.argv);
