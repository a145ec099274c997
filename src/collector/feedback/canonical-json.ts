// One text per JSON value whatever its key order, so that a label `{"a":1,"b":2}`
// sent as feedback equals the same object predicted with its keys the other way.
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

/** The canonical text of a label stored as JSON text. */
export function canonicalText(json: string): string {
  return canonicalJson(JSON.parse(json));
}
