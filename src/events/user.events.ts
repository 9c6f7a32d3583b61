import type { UserCreatedV2, UserDeletedV1, UserUpdatedV1 } from './schemas/index.generated';

// Shapes are defined by schemas/user_*/v<N>.json; these names follow the current versions.
export type UserCreatedPayload = UserCreatedV2;
export type UserUpdatedPayload = UserUpdatedV1;
export type UserDeletedPayload = UserDeletedV1;
/** A user_created or user_updated payload: a user, whole (Nestream's) or partial (an outside producer's). */
export type UserEventPayload = UserCreatedPayload | UserUpdatedPayload;
