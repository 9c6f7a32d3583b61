import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { currentSchemaVersion, schemaOf, schemaUrn, schemaVersions } from './schemas';
import { SCHEMA_FILES } from './schemas/index.generated';

const ajv = new Ajv({ allErrors: true, strict: true, multipleOfPrecision: 6 });
addFormats(ajv);
for (const f of SCHEMA_FILES) ajv.addSchema(f.schema);

const validators = new Map<string, ValidateFunction>();

function validatorOf(type: string, version: number): ValidateFunction | undefined {
  const id = schemaUrn(type, version);
  if (!validators.has(id)) {
    if (!schemaOf(type, version)) return undefined;
    validators.set(id, ajv.getSchema(id)!);
  }
  return validators.get(id);
}

export type ValidationResult = { valid: true } | { valid: false; reason: string };

/**
 * Checks a payload against its event type's schema, at the current version unless another is named;
 * the reason names each failing field.
 */
export function validateEventPayload(type: string, payload: unknown, version = currentSchemaVersion(type)): ValidationResult {
  const validate = validatorOf(type, version);
  if (!validate) {
    return { valid: false, reason: `${type} has no schema version ${version} (known: ${schemaVersions(type).join(', ') || 'none'})` };
  }
  if (validate(payload)) return { valid: true };
  const reason = (validate.errors ?? [])
    .map((e) => `${e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(root)'} ${e.message}`)
    .join('; ');
  return { valid: false, reason };
}
