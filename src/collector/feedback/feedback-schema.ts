// One feedback item: `{"id": ID, "label": any JSON value}`; other fields are ignored.
import { describeAjvError, newAjv } from '../ingest/ajv.js';
import { recordSchema } from '../ingest/record-schema.js';

export interface FeedbackItem {
  id: string;
  label: unknown;
}

const feedbackSchema = {
  type: 'object',
  required: ['id', 'label'],
  properties: { id: recordSchema.properties.id, label: {} },
  additionalProperties: true,
} as const;

const validate = newAjv().compile<FeedbackItem>(feedbackSchema);

/** Null when the value is a valid feedback item, else the reason it is not. */
export function feedbackError(value: unknown): string | null {
  return validate(value) ? null : describeAjvError(validate.errors);
}
