// The remote control of sampling (contract §1 "Remote control", §3.1): what every
// POST /v1/records answer carries as `control`. Filters only ever lower their
// sampling to it, so a collector cannot raise traffic above the plugin config.
import { describeAjvError, newAjv } from '../ingest/ajv.js';
import { routeNameError } from '../route-name.js';

/** Where the setting is kept: SQLite's decision store, or PostgreSQL's (shared by replicas). */
export interface ControlStore {
  /** The control object as JSON text, or undefined when never set. */
  control(): string | undefined;
  /** Durable when it returns (or when its promise resolves). */
  saveControl(json: string): void | Promise<void>;
}

export interface ControlObject {
  /** Route name or "*" → percent 0–100. */
  sample_percent?: Record<string, number>;
}

const controlSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    sample_percent: {
      type: 'object',
      propertyNames: { minLength: 1 },
      additionalProperties: { type: 'number', minimum: 0, maximum: 100 },
    },
  },
} as const;

const validate = newAjv().compile<ControlObject>(controlSchema);

export class ControlError extends Error {}

export class RemoteControl {
  private value: ControlObject = {};

  constructor(private readonly store: ControlStore) {
    const saved = store.control();
    if (saved !== undefined) this.value = JSON.parse(saved) as ControlObject;
  }

  /** The current setting; `{}` when nothing is set. */
  get current(): ControlObject {
    return structuredClone(this.value);
  }

  get isEmpty(): boolean {
    return this.value.sample_percent === undefined;
  }

  /**
   * Replaces the setting (`{}` clears it), durably; throws ControlError when invalid
   * (before anything is saved). A store that saves asynchronously makes it a promise.
   */
  set(input: unknown): ControlObject | Promise<ControlObject> {
    if (!validate(input)) throw new ControlError(describeAjvError(validate.errors));
    const sp = input.sample_percent;
    for (const route of Object.keys(sp ?? {})) {
      const bad = routeNameError(route, '/sample_percent');
      if (bad) throw new ControlError(bad);
    }
    const next: ControlObject = sp && Object.keys(sp).length > 0 ? { sample_percent: { ...sp } } : {};
    const saved = this.store.saveControl(JSON.stringify(next));
    if (saved instanceof Promise) {
      return saved.then(() => {
        this.value = next;
        return this.current;
      });
    }
    this.value = next;
    return this.current;
  }

  /** Takes a setting another collector saved (JSON text as stored; undefined: none). */
  adopt(json: string | undefined): void {
    this.value = json === undefined ? {} : (JSON.parse(json) as ControlObject);
  }
}
