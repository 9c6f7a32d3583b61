import { schemaOf } from './schemas';
import type { AnomalyDetectedV1 } from './schemas/index.generated';

// The shape is defined by schemas/anomaly_detected/v<N>.json; this name follows the current version.
export type AnomalyEventPayload = AnomalyDetectedV1;

export type AnomalyRule = AnomalyEventPayload['rule'];

/** The analytics module's anomaly rules, as the schema lists them; README "Analytics" describes each. */
export const ANOMALY_RULES = schemaOf('anomaly_detected')!.properties!.rule.enum as readonly AnomalyRule[];
