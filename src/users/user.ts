import type { UserEventPayload } from '../events';
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

// Compile-time check that the API shape is a valid event payload.
export const userIsEventPayload = (u: User): UserEventPayload => u;
