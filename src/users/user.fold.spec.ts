import type { LoggedEvent } from '../persistence/event-log/event-log.reader';
import { customerOf, userFold, UserHistoryState } from './user.fold';

let position = 0;
function event(type: string, payload: Record<string, unknown>, overrides: Partial<LoggedEvent> = {}): LoggedEvent {
  position += 1;
  return {
    position,
    eventId: `e${position}`,
    type,
    entityType: 'user',
    entityId: '11',
    version: (payload.version as number) ?? null,
    schemaVersion: 1,
    payload,
    metadata: {},
    origin: 'nestream',
    occurredAt: new Date('2026-11-25T10:00:00.000Z'),
    recordedAt: new Date('2026-11-25T10:00:00.500Z'),
    ...overrides,
  };
}

const user = (overrides: Record<string, unknown> = {}) => ({
  id: 11,
  name: 'King',
  email: 'king@example.com',
  version: 1,
  createdAt: '2026-11-25T10:00:00.000Z',
  updatedAt: '2026-11-25T10:00:00.000Z',
  ...overrides,
});

const fold = (events: LoggedEvent[]) => events.reduce<UserHistoryState | null>((s, e) => userFold.apply(s, e), null);

describe('userFold', () => {
  it("takes Nestream's events as the whole user", () => {
    const state = fold([event('user_created', user()), event('user_updated', user({ name: 'Arthur', version: 2, updatedAt: '2026-11-25T11:00:00.000Z' }))]);

    expect(state).toEqual({ user: user({ name: 'Arthur', version: 2, updatedAt: '2026-11-25T11:00:00.000Z' }), deletedAt: null });
  });

  it('keeps the last state of a deleted user, with the version the deletion reached and when it happened', () => {
    const state = fold([event('user_created', user()), event('user_deleted', user({ version: 2 }), { occurredAt: new Date('2026-11-26T00:00:00.000Z') })]);

    expect(state).toEqual({ user: user({ version: 2 }), deletedAt: '2026-11-26T00:00:00.000Z' });
    expect(customerOf(state)).toBeNull();
  });

  it("applies an outside update as the ingest does: a missing email keeps the stored one, times are the ingest's", () => {
    const outside = event('user_updated', { id: 11, name: ' Outside ' }, { origin: 'ingested', version: 2 });

    expect(fold([event('user_created', user()), outside])).toEqual({
      user: user({ name: ' Outside ', version: 2, updatedAt: '2026-11-25T10:00:00.500Z' }),
      deletedAt: null,
    });
  });

  it('applies an outside email trimmed, and an empty one as none', () => {
    const trimmed = fold([event('user_created', user()), event('user_updated', { id: 11, name: 'K', email: ' k@example.com ' }, { origin: 'ingested', version: 2 })]);
    const emptied = fold([event('user_created', user()), event('user_updated', { id: 11, name: 'K', email: '' }, { origin: 'ingested', version: 2 })]);

    expect(trimmed!.user.email).toBe('k@example.com');
    expect(emptied!.user.email).toBeNull();
  });

  it('starts a user an outside producer re-creates after its deletion afresh, at the version the ingest gave it', () => {
    const state = fold([
      event('user_created', user()),
      event('user_deleted', user({ version: 2 })),
      event('user_created', { id: 11, name: 'Again', email: null, version: 1 }, { origin: 'ingested', version: 1 }),
    ]);

    expect(state).toEqual({
      user: { id: 11, name: 'Again', email: null, version: 1, createdAt: '2026-11-25T10:00:00.500Z', updatedAt: '2026-11-25T10:00:00.500Z' },
      deletedAt: null,
    });
  });

  it('ignores event types it does not know', () => {
    const created = fold([event('user_created', user())]);

    expect(userFold.apply(created, event('user_archived', { id: 11 }))).toBe(created);
  });
});
