// One place that knows how to get the Ajv class out of its CommonJS package
// under NodeNext module resolution.
import AjvModule from 'ajv';
import type { ErrorObject } from 'ajv';

type AjvClass = typeof AjvModule.default;
const AjvCtor: AjvClass =
  (AjvModule as unknown as { default?: AjvClass }).default ?? (AjvModule as unknown as AjvClass);

export function newAjv(): InstanceType<AjvClass> {
  // allErrors off: the first problem is enough to reject a record, and it is faster.
  return new AjvCtor({ allErrors: false, strict: true, coerceTypes: false, useDefaults: false });
}

/** Turns Ajv's first error into one short human sentence naming the field. */
export function describeAjvError(errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  if (!e) return 'invalid';
  const where = e.instancePath === '' ? '' : e.instancePath;
  switch (e.keyword) {
    case 'required':
      return `missing required field "${where ? where + '/' : ''}${String(e.params.missingProperty)}"`;
    case 'additionalProperties':
      return `${where || '/'}: unknown key "${String(e.params.additionalProperty)}"`;
    case 'type':
      return `${where || '/'}: must be ${String(e.params.type)}`;
    case 'const':
      return `${where || '/'}: must be ${JSON.stringify(e.params.allowedValue)}`;
    case 'enum':
      return `${where || '/'}: must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${where || '/'}: ${e.message ?? e.keyword}`;
  }
}
