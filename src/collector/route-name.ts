// The bound on a route name wherever one enters the collector (a record's `route`, a
// route key of PUT /v1/control). Each distinct route costs memory (stats, join, feedback)
// and its name is a label on every /metrics series of the route, so a flood of long
// names is refused per item, with the reason; the filter holds to the same bound
// (its routes[].name check, and a path-derived route cut to 256 bytes).

/** Characters (Unicode code points, as JSON Schema's maxLength counts them). */
export const MAX_ROUTE_NAME_LENGTH = 256;

/** The JSON Schema of a route name: non-empty, at most MAX_ROUTE_NAME_LENGTH characters. */
export const routeNameSchema = { type: 'string', minLength: 1, maxLength: MAX_ROUTE_NAME_LENGTH } as const;

/** Characters of a string as maxLength counts them (a surrogate pair is one). */
function characters(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Null when `name` may be a route name, else why not (naming `where`, a JSON pointer). */
export function routeNameError(name: string, where: string): string | null {
  if (name.length === 0) return `${where}: a route name must not be empty`;
  if (name.length <= MAX_ROUTE_NAME_LENGTH) return null;
  const n = characters(name);
  if (n <= MAX_ROUTE_NAME_LENGTH) return null;
  return `${where}: route name of ${n} characters is longer than the limit of ${MAX_ROUTE_NAME_LENGTH} (${JSON.stringify(name.slice(0, 32))}…)`;
}
