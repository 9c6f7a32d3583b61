import { Logger } from '@nestjs/common';
import type { KafkaContext } from '@nestjs/microservices';
import type { DataSource, EntityManager } from 'typeorm';
import type { AppConfig } from '../../config/app.config';
import type { Metrics } from '../../observability/metrics';
import { KafkaBatchContext } from '../kafka/kafka-batch-context';
import { DeadLetter, DeadLetterService } from './dead-letter.service';
import { ConsumedEvent, EventConsumer, UnprocessableEventError } from './event-consumer.service';

const CONSUMER = 'persistence.ingest';

interface FakeRecord {
  value: Buffer | null;
  key: Buffer | null;
  headers: Record<string, Buffer | string>;
  offset: string;
  timestamp: string;
}

const record = (overrides: Partial<FakeRecord> = {}): FakeRecord => ({
  value: Buffer.from(JSON.stringify({ id: 11, name: 'King' })),
  key: Buffer.from('11'),
  headers: {},
  offset: '5',
  timestamp: '1764064800000',
  ...overrides,
});

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

function kafkaContext(message: FakeRecord): KafkaContext {
  return {
    getMessage: () => message,
    getTopic: () => 'user_created',
    getPartition: () => 0,
    getHeartbeat: () => async () => undefined,
  } as unknown as KafkaContext;
}

/**
 * A database double with an inbox: a message id is claimed once; a transaction that throws claims nothing.
 * Single-row claims return one row, multi-row claims return the ids they inserted, as Postgres does.
 */
function inboxDouble(alreadyProcessed: boolean) {
  const inbox = new Set<string>();
  let pending: string[] = [];
  const em = {
    query: jest.fn(async (sql: string, params: unknown[] = []) => {
      if (!sql.includes('INSERT INTO inbox')) return [{}];
      const ids = sql.includes('unnest') ? (params[1] as string[]) : [params[1] as string];
      const fresh = alreadyProcessed ? [] : [...new Set(ids)].filter((id) => !inbox.has(id) && !pending.includes(id));
      pending.push(...fresh);
      return sql.includes('unnest') ? fresh.map((id) => ({ message_id: id })) : fresh.map(() => ({}));
    }),
  };
  const dataSource = {
    transaction: jest.fn(async (fn: (m: typeof em) => Promise<unknown>) => {
      pending = [];
      const result = await fn(em);
      pending.forEach((id) => inbox.add(id));
      return result;
    }),
  };
  return { em, dataSource };
}

function setup({ alreadyProcessed = false, batchSize = 500 } = {}) {
  const { em, dataSource } = inboxDouble(alreadyProcessed);
  const deadLetters = { setAside: jest.fn(async (_d: DeadLetter) => undefined) };
  const config = { http: { logLevel: 'info' }, events: { source: '/nestream' }, consumers: { maxAttempts: 3, retryBackoffMs: 0, batchSize } };
  const metrics = { eventConsumed: jest.fn() };
  const consumer = new EventConsumer(
    dataSource as unknown as DataSource,
    deadLetters as unknown as DeadLetterService,
    config as unknown as AppConfig,
    metrics as unknown as Metrics,
  );
  const effect = jest.fn(async (_event: ConsumedEvent<unknown>, _em: EntityManager) => undefined);
  const handle = (message: FakeRecord) => consumer.handle(CONSUMER, 'user_created', kafkaContext(message), effect);
  const deadLetter = (): DeadLetter => deadLetters.setAside.mock.calls[0][0];
  return { em, dataSource, deadLetters, effect, handle, deadLetter, consumer, metrics };
}

describe('EventConsumer.handle', () => {
  beforeEach(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  it('dead-letters a value that is not JSON for every consumer without calling the effect', async () => {
    const { handle, effect, deadLetters, deadLetter } = setup();

    await handle(record({ value: Buffer.from('{"id": 11, name') }));

    expect(deadLetters.setAside).toHaveBeenCalledTimes(1);
    expect(deadLetter()).toMatchObject({ consumer: '*', topic: 'user_created', partition: 0, offset: '5', key: '11' });
    expect(deadLetter().reason).toMatch(/JSON/);
    expect(effect).not.toHaveBeenCalled();
  });

  it.each([
    ['a JSON array', json([{ id: 11, name: 'King' }])],
    ['JSON null', Buffer.from('null')],
    ['a null value (tombstone)', null],
  ])('dead-letters %s without calling the effect', async (_label, value) => {
    const { handle, effect, deadLetter } = setup();

    await handle(record({ value }));

    expect(deadLetter()).toMatchObject({ consumer: '*', value });
    expect(effect).not.toHaveBeenCalled();
  });

  it('dead-letters a payload that breaks the schema with a reason naming the field', async () => {
    const { handle, effect, deadLetter } = setup();

    await handle(record({ value: json({ id: 11 }) }));

    expect(deadLetter().consumer).toBe('*');
    expect(deadLetter().reason).toContain('name');
    expect(effect).not.toHaveBeenCalled();
  });

  it('reads an outside user_created without ce_dataschema as version 1, upcast to version 2', async () => {
    const { handle, effect, deadLetters } = setup();

    await handle(record());

    expect(effect.mock.calls[0][0]).toMatchObject({
      schemaVersion: 1,
      receivedPayload: { id: 11, name: 'King' },
      payload: { id: 11, name: 'King', email: null, version: 1 },
    });
    expect(deadLetters.setAside).not.toHaveBeenCalled();
  });

  it('validates against the version ce_dataschema names: a version 2 user_created without email is dead-lettered', async () => {
    const { handle, effect, deadLetter } = setup();

    await handle(record({ headers: { ce_dataschema: 'urn:nestream:schema:user_created:2' } }));

    expect(effect).not.toHaveBeenCalled();
    expect(deadLetter()).toMatchObject({ consumer: '*' });
    expect(deadLetter().reason).toContain('email');
    expect(deadLetter().reason).toContain('urn:nestream:schema:user_created:2');
  });

  it('dead-letters an event whose ce_dataschema names a version this build does not know', async () => {
    const { handle, effect, deadLetter } = setup();

    await handle(record({ headers: { ce_dataschema: 'urn:nestream:schema:user_created:9' } }));

    expect(effect).not.toHaveBeenCalled();
    expect(deadLetter().reason).toContain('no schema version 9');
  });

  it('dead-letters an event whose ce_dataschema names another event type', async () => {
    const { handle, deadLetter } = setup();

    await handle(record({ headers: { ce_dataschema: 'urn:nestream:schema:order_placed:1' } }));

    expect(deadLetter().reason).toBe('ce_dataschema names order_placed, but the event is a user_created');
  });

  it('reads a record once for all the consumers that handle it: they get the same event', async () => {
    const { deadLetters } = setup();
    // Every consumer claims every record (the shared inbox double would take consumer b's for a repeat).
    const em = {
      query: async (sql: string, params: unknown[] = []) =>
        sql.includes('unnest') ? (params[1] as string[]).map((id) => ({ message_id: id })) : [{}],
    };
    const dataSource = { transaction: async (fn: (m: typeof em) => Promise<unknown>) => fn(em) };
    const consumer = new EventConsumer(
      dataSource as unknown as DataSource,
      deadLetters as unknown as DeadLetterService,
      { http: { logLevel: 'info' }, events: { source: '/nestream' }, consumers: { maxAttempts: 3, retryBackoffMs: 0, batchSize: 500 } } as unknown as AppConfig,
      { eventConsumed: jest.fn() } as unknown as Metrics,
    );
    const seen: ConsumedEvent<unknown>[] = [];
    const effect = async (e: ConsumedEvent<unknown>) => void seen.push(e);
    // Nest calls every handler of a topic with one context, so with one message object.
    const ctx = kafkaContext(record());
    await Promise.all([consumer.handle('a', 'user_created', ctx, effect), consumer.handle('b', 'user_created', ctx, effect)]);
    // Another record with equal bytes is read on its own.
    await consumer.handle('a', 'user_created', kafkaContext(record({ offset: '6' })), effect);

    expect(seen).toHaveLength(3);
    expect(seen[1]).toBe(seen[0]);
    expect(seen[2].payload).not.toBe(seen[0].payload);
    expect(seen[2].payload).toEqual(seen[0].payload);
  });

  it('runs the effect once for a valid outside event, identified by its record coordinates', async () => {
    const { handle, effect, em, deadLetters } = setup();

    await handle(record());

    expect(effect).toHaveBeenCalledTimes(1);
    const [event, passedEm] = effect.mock.calls[0];
    expect(passedEm).toBe(em);
    expect(event).toMatchObject({
      type: 'user_created',
      id: 'kafka:user_created:0:5:1764064800000',
      payload: { id: 11, name: 'King' },
      isOwn: false,
      topic: 'user_created',
      partition: 0,
      offset: '5',
      key: '11',
    });
    expect(event.occurredAt).toEqual(new Date(1764064800000));
    expect(deadLetters.setAside).not.toHaveBeenCalled();
  });

  it('tells apart two records at the same coordinates by their timestamps (a topic created anew, another cluster)', async () => {
    const { handle, em } = setup();

    await handle(record());
    await handle(record({ timestamp: '1764064900000' }));

    const claimed = em.query.mock.calls.filter(([sql]) => String(sql).includes('INSERT INTO inbox')).map(([, params]) => (params as unknown[])[1]);
    expect(claimed).toEqual(['kafka:user_created:0:5:1764064800000', 'kafka:user_created:0:5:1764064900000']);
  });

  it('claims the inbox row for this consumer and event id', async () => {
    const { handle, em } = setup();

    await handle(record());

    expect(em.query).toHaveBeenCalledWith(expect.stringContaining('INSERT INTO inbox'), [CONSUMER, 'kafka:user_created:0:5:1764064800000']);
  });

  it('resolves an event the consumer ignores with no transaction, no inbox row and no effect, counted as ignored', async () => {
    const { consumer, dataSource, effect, metrics } = setup();
    const own = record({ headers: { ce_id: Buffer.from('evt-own'), ce_source: Buffer.from('/nestream/users') } });
    const outside = record({ offset: '6' });
    const ignoreOwn = { ignore: (e: ConsumedEvent<unknown>) => e.isOwn };
    await consumer.handle(CONSUMER, 'user_created', kafkaContext(own), effect, ignoreOwn);
    expect(dataSource.transaction).not.toHaveBeenCalled();
    expect(effect).not.toHaveBeenCalled();
    expect(metrics.eventConsumed).toHaveBeenCalledWith('user_created', CONSUMER, 'ignored');

    await consumer.handle(CONSUMER, 'user_created', kafkaContext(outside), effect, ignoreOwn);
    expect(effect).toHaveBeenCalledTimes(1);
    expect(dataSource.transaction).toHaveBeenCalled();
  });

  it('uses ce_id as the event id and marks a ce_source under our own source as own', async () => {
    const { handle, effect } = setup();

    await handle(record({ headers: { ce_id: Buffer.from('evt-42'), ce_source: Buffer.from('/nestream/users') } }));

    expect(effect.mock.calls[0][0]).toMatchObject({ id: 'evt-42', isOwn: true, metadata: { source: '/nestream/users' } });
  });

  it('does not mark a source that merely shares our prefix as own', async () => {
    const { handle, effect } = setup();

    await handle(record({ headers: { ce_source: '/nestream-partner/users' } }));

    expect(effect.mock.calls[0][0].isOwn).toBe(false);
  });

  it('takes occurredAt from ce_time when it is a valid date', async () => {
    const { handle, effect } = setup();

    await handle(record({ headers: { ce_time: '2026-11-25T10:00:00.000Z' } }));

    expect(effect.mock.calls[0][0].occurredAt).toEqual(new Date('2026-11-25T10:00:00.000Z'));
  });

  it('skips the effect when the inbox says this consumer already processed the event', async () => {
    const { handle, effect, deadLetters } = setup({ alreadyProcessed: true });

    await handle(record());

    expect(effect).not.toHaveBeenCalled();
    expect(deadLetters.setAside).not.toHaveBeenCalled();
  });

  it('retries a failing effect and stops once it succeeds', async () => {
    const { handle, effect, deadLetters } = setup();
    effect.mockRejectedValueOnce(new Error('deadlock detected')).mockRejectedValueOnce(new Error('deadlock detected'));

    await handle(record());

    expect(effect).toHaveBeenCalledTimes(3);
    expect(deadLetters.setAside).not.toHaveBeenCalled();
  });

  it('dead-letters for this consumer after maxAttempts failures', async () => {
    const { handle, effect, deadLetters, deadLetter } = setup();
    effect.mockRejectedValue(new Error('order 11 is not stored yet'));

    await handle(record());

    expect(effect).toHaveBeenCalledTimes(3);
    expect(deadLetters.setAside).toHaveBeenCalledTimes(1);
    expect(deadLetter()).toMatchObject({ consumer: CONSUMER, reason: 'order 11 is not stored yet', attempts: 3 });
  });

  it('dead-letters an UnprocessableEventError after one attempt', async () => {
    const { handle, effect, deadLetter } = setup();
    effect.mockRejectedValue(new UnprocessableEventError('user 11 is archived'));

    await handle(record());

    expect(effect).toHaveBeenCalledTimes(1);
    expect(deadLetter()).toMatchObject({ consumer: CONSUMER, reason: 'user 11 is archived', attempts: 1 });
  });

  it('passes the original headers, decoded to strings, to the dead letter', async () => {
    const { handle, effect, deadLetter } = setup();
    effect.mockRejectedValue(new UnprocessableEventError('no'));

    await handle(record({ headers: { ce_id: Buffer.from('evt-42'), traceparent: '00-abc-def-01' } }));

    expect(deadLetter().headers).toEqual({ ce_id: 'evt-42', traceparent: '00-abc-def-01' });
  });

  it('dead-letters an effect that throws something other than an Error, with its text as the reason', async () => {
    const { handle, effect, deadLetter } = setup();
    effect.mockRejectedValue('plain string failure');

    await expect(handle(record())).resolves.toBeUndefined();

    expect(deadLetter()).toMatchObject({ consumer: CONSUMER, reason: 'plain string failure', attempts: 3 });
  });
});

describe('EventConsumer group commit', () => {
  beforeEach(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  const user = (id: number, offset: number) => record({ value: json({ id, name: `user ${id}` }), key: Buffer.from(String(id)), offset: String(offset) });
  const appliedOffsets = (effect: jest.Mock) => effect.mock.calls.map(([event]) => (event as ConsumedEvent<unknown>).offset);

  it('applies records handed out together in one transaction, in offset order, with one inbox claim', async () => {
    const { handle, effect, dataSource, em } = setup();

    await Promise.all([user(3, 12), user(1, 10), user(2, 11)].map(handle));

    expect(dataSource.transaction).toHaveBeenCalledTimes(1);
    expect(appliedOffsets(effect)).toEqual(['10', '11', '12']);
    const claims = em.query.mock.calls.filter(([sql]) => String(sql).includes('INSERT INTO inbox'));
    expect(claims).toEqual([[expect.stringContaining('unnest'), [CONSUMER, ['kafka:user_created:0:10:1764064800000', 'kafka:user_created:0:11:1764064800000', 'kafka:user_created:0:12:1764064800000']]]]);
  });

  it('applies a record delivered twice in one batch once', async () => {
    const { handle, effect } = setup();

    await Promise.all([user(1, 10), user(1, 10)].map(handle));

    expect(appliedOffsets(effect)).toEqual(['10']);
  });

  it('never puts more than CONSUMER_BATCH_SIZE records in one transaction', async () => {
    const { handle, effect, dataSource } = setup({ batchSize: 2 });

    await Promise.all([user(1, 10), user(2, 11), user(3, 12)].map(handle));

    expect(dataSource.transaction).toHaveBeenCalledTimes(2);
    expect(appliedOffsets(effect)).toEqual(['10', '11', '12']);
  });

  it('when one effect fails, rolls the batch back and isolates that record: the others are applied in batches, it alone is retried and dead-lettered', async () => {
    const { handle, effect, dataSource, deadLetters, deadLetter } = setup();
    effect.mockImplementation(async (event) => {
      if (event.offset === '12') throw new Error('user 3 is broken');
    });

    await Promise.all([user(1, 10), user(2, 11), user(3, 12), user(4, 13), user(5, 14)].map(handle));

    // The batch fails at 12; then 10–11 as a batch, 12 alone × 3 attempts, 13–14 as a batch.
    expect(appliedOffsets(effect)).toEqual(['10', '11', '12', '10', '11', '12', '12', '12', '13', '14']);
    expect(dataSource.transaction).toHaveBeenCalledTimes(6);
    expect(deadLetters.setAside).toHaveBeenCalledTimes(1);
    expect(deadLetter()).toMatchObject({ consumer: CONSUMER, offset: '12', reason: 'user 3 is broken', attempts: 3 });
  });

  it('never applies a later record of a partition once an earlier one failed unapplied (it could not even be dead-lettered)', async () => {
    const { handle, effect, deadLetters } = setup();
    effect.mockImplementation(async (event) => {
      if (event.offset === '10') throw new Error('user 1 is broken');
    });
    deadLetters.setAside.mockRejectedValue(new Error('dead_letters is unreachable'));

    const results = await Promise.allSettled([user(1, 10), user(2, 11), user(3, 12)].map(handle));

    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    // The batch fails at 10; 10 alone × 3 attempts; 11 and 12 are never applied, so Kafka redelivers all three in order.
    expect(appliedOffsets(effect)).toEqual(['10', '10', '10', '10']);
  });

  it('applies every record alone when the batch fails outside any effect (the commit, say)', async () => {
    const { handle, effect, dataSource, em } = setup();
    // Runs the work, then fails to commit: nothing it claimed is kept.
    dataSource.transaction.mockImplementationOnce(async (fn) => {
      await fn(em);
      throw new Error('could not serialize access');
    });

    await Promise.all([user(1, 10), user(2, 11)].map(handle));

    expect(appliedOffsets(effect)).toEqual(['10', '11', '10', '11']);
    expect(dataSource.transaction).toHaveBeenCalledTimes(3);
  });
});

describe('EventConsumer with a chunk of records (one call per chunk)', () => {
  beforeEach(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  const user = (id: number, offset: number) => record({ value: json({ id, name: `user ${id}` }), key: Buffer.from(String(id)), offset: String(offset) });
  const chunk = (...messages: FakeRecord[]) => new KafkaBatchContext(messages as never, 0, 'user_created', {} as never, async () => undefined, {} as never);

  it('applies the readable records in one transaction, in offset order, and sets the unreadable one aside', async () => {
    const { consumer, effect, dataSource, deadLetter } = setup();
    const ctx = chunk(user(1, 10), record({ value: Buffer.from('not json'), offset: '11' }), user(3, 12));

    await consumer.handle(CONSUMER, 'user_created', ctx, effect);

    expect(dataSource.transaction).toHaveBeenCalledTimes(1);
    expect(effect.mock.calls.map(([event]) => event.offset)).toEqual(['10', '12']);
    expect(deadLetter()).toMatchObject({ consumer: '*', offset: '11' });
    expect(ctx.firstFailure()).toBeUndefined();
  });

  it('names the first record it could not handle, and rejects', async () => {
    const { consumer, effect, deadLetters } = setup();
    effect.mockImplementation(async (event) => {
      if (event.offset === '11') throw new Error('user 2 is broken');
    });
    deadLetters.setAside.mockRejectedValue(new Error('dead_letters is unreachable'));
    const ctx = chunk(user(1, 10), user(2, 11), user(3, 12));

    await expect(consumer.handle(CONSUMER, 'user_created', ctx, effect)).rejects.toThrow();

    expect(ctx.firstFailure()).toMatchObject({ index: 1 });
    // 10 was applied (with the batch that failed at 11, then alone); 12 never was.
    expect(effect.mock.calls.map(([event]) => event.offset)).not.toContain('12');
  });

  it('settles once every record is settled, though a fallback settles one of them twice', async () => {
    const { consumer, effect, dataSource, metrics } = setup();
    // Counting the second outcome throws after the batch committed: the first record was resolved,
    // and the fallback applies (finds) every record again on its own and resolves it again.
    metrics.eventConsumed.mockImplementationOnce(() => undefined).mockImplementationOnce(() => {
      throw new Error('a counter bug');
    });
    const ctx = chunk(user(1, 10), user(2, 11), user(3, 12));

    await consumer.handle(CONSUMER, 'user_created', ctx, effect);

    // The batch, then each of the three alone: all done before the chunk settled.
    expect(dataSource.transaction).toHaveBeenCalledTimes(4);
    await expect(Promise.all(dataSource.transaction.mock.results.map((r) => r.value))).resolves.toBeDefined();
    expect(ctx.firstFailure()).toBeUndefined();
  });
});

describe('EventConsumer during a database outage', () => {
  beforeEach(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  it('keeps retrying without spending attempts or dead-lettering while the database is unreachable', async () => {
    const { handle, effect, deadLetters } = setup();
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    for (let i = 0; i < 5; i += 1) effect.mockRejectedValueOnce(down);
    effect.mockRejectedValueOnce(new Error('terminating connection due to administrator command'));

    await handle(record());

    expect(effect).toHaveBeenCalledTimes(7);
    expect(deadLetters.setAside).not.toHaveBeenCalled();
  });

  it('stops waiting once the app is closing, failing the record unapplied so the next owner gets it', async () => {
    const { consumer, effect, deadLetters } = setup();
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    effect.mockRejectedValueOnce(down).mockImplementationOnce(async () => {
      consumer.onModuleDestroy();
      throw down;
    });
    await expect(consumer.handle(CONSUMER, 'user_created', kafkaContext(record()), effect)).rejects.toThrow('ECONNREFUSED');

    expect(effect).toHaveBeenCalledTimes(2);
    expect(deadLetters.setAside).not.toHaveBeenCalled();
  });
});
