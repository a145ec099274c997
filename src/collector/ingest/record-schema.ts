// The record schema of contract §2, compiled once at module load.
import type { ShadowRecord } from '../types.js';
import { describeAjvError, newAjv } from './ajv.js';
import { routeNameSchema } from '../route-name.js';

const optionalString = { type: ['string', 'null'] } as const;

export const recordSchema = {
  type: 'object',
  required: ['v', 'id', 'role', 'route', 'method', 'path', 'status', 'latency_ms', 'ts_ms'],
  properties: {
    v: { const: 1 },
    id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' },
    role: { enum: ['production', 'shadow', 'baseline'] },
    route: routeNameSchema,
    method: { type: 'string' },
    path: { type: 'string' },
    status: { type: 'integer', minimum: 0, maximum: 999 },
    error: optionalString,
    latency_ms: { type: 'number', minimum: 0 },
    ts_ms: { type: 'integer' },
    request_body: optionalString,
    response_headers: {
      type: ['object', 'null'],
      additionalProperties: { type: 'string' },
    },
    response_body: optionalString,
    body_encoding: { enum: ['utf8', 'base64', null] },
    response_body_truncated: { type: ['boolean', 'null'] },
    source: optionalString,
  },
  // Newer filters may send more fields: they are kept, not rejected.
  additionalProperties: true,
} as const;

const validate = newAjv().compile<ShadowRecord>(recordSchema);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Returns null when the value is a valid record, else the reason it is not. */
export function recordError(value: unknown): string | null {
  if (!validate(value)) return describeAjvError(validate.errors);
  if (value.body_encoding === 'base64') {
    for (const field of ['request_body', 'response_body'] as const) {
      const body = value[field];
      if (typeof body === 'string' && (body.length % 4 !== 0 || !BASE64.test(body))) {
        return `/${field}: not valid base64 although body_encoding is "base64"`;
      }
    }
  }
  return null;
}

export function isRecord(value: unknown): value is ShadowRecord {
  return recordError(value) === null;
}
