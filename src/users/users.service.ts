import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { isUniqueViolation } from '../common/db-errors';
import { ConflictError, EntityNotFoundError } from '../common/errors';
import { checkIfMatch, IfMatchVersions } from '../common/http/entity-tag';
import type { HistoryPage } from '../common/http/history';
import { Page, toPage } from '../common/http/page';
import type { UserEventPayload } from '../events';
import { Transaction, UnitOfWork } from '../messaging/unit-of-work';
import { historyPage } from '../persistence/event-log/entity-history';
import { EventLogReader } from '../persistence/event-log/event-log.reader';
import { FoldService } from '../persistence/event-log/fold.service';
import { moveIdSequencePast } from '../persistence/id-sequence';
import { CreateUserDto, PatchUserDto } from './dto/user.request.dto';
import { UserEntity } from './user.entity';
import { customerOf, userFold } from './user.fold';
import { normaliseEmail, toUser, User } from './user';

@Injectable()
export class UsersService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly dataSource: DataSource,
    private readonly reader: EventLogReader,
    private readonly folds: FoldService,
  ) {}

  create(dto: CreateUserDto): Promise<User> {
    return this.write(async (tx) => {
      const repo = tx.em.getRepository(UserEntity);
      const row = await repo.save(repo.create({ name: dto.name, email: normaliseEmail(dto.email), version: 1 }));
      const user = toUser(row);
      await tx.publish({ type: 'user_created', entityId: user.id, version: 1, payload: { ...user }, occurredAt: row.createdAt });
      return user;
    });
  }

  /** `PUT`: both fields are replaced. */
  replace(id: number, dto: CreateUserDto, ifMatch?: IfMatchVersions): Promise<User> {
    return this.update(id, { name: dto.name, email: normaliseEmail(dto.email) }, ifMatch);
  }

  /** `PATCH`: only the fields present change. */
  patch(id: number, dto: PatchUserDto, ifMatch?: IfMatchVersions): Promise<User> {
    const changes: Partial<Pick<UserEntity, 'name' | 'email'>> = {};
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.email !== undefined) changes.email = normaliseEmail(dto.email);
    return this.update(id, changes, ifMatch);
  }

  async remove(id: number, ifMatch?: IfMatchVersions): Promise<void> {
    await this.write(async (tx) => {
      const row = await this.lock(tx.em, id, ifMatch);
      await tx.em.getRepository(UserEntity).delete({ id });
      const last = { ...toUser(row), version: row.version + 1 };
      await tx.publish({ type: 'user_deleted', entityId: id, version: last.version, payload: last, occurredAt: new Date() });
    });
  }

  async get(id: number): Promise<User> {
    const row = await this.dataSource.getRepository(UserEntity).findOneBy({ id });
    if (!row) throw new EntityNotFoundError('user', id);
    return toUser(row);
  }

  /**
   * Time travel: the user as it was at `at`, folded from its events (from the nearest snapshot).
   * 404 before it was created and once it was deleted; a deleted user is visible before its deletion.
   */
  async getAt(id: number, at: Date): Promise<User> {
    const { state } = await this.folds.stateOf(userFold, String(id), { at });
    if (!state) throw new EntityNotFoundError('user', id, `user ${id} did not exist yet at ${at.toISOString()}`);
    if (state.deletedAt) throw new EntityNotFoundError('user', id, `user ${id} was deleted at ${state.deletedAt}`);
    return state.user;
  }

  /** The user's events in log order, deleted users included. */
  history(id: number, after?: number, limit?: number): Promise<HistoryPage> {
    return historyPage(this.reader, 'user', id, after, limit);
  }

  /**
   * The customer data of a user as it was just before a position in the event log (null if the user
   * did not exist then): what the enrichment copies onto an order, whenever it runs.
   */
  async customerBefore(em: EntityManager, id: number, position: number) {
    const { state } = await this.folds.stateOf(userFold, String(id), { beforePosition: position }, em);
    return customerOf(state);
  }

  /** `customerBefore` for many (user, position) pairs at once, in two statements. */
  async customersBefore(em: EntityManager, requests: readonly { userId: number; position: number }[]) {
    const states = await this.folds.statesBefore(userFold, requests.map((r) => ({ entityId: String(r.userId), position: r.position })), em);
    return states.map(customerOf);
  }

  /** Reference data for other modules (order validation and enrichment), read in their transaction. */
  async find(em: EntityManager, id: number): Promise<User | null> {
    const row = await em.getRepository(UserEntity).findOneBy({ id });
    return row ? toUser(row) : null;
  }

  async list(limit: number, after = 0): Promise<Page<User>> {
    const rows = await this.dataSource
      .getRepository(UserEntity)
      .createQueryBuilder('u')
      .where('u.id > :after', { after })
      .orderBy('u.id', 'ASC')
      .limit(limit + 1)
      .getMany();
    return toPage(rows.map(toUser), limit);
  }

  /**
   * Applies users written by a producer outside Nestream, in one statement: an upsert by id (the id
   * space is shared). A versioned producer's version is authoritative, and an event not newer than the
   * stored state, or than the user's last logged version once deleted, is stale. Ids must be distinct.
   * Answers, per input, the stored user, or null when it was stale.
   */
  async applyExternal(em: EntityManager, inputs: readonly { payload: UserEventPayload; version?: number }[]): Promise<(User | null)[]> {
    if (inputs.length === 0) return [];
    for (const { payload } of inputs) moveIdSequencePast(em, 'users', payload.id);
    const emails = inputs.map(({ payload }) => (payload.email === undefined ? undefined : normaliseEmail(payload.email)));
    const rows: (Omit<UserEntity, 'id'> & { id: string })[] = await em.query(
      `WITH input AS (
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bool[], $5::int[]) AS t(id, name, email, has_email, version)
       )
       INSERT INTO users AS u (id, name, email, version)
       SELECT id, name, email, COALESCE(version, 1) FROM input
        -- A versioned event the log has passed is stale even when the row is gone: a late user_created
        -- must not bring back a user deleted at a later version.
        WHERE input.version IS NULL
           OR NOT EXISTS (SELECT 1 FROM event_log l WHERE l.entity_type = 'user' AND l.entity_id = input.id::text AND l.version >= input.version)
       ON CONFLICT (id) DO UPDATE
         SET name = EXCLUDED.name,
             email = CASE WHEN (SELECT has_email FROM input WHERE input.id = EXCLUDED.id) THEN EXCLUDED.email ELSE u.email END,
             version = COALESCE((SELECT version FROM input WHERE input.id = EXCLUDED.id), u.version + 1),
             updated_at = now()
         WHERE u.version < COALESCE((SELECT version FROM input WHERE input.id = EXCLUDED.id), u.version + 1)
       RETURNING id, name, email, version, created_at AS "createdAt", updated_at AS "updatedAt"`,
      [
        inputs.map((i) => i.payload.id),
        inputs.map((i) => i.payload.name),
        emails.map((e) => e ?? null),
        emails.map((e) => e !== undefined),
        inputs.map((i) => i.version ?? null),
      ],
    );
    const stored = new Map(rows.map((r) => [Number(r.id), toUser({ ...r, id: Number(r.id) })]));
    return inputs.map(({ payload }) => stored.get(payload.id) ?? null);
  }

  private update(id: number, changes: Partial<Pick<UserEntity, 'name' | 'email'>>, ifMatch: IfMatchVersions): Promise<User> {
    return this.write(async (tx) => {
      const row = await this.lock(tx.em, id, ifMatch);
      Object.assign(row, changes, { version: row.version + 1 });
      const saved = await tx.em.getRepository(UserEntity).save(row);
      const user = toUser(saved);
      await tx.publish({ type: 'user_updated', entityId: id, version: user.version, payload: { ...user }, occurredAt: saved.updatedAt });
      return user;
    });
  }

  /**
   * Row lock first: concurrent writes to one user queue up, so its events leave in order. `If-Match`
   * is checked under the lock, so of two writers sending the same version exactly one succeeds.
   */
  private async lock(em: EntityManager, id: number, ifMatch?: IfMatchVersions): Promise<UserEntity> {
    const row = await em.getRepository(UserEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!row) throw new EntityNotFoundError('user', id);
    checkIfMatch('user', id, row.version, ifMatch);
    return row;
  }

  private async write<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    try {
      return await this.uow.run(work);
    } catch (err) {
      if (isUniqueViolation(err, 'users_email_key')) throw new ConflictError('email is already in use', 'email');
      throw err;
    }
  }
}
