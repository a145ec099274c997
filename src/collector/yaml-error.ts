// A YAML syntax error as one line: "FILE: line L, column C: what". The yaml
// package's own message adds the offending lines and a caret under them, which
// breaks the one-line error the CLI promises.
import { YAMLError } from 'yaml';

export function describeYamlError(err: unknown, source: string): string {
  if (err instanceof YAMLError) {
    const what = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    const at = err.linePos ? `line ${err.linePos[0].line}, column ${err.linePos[0].col}: ` : '';
    return `${source}: ${at}invalid YAML: ${what}`;
  }
  return `${source}: cannot parse: ${(err as Error).message.split('\n')[0]}`;
}
