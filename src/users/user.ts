import type { UserCreatedPayload, UserUpdatedPayload } from '../events';
import type { UserEntity } from './user.entity';

/** A user as the API returns it and as its events carry it: one shape, one mapper. */
export type User = {
  id: number;
  name: string;
  email: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
};

export function toUser(row: UserEntity): User {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Emails are stored trimmed; an empty one is none. */
export function normaliseEmail(email: string | null | undefined): string | null {
  return email ? email.trim() : null;
}

// Compile-time check that the API shape is a valid payload of the current user_created and user_updated schemas.
export const userIsEventPayload = (u: User): UserCreatedPayload & UserUpdatedPayload => u;
