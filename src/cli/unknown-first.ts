// Commander checks required options before unknown ones, so a mistyped flag
// (`sidecar --config x`) is reported as "required option --envoy-config not
// specified". Moving the required-option check into a preAction hook makes the
// unknown flag, the actual mistake, the first error the user sees.
import type { Command, Option } from 'commander';

export function reportUnknownOptionsFirst(program: Command): void {
  for (const cmd of program.commands) {
    reportUnknownOptionsFirst(cmd);
    const required: Option[] = cmd.options.filter((o) => o.mandatory);
    if (required.length === 0) continue;
    for (const o of required) o.mandatory = false;
    cmd.hook('preAction', (_parent, action) => {
      for (const o of required) {
        if (action.getOptionValue(o.attributeName()) === undefined) {
          action.error(`error: required option '${o.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' });
        }
      }
    });
  }
}
