import type { WebhookDisabledV1 } from './schemas/index.generated';

// The shape is defined by schemas/webhook.disabled/v<N>.json; this name follows the current version.
export type WebhookDisabledPayload = WebhookDisabledV1;
