import { validateEventPayload } from './event-validator';
import { currentSchemaVersion, parseSchemaUrn, schemaOf, schemaUrn } from './schemas';

type Payload = Record<string, unknown>;
type Step = (payload: Payload) => Payload;

/**
 * Steps a default cannot express (a renamed or split field), by `<type>:<from version>`. Every other
 * step fills in the next version's defaults, which the compatibility check guarantees is enough: a field
 * that becomes required must have a default. user_created 1 → 2 is such a step (email null, version 1).
 */
const CUSTOM_STEPS: Record<string, Step> = {};

/** Sets each property the target schema gives a default to, where the payload lacks it. */
export function fillDefaults(type: string, version: number, payload: Payload): Payload {
  const out: Payload = { ...payload };
  for (const [name, property] of Object.entries(schemaOf(type, version)?.properties ?? {})) {
    if (out[name] === undefined && property.default !== undefined) out[name] = structuredClone(property.default);
  }
  return out;
}

/** Reads a payload written at `fromVersion` as the current version, one step at a time. */
export function upcast(type: string, payload: Payload, fromVersion: number): Payload {
  let out = payload;
  for (let v = fromVersion; v < currentSchemaVersion(type); v += 1) {
    out = CUSTOM_STEPS[`${type}:${v}`]?.(out) ?? fillDefaults(type, v + 1, out);
  }
  return out;
}

export type ReadResult = { ok: true; payload: Payload; version: number } | { ok: false; reason: string };

/**
 * How a consumer reads an event: validate it against the version it was written with, then upcast
 * it to the current version (and check the result, so a faulty upcaster is caught, not passed on).
 */
export function readEventPayload(type: string, payload: unknown, version: number): ReadResult {
  const check = validateEventPayload(type, payload, version);
  if (!check.valid) return { ok: false, reason: `does not match the ${type} schema: ${check.reason} (${schemaUrn(type, version)})` };
  const current = currentSchemaVersion(type);
  if (version === current) return { ok: true, payload: payload as Payload, version };
  const upcasted = upcast(type, payload as Payload, version);
  const after = validateEventPayload(type, upcasted, current);
  if (!after.valid) return { ok: false, reason: `upcasting ${type} from version ${version} to ${current} failed: ${after.reason}` };
  return { ok: true, payload: upcasted, version: current };
}

/**
 * The schema version a received event names in its CloudEvents `dataschema`. Outside producers send no
 * header, and a schema that is not one of ours says nothing about our versions: both are read as
 * version 1, the origin document's contract. One of ours naming another event type is refused.
 */
export function schemaVersionOf(type: string, dataschema: string | undefined): { ok: true; version: number } | { ok: false; reason: string } {
  if (!dataschema || !dataschema.startsWith('urn:nestream:schema:')) return { ok: true, version: 1 };
  const named = parseSchemaUrn(dataschema);
  if (!named) return { ok: false, reason: `ce_dataschema ${JSON.stringify(dataschema)} is not a schema URN such as ${schemaUrn(type, 1)}` };
  if (named.type !== type) return { ok: false, reason: `ce_dataschema names ${named.type}, but the event is a ${type}` };
  return { ok: true, version: named.version };
}
