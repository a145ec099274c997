// shadowmesh command line (contract §5). Each part registers its own
// subcommand, so the parts stay independent of each other.
import { Command } from 'commander';
import { register as registerCollector } from '../collector/cli.js';
import { register as registerDemo } from '../demo/cli.js';
import { register as registerModel } from '../demo/model-cli.js';
import { register as registerTraffic } from '../demo/traffic-cli.js';
import { register as registerSidecar } from '../sidecar/cli.js';
import { register as registerControl } from './control.js';
import { register as registerVerdict } from './verdict.js';
import { reportUnknownOptionsFirst } from './unknown-first.js';

const program = new Command();
program
  .name('shadowmesh')
  .description('Shadow deployments inside the service mesh')
  .showHelpAfterError();

registerCollector(program);
registerSidecar(program);
registerDemo(program);
registerModel(program);
registerVerdict(program);
registerControl(program);
registerTraffic(program);
reportUnknownOptionsFirst(program);

await program.parseAsync(process.argv);
