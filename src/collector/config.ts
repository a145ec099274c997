// The collector's config file (--config, JSON or YAML): per-route comparison rules
// and the verdict criteria (contract §4). Validated once at start; any problem is a
// ConfigError, which the CLI turns into exit code 2.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describeAjvError, newAjv } from './ingest/ajv.js';

export interface NumericTolerance {
  abs: number;
  rel: number;
}

export interface PredictionRule {
  label?: string;
  score?: string;
}

/** How noise is learned from baseline triples (contract §4.1). */
export interface NoiseRule {
  min_triples: number;
  min_rate: number;
  relative: number;
  absolute: number;
}

export interface RouteRules {
  ignore: string[];
  numeric_tolerance: NumericTolerance;
  compare_headers: string[];
  prediction?: PredictionRule;
}

export interface VerdictCriteria {
  min_pairs?: number;
  min_match_rate?: number;
  max_error_rate_delta?: number;
  max_latency_p99_ratio?: number;
  confidence?: number;
  min_join_rate?: number;
  sequential?: boolean;
}

type PartialRouteRules = Partial<RouteRules> & { noise?: Partial<NoiseRule> };

export interface CollectorConfigFile {
  routes?: Record<string, PartialRouteRules>;
  verdict?: VerdictCriteria;
}

export class ConfigError extends Error {}

const pointer = { type: 'string', pattern: '^(/.*)?$' } as const;
const nonNegative = { type: 'number', minimum: 0 } as const;

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    routes: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          ignore: { type: 'array', items: pointer },
          numeric_tolerance: {
            type: 'object',
            additionalProperties: false,
            properties: { abs: nonNegative, rel: nonNegative },
          },
          compare_headers: { type: 'array', items: { type: 'string', minLength: 1 } },
          prediction: {
            type: 'object',
            additionalProperties: false,
            properties: { label: pointer, score: pointer },
          },
          noise: {
            type: 'object',
            additionalProperties: false,
            properties: {
              min_triples: { type: 'integer', minimum: 1 },
              min_rate: { type: 'number', minimum: 0, maximum: 1 },
              relative: nonNegative,
              absolute: { type: 'number', minimum: 0, maximum: 1 },
            },
          },
        },
      },
    },
    verdict: {
      type: 'object',
      additionalProperties: false,
      properties: {
        min_pairs: { type: 'integer', minimum: 0 },
        min_match_rate: { type: 'number', minimum: 0, maximum: 1 },
        max_error_rate_delta: { type: 'number' },
        max_latency_p99_ratio: { type: 'number', exclusiveMinimum: 0 },
        confidence: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
        min_join_rate: { type: 'number', minimum: 0, maximum: 1 },
        sequential: { type: 'boolean' },
      },
    },
  },
} as const;

const validateConfig = newAjv().compile<CollectorConfigFile>(configSchema);

export const DEFAULT_NOISE: NoiseRule = { min_triples: 20, min_rate: 0.05, relative: 0.2, absolute: 0.0003 };

const DEFAULT_RULES: RouteRules = {
  ignore: [],
  numeric_tolerance: { abs: 0, rel: 0 },
  compare_headers: [],
};

/** Resolved rules: a route's entry overrides `*` key by key, `*` overrides the defaults. */
export class CollectorConfig {
  private readonly cache = new Map<string, RouteRules>();

  constructor(readonly file: CollectorConfigFile = {}) {}

  rulesFor(route: string): RouteRules {
    let rules = this.cache.get(route);
    if (!rules) {
      const star = this.file.routes?.['*'] ?? {};
      const own = this.file.routes?.[route] ?? {};
      // Noise settings are asked for apart (noiseFor): they are not comparison rules.
      const { noise: _starNoise, ...starRules } = star;
      const { noise: _ownNoise, ...ownRules } = own;
      const merged: RouteRules = { ...DEFAULT_RULES, ...starRules, ...ownRules };
      // A partial tolerance still means "the other bound is 0".
      const tol: Partial<NumericTolerance> = merged.numeric_tolerance;
      merged.numeric_tolerance = { abs: tol.abs ?? 0, rel: tol.rel ?? 0 };
      merged.compare_headers = merged.compare_headers.map((h) => h.toLowerCase());
      rules = merged;
      this.cache.set(route, rules);
    }
    return rules;
  }

  /** How noise is learned on a route: unset keys keep their defaults; a route's keys override `*`'s one by one. */
  noiseFor(route: string): NoiseRule {
    return { ...DEFAULT_NOISE, ...this.file.routes?.['*']?.noise, ...this.file.routes?.[route]?.noise };
  }

  get verdict(): VerdictCriteria {
    return this.file.verdict ?? {};
  }
}

export function parseConfig(text: string, source = 'config'): CollectorConfig {
  let data: unknown;
  try {
    // YAML 1.2 is a superset of JSON, so one parser reads both.
    data = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${source}: cannot parse: ${(err as Error).message}`);
  }
  if (data === null || data === undefined) data = {};
  if (!validateConfig(data)) {
    throw new ConfigError(`${source}: ${describeAjvError(validateConfig.errors)}`);
  }
  return new CollectorConfig(data);
}

export function loadConfig(file: string | undefined): CollectorConfig {
  if (!file) return new CollectorConfig();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read: ${(err as Error).message}`);
  }
  return parseConfig(text, file);
}
