import type { LoggedEvent } from '../persistence/event-log/event-log.reader';
import type { Fold } from '../persistence/event-log/fold.service';
import { normaliseEmail, User } from './user';

/** A user as its events leave it: the user, and since when it is deleted (it keeps its last state). */
export interface UserHistoryState {
  user: User;
  deletedAt: string | null;
}

/**
 * How a user follows from its events, mirroring the writes that produced them: Nestream's events carry
 * the whole user; an outside producer's are applied as `UsersService.applyExternal` applies them (a
 * missing email keeps the stored one, the timestamps are those of the ingesting transaction).
 */
export const userFold: Fold<UserHistoryState> = {
  entityType: 'user',
  version: 1,
  apply(state, event) {
    const p = event.payload as Partial<User> & { name?: string };
    if (event.type === 'user_deleted') {
      const last = state?.user ?? fromPayload(event);
      return { user: { ...last, version: event.version ?? last.version + 1 }, deletedAt: event.occurredAt.toISOString() };
    }
    if (event.type !== 'user_created' && event.type !== 'user_updated') return state;
    if (event.origin === 'nestream') return { user: fromPayload(event), deletedAt: null };
    // An outside event upserts: a deleted user's row is gone, so it starts again at version 1.
    const live = state && !state.deletedAt ? state.user : null;
    const stamp = event.recordedAt.toISOString();
    return {
      user: {
        id: Number(event.entityId),
        name: p.name!,
        email: p.email === undefined ? (live?.email ?? null) : normaliseEmail(p.email),
        version: event.version ?? (live ? live.version + 1 : 1),
        createdAt: live?.createdAt ?? stamp,
        updatedAt: stamp,
      },
      deletedAt: null,
    };
  },
};

function fromPayload(event: LoggedEvent): User {
  const p = event.payload as Partial<User>;
  const stamp = event.occurredAt.toISOString();
  return {
    id: Number(event.entityId),
    name: p.name ?? '',
    email: p.email ?? null,
    version: event.version ?? p.version ?? 1,
    createdAt: p.createdAt ?? stamp,
    updatedAt: p.updatedAt ?? stamp,
  };
}

/** The customer data an order copies from its user. */
export function customerOf(state: UserHistoryState | null): { id: number; name: string; email: string | null } | null {
  if (!state || state.deletedAt) return null;
  return { id: state.user.id, name: state.user.name, email: state.user.email };
}
