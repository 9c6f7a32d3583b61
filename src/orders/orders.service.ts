import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ConflictError, EntityNotFoundError, UnprocessableError } from '../common/errors';
import { checkIfMatch, IfMatchVersions } from '../common/http/entity-tag';
import type { HistoryPage } from '../common/http/history';
import { Page, toPage } from '../common/http/page';
import type { EventType, OrderEventPayload, OrderPlacedPayload, OrderStatus } from '../events';
import { ConsumedEvent } from '../messaging/consumer/event-consumer.service';
import { Transaction, UnitOfWork } from '../messaging/unit-of-work';
import { historyPage } from '../persistence/event-log/entity-history';
import { EventLogReader } from '../persistence/event-log/event-log.reader';
import { FoldService } from '../persistence/event-log/fold.service';
import { IdBlock } from '../persistence/id-block';
import { MAX_OUTSIDE_ID, moveIdSequencePast } from '../persistence/id-sequence';
import { collectBeforeCommit } from '../persistence/transaction-hooks';
import { UsersService } from '../users/users.service';
import { CreateOrderDto, ListOrdersQuery } from './dto/order.request.dto';
import { OrderCustomer, OrderEntity } from './order.entity';
import { orderFold, Placement } from './order.fold';
import { canMove, Order, toOrder, toOrderState } from './order';

/** Order ids reserved per block; see IdBlock. */
const ID_BLOCK_SIZE = 50;

@Injectable()
export class OrdersService {
  private readonly ids = new IdBlock('orders', ID_BLOCK_SIZE);

  constructor(
    private readonly uow: UnitOfWork,
    private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly reader: EventLogReader,
    private readonly folds: FoldService,
  ) {}

  /**
   * One statement, one round trip: the order is inserted only if its user exists (the share lock keeps
   * the user from being deleted until it commits), with its order_placed event logged and queued in the
   * same statement. The id comes from a reserved block and the timestamps from this process's clock, so
   * the event is built before the statement runs.
   */
  async place(dto: CreateOrderDto): Promise<Order> {
    for (let attempt = 1; ; attempt += 1) {
      const now = new Date();
      const row = Object.assign(new OrderEntity(), {
        id: await this.ids.next(this.dataSource),
        userId: dto.userId,
        product: dto.product,
        amount: dto.amount,
        quantity: dto.quantity ?? 1,
        status: 'placed' as const,
        customer: null,
        version: 1,
        createdAt: now,
        updatedAt: now,
      });
      const inserted = await this.uow.writeOne(
        {
          sql: `INSERT INTO orders (id, user_id, product, amount, quantity, status, version, created_at, updated_at)
                SELECT $1, u.id, $3, $4, $5, 'placed', 1, $6, $6 FROM users u WHERE u.id = $2 FOR SHARE
                ON CONFLICT (id) DO NOTHING
                RETURNING id`,
          params: [row.id, row.userId, row.product, row.amount, row.quantity, now],
        },
        { type: 'order_placed', entityId: row.id, version: 1, payload: toOrderState(row), occurredAt: now },
      );
      if (inserted) return toOrder(row);
      if (!(await this.users.find(this.dataSource.manager, dto.userId))) throw new UnprocessableError(`user ${dto.userId} does not exist`, 'userId');
      // The user exists, so the id was taken: an outside producer stored an order under it.
      this.ids.discard();
      if (attempt === 3) throw new Error(`no free order id after ${attempt} attempts`);
    }
  }

  /** Moves an order along its lifecycle; an illegal move is a 409. */
  changeStatus(id: number, status: Exclude<OrderStatus, 'placed'>, ifMatch?: IfMatchVersions): Promise<Order> {
    return this.uow.run(async (tx) => {
      const row = await this.lock(tx.em, id, ifMatch);
      if (!canMove(row.status, status)) {
        throw new ConflictError(`order ${id} cannot move from ${row.status} to ${status}`, 'status');
      }
      return this.moveTo(tx, row, status);
    });
  }

  /** `DELETE /orders/:id`: cancels; cancelling a cancelled order changes nothing. */
  cancel(id: number, ifMatch?: IfMatchVersions): Promise<Order> {
    return this.uow.run(async (tx) => {
      const row = await this.lock(tx.em, id, ifMatch);
      if (row.status === 'cancelled') return toOrder(row);
      if (!canMove(row.status, 'cancelled')) {
        throw new ConflictError(`order ${id} is ${row.status} and can no longer be cancelled`, 'status');
      }
      return this.moveTo(tx, row, 'cancelled');
    });
  }

  async get(id: number): Promise<Order> {
    const row = await this.dataSource.getRepository(OrderEntity).findOneBy({ id });
    if (!row) throw new EntityNotFoundError('order', id);
    return toOrder(row);
  }

  /**
   * Time travel: the order as it was at `at`, folded from its events, with the customer the enrichment
   * copies (its user as of the placement). 404 before the order was placed.
   */
  async getAt(id: number, at: Date): Promise<Order> {
    const { state } = await this.folds.stateOf(orderFold, String(id), { at });
    if (!state) throw new EntityNotFoundError('order', id, `order ${id} did not exist yet at ${at.toISOString()}`);
    return { ...state.order, customer: await this.customerOf(this.dataSource.manager, state.placements) };
  }

  /** The order's events in log order. */
  history(id: number, after?: number, limit?: number): Promise<HistoryPage> {
    return historyPage(this.reader, 'order', id, after, limit);
  }

  async list(query: ListOrdersQuery): Promise<Page<Order>> {
    const qb = this.dataSource
      .getRepository(OrderEntity)
      .createQueryBuilder('o')
      .where('o.id > :after', { after: query.after ?? 0 });
    if (query.userId !== undefined) qb.andWhere('o.user_id = :userId', { userId: query.userId });
    if (query.status !== undefined) qb.andWhere('o.status = :status', { status: query.status });
    const rows = await qb.orderBy('o.id', 'ASC').limit(query.limit + 1).getMany();
    return toPage(rows.map(toOrder), query.limit);
  }

  async listForUser(userId: number, query: ListOrdersQuery): Promise<Page<Order>> {
    if (!(await this.users.find(this.dataSource.manager, userId))) throw new EntityNotFoundError('user', userId);
    return this.list({ ...query, userId });
  }

  /**
   * Enrichment: copies the customer's name and email onto the order, so reads need no join. The data
   * is the user's as of the order_placed event's position in the event log, not whatever the user is
   * when the consumer gets round to it, so a rebuild from the log gives the same customer. The orders of
   * the consumer's transaction are enriched together just before it commits. That throws while an event
   * or an order row is not there yet (an outside order still being ingested), and the consumer retries.
   */
  async enrich(em: EntityManager, event: ConsumedEvent<OrderPlacedPayload>): Promise<void> {
    if (event.payload.userId == null) return;
    collectBeforeCommit(em, 'orders.enrichment', event, (events) => this.enrichAll(em, events));
  }

  private async enrichAll(em: EntityManager, events: ConsumedEvent<OrderPlacedPayload>[]): Promise<void> {
    const positions = await this.reader.positionsOf(em, events.map((e) => e.id));
    const unlogged = events.filter((e) => !e.isOwn && !positions.has(e.id));
    const refused = unlogged.length > 0 ? await this.refusedByIngest(em, unlogged) : new Set<ConsumedEvent<OrderPlacedPayload>>();
    const logged = events.flatMap((event) => {
      const position = positions.get(event.id);
      if (position !== undefined) return [{ order: event.payload, position }];
      // Our own events are logged by the transaction that published them, so one missing from the log
      // was written by another deployment's database sharing the topic (a local broker shared by test
      // runs, say): it is not ours to enrich, and retrying will not make it appear.
      if (event.isOwn || refused.has(event)) return [];
      throw new Error(`order_placed ${event.id} of order ${event.payload.id} is not in the event log yet`);
    });
    const customers = await this.users.customersBefore(em, logged.map(({ order, position }) => ({ userId: order.userId!, position })));
    // As if applied one by one: the last event of an order that finds a customer wins.
    const latest = new Map<number, OrderCustomer>();
    logged.forEach(({ order }, i) => {
      const customer = customers[i];
      if (customer) latest.set(order.id, customer);
    });
    if (latest.size === 0) return;
    // A read-model column: neither the order's version nor its updatedAt changes.
    const updated: { id: string }[][] = await em.query(
      `UPDATE orders AS o SET customer = t.customer FROM unnest($1::bigint[], $2::jsonb[]) AS t(id, customer) WHERE o.id = t.id RETURNING o.id`,
      [[...latest.keys()], [...latest.values()].map((c) => JSON.stringify(c))],
    );
    // For UPDATE, TypeORM's query() answers [rows, affected count].
    const found = new Set(updated[0].map((r) => Number(r.id)));
    const missing = [...latest.keys()].filter((id) => !found.has(id));
    if (missing.length > 0) throw new Error(`order ${missing.join(', ')} is not stored yet`);
  }

  /**
   * Outside events the ingest consumer will never log, so waiting for them would only end in retries and
   * a dead letter: a versioned one the stored order has already reached (stale), and one whose id is past
   * MAX_OUTSIDE_ID (dead-lettered by the ingest).
   */
  private async refusedByIngest(em: EntityManager, events: ConsumedEvent<OrderPlacedPayload>[]): Promise<Set<ConsumedEvent<OrderPlacedPayload>>> {
    const rows: { id: string; version: number }[] = await em.query(`SELECT id, version FROM orders WHERE id = ANY($1::bigint[])`, [
      events.map((e) => e.payload.id).filter((id) => id <= MAX_OUTSIDE_ID),
    ]);
    const stored = new Map(rows.map((r) => [Number(r.id), r.version]));
    return new Set(
      events.filter((e) => {
        if (e.payload.id > MAX_OUTSIDE_ID) return true;
        const version = e.metadata.entityVersion;
        return version !== undefined && (stored.get(e.payload.id) ?? 0) >= version;
      }),
    );
  }

  /**
   * Share-locks the users the orders name, as `place` does, before the orders' events take their log
   * positions. A write to a user holds its row lock from before its own event is logged until it
   * commits, so an order's event is logged after every event of its user with a lower position has
   * committed, and the enrichment (the user's events before the order's position) sees what a rebuild
   * from the log sees. A user an outside producer is creating at that moment is not covered: its row
   * is not visible to lock.
   */
  private async awaitUserWrites(em: EntityManager, userIds: readonly (number | null | undefined)[]): Promise<void> {
    const ids = [...new Set(userIds.filter((id): id is number => id != null))].sort((a, b) => a - b);
    if (ids.length > 0) await em.query(`SELECT 1 FROM users WHERE id = ANY($1::bigint[]) ORDER BY id FOR SHARE`, [ids]);
  }

  /** The customer the enrichment settles on: the latest placement whose user existed at the time. */
  private async customerOf(em: EntityManager, placements: readonly Placement[]): Promise<OrderCustomer | null> {
    for (const p of [...placements].reverse()) {
      const customer = await this.users.customerBefore(em, p.userId, p.position);
      if (customer) return customer;
    }
    return null;
  }

  /**
   * Applies orders written by a producer outside Nestream, in one statement: an upsert by id (the id
   * space is shared). A versioned producer's version is authoritative, and an event not newer than the
   * stored state is stale. Ids must be distinct. Answers, per input, the stored id and version, or null
   * when it was stale.
   */
  async applyExternal(em: EntityManager, inputs: readonly { payload: OrderEventPayload; version?: number }[]): Promise<({ id: number; version: number } | null)[]> {
    if (inputs.length === 0) return [];
    for (const { payload } of inputs) moveIdSequencePast(em, 'orders', payload.id);
    await this.awaitUserWrites(em, inputs.map((i) => i.payload.userId));
    const rows: { id: string; version: number }[] = await em.query(
      `WITH input AS (
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::numeric[], $5::int[], $6::text[], $7::int[])
           AS t(id, user_id, product, amount, quantity, status, version)
       )
       INSERT INTO orders AS o (id, user_id, product, amount, quantity, status, version)
       SELECT id, user_id, product, amount, quantity, status, COALESCE(version, 1) FROM input
       ON CONFLICT (id) DO UPDATE
         SET user_id = COALESCE(EXCLUDED.user_id, o.user_id),
             product = EXCLUDED.product,
             amount = EXCLUDED.amount,
             quantity = EXCLUDED.quantity,
             status = EXCLUDED.status,
             version = COALESCE((SELECT version FROM input WHERE input.id = EXCLUDED.id), o.version + 1),
             updated_at = now()
         WHERE o.version < COALESCE((SELECT version FROM input WHERE input.id = EXCLUDED.id), o.version + 1)
       RETURNING id, version`,
      [
        inputs.map((i) => i.payload.id),
        inputs.map((i) => i.payload.userId ?? null),
        inputs.map((i) => i.payload.product),
        inputs.map((i) => i.payload.amount),
        inputs.map((i) => i.payload.quantity ?? 1),
        inputs.map((i) => i.payload.status ?? 'placed'),
        inputs.map((i) => i.version ?? null),
      ],
    );
    const stored = new Map(rows.map((r) => [Number(r.id), r.version]));
    return inputs.map(({ payload }) => (stored.has(payload.id) ? { id: payload.id, version: stored.get(payload.id)! } : null));
  }

  private async moveTo(tx: Transaction, row: OrderEntity, status: OrderStatus): Promise<Order> {
    row.status = status;
    row.version += 1;
    const saved = await tx.em.getRepository(OrderEntity).save(row);
    await this.publish(tx, status === 'cancelled' ? 'order_cancelled' : 'order_updated', saved);
    return toOrder(saved);
  }

  private publish(tx: Transaction, type: EventType, row: OrderEntity): Promise<void> {
    const state = toOrderState(row);
    return tx.publish({ type, entityId: row.id, version: row.version, payload: state, occurredAt: row.updatedAt });
  }

  /** Row lock first: concurrent writes to one order queue up, so its events leave in order. */
  private async lock(em: EntityManager, id: number, ifMatch?: IfMatchVersions): Promise<OrderEntity> {
    const row = await em.getRepository(OrderEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!row) throw new EntityNotFoundError('order', id);
    // Checked under the lock: of two writers sending the same version, exactly one succeeds.
    checkIfMatch('order', id, row.version, ifMatch);
    return row;
  }
}
