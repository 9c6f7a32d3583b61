import { InitialSchema1764064800000 } from './1764064800000-initial-schema';
import { DeadLetterReplay1764064900000 } from './1764064900000-dead-letter-replay';
import { Analytics1795618300000 } from './1795618300000-analytics';
import { Webhooks1795618500000 } from './1795618500000-webhooks';
import { EventSourcing1795618600000 } from './1795618600000-event-sourcing';
import { WebhookClaim1795618700000 } from './1795618700000-webhook-claim';
import { WebhookClaimFunction1795618800000 } from './1795618800000-webhook-claim-function';

/** Every migration, oldest first. Listed explicitly so the build needs no glob at run time. */
export const MIGRATIONS = [InitialSchema1764064800000, DeadLetterReplay1764064900000, Analytics1795618300000, Webhooks1795618500000, EventSourcing1795618600000, WebhookClaim1795618700000, WebhookClaimFunction1795618800000];
