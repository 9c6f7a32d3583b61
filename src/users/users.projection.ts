import type { EntityManager } from 'typeorm';
import type { LoggedEvent } from '../persistence/event-log/event-log.reader';
import type { Projection, ProjectionBuilder } from '../projections/projection';
import { ColumnSpec, deleteRows, upsertRows } from '../projections/rows-writer';
import { userFold, UserHistoryState } from './user.fold';

const COLUMNS: ColumnSpec[] = [
  { name: 'id', type: 'bigint' },
  { name: 'name', type: 'text' },
  { name: 'email', type: 'text' },
  { name: 'version', type: 'integer' },
  { name: 'created_at', type: 'timestamptz' },
  { name: 'updated_at', type: 'timestamptz' },
];

/** The `users` table, folded from the user events: deleted users are absent. */
export const usersProjection: Projection = {
  name: 'users',
  description: 'The users table, from user_created, user_updated and user_deleted',
  tables: [{ name: 'users', key: ['id'], columns: ['name', 'email', 'version'], timestamps: ['created_at', 'updated_at'] }],
  entityTypes: ['user'],
  createBuilder: () => new UsersBuilder(),
};

class UsersBuilder implements ProjectionBuilder {
  private readonly states = new Map<number, UserHistoryState>();
  private readonly dirty = new Set<number>();

  apply(event: LoggedEvent): void {
    const id = Number(event.entityId);
    const next = userFold.apply(this.states.get(id) ?? null, event);
    if (next) this.states.set(id, next);
    this.dirty.add(id);
  }

  async flush(em: EntityManager, tableOf: (live: string) => string): Promise<void> {
    const rows: object[] = [];
    const gone: number[] = [];
    for (const id of this.dirty) {
      const state = this.states.get(id);
      if (!state || state.deletedAt) gone.push(id);
      else rows.push({ ...state.user, created_at: state.user.createdAt, updated_at: state.user.updatedAt });
    }
    await upsertRows(em, tableOf('users'), ['id'], COLUMNS, rows);
    await deleteRows(em, tableOf('users'), 'id', gone);
    this.dirty.clear();
  }
}
