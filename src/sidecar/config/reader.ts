// A cursor over parsed YAML that knows its own path, so every error names the
// exact place in the bootstrap file, and every key nobody read is reported as
// "not implemented" instead of being silently ignored. Where the node knows its
// Envoy message (envoy-fields.ts), a key that message does not have is an error,
// as it is for Envoy.
import { type MessageSchema, childSchema } from './envoy-fields.js';

export class ConfigError extends Error {
  constructor(
    readonly yamlPath: string,
    detail: string,
    readonly file?: string,
  ) {
    super(`${file ? `${file}: ` : ''}${yamlPath}: ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Collects keys nobody read, normalised (`clusters[*].foo`) so each is named once. */
export class UnreadKeys {
  private readonly seen = new Set<string>();
  add(path: string): void {
    this.seen.add(path.replace(/\[\d+\]/g, '[*]'));
  }
  list(): string[] {
    return [...this.seen].sort();
  }
}

type Mapping = Record<string, unknown>;

function isMapping(v: unknown): v is Mapping {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class Node {
  private readonly read = new Set<string>();

  constructor(
    readonly value: unknown,
    readonly path: string,
    private readonly unread: UnreadKeys,
    /** The Envoy message this value is (for a list: its elements' message). */
    private readonly schema?: MessageSchema,
  ) {}

  private child(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  fail(detail: string): never {
    throw new ConfigError(this.path || '(top level)', detail);
  }

  private mapping(): Mapping {
    if (!isMapping(this.value)) this.fail(`expected a mapping, got ${describe(this.value)}`);
    return this.value;
  }

  has(key: string): boolean {
    return this.mapping()[key] !== undefined && this.mapping()[key] !== null;
  }

  /** A child node, marking the key as understood; undefined when absent or null. */
  opt(key: string): Node | undefined {
    const m = this.mapping();
    this.read.add(key);
    const v = m[key];
    if (v === undefined || v === null) return undefined;
    return new Node(v, this.child(key), this.unread, childSchema(this.schema, key, v));
  }

  req(key: string): Node {
    const n = this.opt(key);
    if (!n) throw new ConfigError(this.child(key), 'is required');
    return n;
  }

  /** Marks keys as understood without reading them (their meaning needs no behaviour). */
  accept(...keys: string[]): void {
    for (const k of keys) this.read.add(k);
  }

  items(): Node[] {
    if (!Array.isArray(this.value)) this.fail(`expected a list, got ${describe(this.value)}`);
    return this.value.map((v, i) => new Node(v, `${this.path}[${i}]`, this.unread, this.schema));
  }

  str(): string {
    if (typeof this.value === 'string') return this.value;
    if (typeof this.value === 'number' || typeof this.value === 'boolean') return String(this.value);
    return this.fail(`expected a string, got ${describe(this.value)}`);
  }

  int(min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = typeof this.value === 'string' && /^\d+$/.test(this.value) ? Number(this.value) : this.value;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(`expected an integer in [${min}, ${max}], got ${describe(this.value)}`);
    }
    return v;
  }

  bool(): boolean {
    if (typeof this.value !== 'boolean') this.fail(`expected true or false, got ${describe(this.value)}`);
    return this.value;
  }

  oneOf<T extends string>(allowed: readonly T[]): T {
    const s = this.str();
    if (!(allowed as readonly string[]).includes(s)) this.fail(`expected one of ${allowed.join(', ')}, got "${s}"`);
    return s as T;
  }

  /** Envoy duration: "1.5s", "250ms" is not proto JSON but accepted too, or {seconds, nanos}. */
  durationMs(): number {
    if (isMapping(this.value)) {
      const seconds = this.opt('seconds')?.int() ?? 0;
      const nanos = this.opt('nanos')?.int(0, 999_999_999) ?? 0;
      this.done();
      return seconds * 1000 + nanos / 1e6;
    }
    const s = this.str().trim();
    const m = /^(\d+(?:\.\d+)?)(s|ms)$/.exec(s);
    if (!m) this.fail(`expected a duration like "0.25s", got "${s}"`);
    const n = Number(m[1]);
    return m[2] === 's' ? n * 1000 : n;
  }

  /**
   * Reports every key of this mapping that no one read (call after reading): a
   * field its Envoy message has is "not implemented"; any other is an error.
   */
  done(): void {
    if (!isMapping(this.value)) return;
    for (const k of Object.keys(this.value)) {
      if (this.read.has(k)) continue;
      if (this.schema && !this.schema.fields.has(k)) {
        throw new ConfigError(this.child(k), `unknown field "${k}" in ${this.schema.name}; Envoy rejects this file${suggest(k, this.schema.fields)}`);
      }
      this.unread.add(this.child(k));
    }
  }
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** ", did you mean …?" for a near miss: a typo, or the JSON camelCase spelling. */
function suggest(key: string, fields: ReadonlySet<string>): string {
  const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  if (snake !== key && fields.has(snake)) return ` (the sidecar reads proto field names: write "${snake}")`;
  let best: string | undefined;
  let bestDistance = 3;
  for (const f of fields) {
    const d = editDistance(key, f);
    if (d < bestDistance) {
      best = f;
      bestDistance = d;
    }
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}
