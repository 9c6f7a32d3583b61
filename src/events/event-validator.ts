import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { EVENT_CATALOGUE, EventType, EVENT_TYPES } from './catalogue';

const ajv = new Ajv({ allErrors: true, strict: true, multipleOfPrecision: 6 });
addFormats(ajv);

const validators = new Map<EventType, ValidateFunction>(
  EVENT_TYPES.map((type) => [type, ajv.compile(EVENT_CATALOGUE[type].schema)]),
);

export type ValidationResult = { valid: true } | { valid: false; reason: string };

/** Checks a payload against its event type's schema; the reason names each failing field. */
export function validateEventPayload(type: EventType, payload: unknown): ValidationResult {
  const validate = validators.get(type)!;
  if (validate(payload)) return { valid: true };
  const reason = (validate.errors ?? [])
    .map((e) => `${e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(root)'} ${e.message}`)
    .join('; ');
  return { valid: false, reason };
}
