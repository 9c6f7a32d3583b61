import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { isUniqueViolation } from '../common/db-errors';
import { ConflictError, EntityNotFoundError } from '../common/errors';
import { Page, toPage } from '../common/http/page';
import type { UserEventPayload } from '../events';
import { Transaction, UnitOfWork } from '../messaging/unit-of-work';
import { CreateUserDto, PatchUserDto } from './dto/user.request.dto';
import { UserEntity } from './user.entity';
import { toUser, User } from './user';

@Injectable()
export class UsersService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly dataSource: DataSource,
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
  replace(id: number, dto: CreateUserDto): Promise<User> {
    return this.update(id, { name: dto.name, email: normaliseEmail(dto.email) });
  }

  /** `PATCH`: only the fields present change. */
  patch(id: number, dto: PatchUserDto): Promise<User> {
    const changes: Partial<Pick<UserEntity, 'name' | 'email'>> = {};
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.email !== undefined) changes.email = normaliseEmail(dto.email);
    return this.update(id, changes);
  }

  async remove(id: number): Promise<void> {
    await this.write(async (tx) => {
      const row = await this.lock(tx.em, id);
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

  /** Reference data for other modules (order validation and enrichment), read in their transaction. */
  async find(em: EntityManager, id: number, lock?: 'share'): Promise<User | null> {
    const row = await em.getRepository(UserEntity).findOne({
      where: { id },
      ...(lock && { lock: { mode: 'pessimistic_read' as const } }),
    });
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
   * Applies a user event written by a producer outside Nestream: an upsert by id. The id space is
   * shared, so the id sequence is moved past any outside id to keep Nestream's next ids free.
   */
  async applyExternal(em: EntityManager, payload: UserEventPayload): Promise<User> {
    await em.query(`SELECT pg_advisory_xact_lock(hashtext('users.id'))`);
    await em.query(
      `SELECT setval(pg_get_serial_sequence('users', 'id'), $1::bigint)
        WHERE $1::bigint > (SELECT last_value FROM users_id_seq)`,
      [payload.id],
    );
    const email = payload.email === undefined ? undefined : normaliseEmail(payload.email);
    const [row] = await em.query(
      `INSERT INTO users AS u (id, name, email, version) VALUES ($1, $2, $3, 1)
       ON CONFLICT (id) DO UPDATE
         SET name = EXCLUDED.name,
             email = CASE WHEN $4 THEN EXCLUDED.email ELSE u.email END,
             version = u.version + 1,
             updated_at = now()
       RETURNING id, name, email, version, created_at AS "createdAt", updated_at AS "updatedAt"`,
      [payload.id, payload.name, email ?? null, email !== undefined],
    );
    return toUser({ ...row, id: Number(row.id) });
  }

  private update(id: number, changes: Partial<Pick<UserEntity, 'name' | 'email'>>): Promise<User> {
    return this.write(async (tx) => {
      const row = await this.lock(tx.em, id);
      Object.assign(row, changes, { version: row.version + 1 });
      const saved = await tx.em.getRepository(UserEntity).save(row);
      const user = toUser(saved);
      await tx.publish({ type: 'user_updated', entityId: id, version: user.version, payload: { ...user }, occurredAt: saved.updatedAt });
      return user;
    });
  }

  /** Row lock first: concurrent writes to one user queue up, so its events leave in order. */
  private async lock(em: EntityManager, id: number): Promise<UserEntity> {
    const row = await em.getRepository(UserEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!row) throw new EntityNotFoundError('user', id);
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

function normaliseEmail(email: string | null | undefined): string | null {
  return email ? email.trim() : null;
}
