import type { Consumer, EachBatchPayload } from 'kafkajs';
import { KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { throwError } from 'rxjs';
import { KafkaContext, ServerKafka } from '@nestjs/microservices';
import { BatchingKafkaServer, subscribeWhenKnown } from './batching-kafka-server';
import { inGroup } from './consumer-groups';
import { KafkaBatchContext } from './kafka-batch-context';
import { partitionKey } from './partition-activity';
import { SkipGuard } from './skip-guard';

// kafkajs' typings declare narrower constructors than the ones its code calls.
const ProtocolError = KafkaJSProtocolError as unknown as new (answer: { type: string; code: number; retriable: boolean; message: string }) => Error;
const NonRetriableError = KafkaJSNonRetriableError as unknown as new (e: Error, options: { cause: Error }) => Error;

/** What kafkajs throws when the broker asked does not know the topic yet: the broker's answer, wrapped. */
const unknownTopic = () => {
  const answer = new ProtocolError({ type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3, retriable: true, message: 'This server does not host this topic-partition' });
  return new NonRetriableError(answer, { cause: answer });
};

function consumerFailing(...failures: Error[]): { consumer: Consumer; subscribe: jest.Mock } {
  const subscribe = jest.fn(async () => {
    const failure = failures.shift();
    if (failure) throw failure;
  });
  return { consumer: { subscribe } as unknown as Consumer, subscribe };
}

describe('subscribeWhenKnown', () => {
  it('asks again while the broker does not know a topic yet', async () => {
    const { consumer, subscribe } = consumerFailing(unknownTopic(), unknownTopic());
    await subscribeWhenKnown(consumer, { topics: ['order_placed'] });
    expect(subscribe).toHaveBeenCalledTimes(3);
  });

  it('gives up at once on an error that asking again cannot fix', async () => {
    const denied = new ProtocolError({ type: 'TOPIC_AUTHORIZATION_FAILED', code: 29, retriable: false, message: 'Not authorized to access topics' });
    const { consumer, subscribe } = consumerFailing(denied, denied);
    await expect(subscribeWhenKnown(consumer, { topics: ['order_placed'] })).rejects.toBe(denied);
    expect(subscribe).toHaveBeenCalledTimes(1);
  });

  it('gives up with the broker answer once the deadline has passed', async () => {
    const { consumer, subscribe } = consumerFailing(...Array.from({ length: 50 }, unknownTopic));
    await expect(subscribeWhenKnown(consumer, { topics: ['order_placed'] }, 250)).rejects.toThrow('does not host this topic-partition');
    expect(subscribe.mock.calls.length).toBeGreaterThan(1);
  });
});

describe('BatchingKafkaServer routes', () => {
  // Nest's route lookup is protected; these tests call it as the transport does.
  type Routing = { getRouteFromPattern(pattern: string): string };

  it("gives Nest's route for a topic, and works it out once per topic", () => {
    const server = new BatchingKafkaServer({ client: { brokers: ['127.0.0.1:1'] } }, 'analytics', { chunkSize: 100 }) as unknown as Routing;
    const nest = new ServerKafka({}) as unknown as Routing;
    const nests = jest.spyOn(ServerKafka.prototype as unknown as Routing, 'getRouteFromPattern');
    try {
      expect(server.getRouteFromPattern('order_placed')).toBe('order_placed');
      expect(server.getRouteFromPattern('order_placed')).toBe('order_placed');
      expect(nests.mock.calls.filter(([p]) => p === 'order_placed')).toHaveLength(1);
      expect(server.getRouteFromPattern('{"cmd":"sum"}')).toBe(nest.getRouteFromPattern('{"cmd":"sum"}'));
    } finally {
      nests.mockRestore();
    }
  });
});

describe('BatchingKafkaServer dispatch to event handlers', () => {
  type Handler = (data: unknown, ctx: KafkaContext) => unknown;
  type Dispatch = {
    addHandler(pattern: unknown, callback: Handler, isEventHandler?: boolean, extras?: object): void;
    handleBatch(payload: EachBatchPayload): Promise<void>;
    readonly topics: string[];
  };
  /** A server of group "analytics", whose handlers are added as that group's unless told otherwise. */
  const server = (chunkSize = 100): Dispatch => {
    const s = new BatchingKafkaServer({ client: { brokers: ['127.0.0.1:1'] } }, 'analytics', { chunkSize }) as unknown as Dispatch;
    const add = s.addHandler.bind(s);
    s.addHandler = (pattern, callback, isEventHandler, extras = inGroup('analytics')) => add(pattern, callback, isEventHandler, extras);
    return s;
  };

  it('takes the handlers of its own group only, and refuses one that names none', () => {
    const s = server();
    s.addHandler('order_placed', async () => undefined, true);
    s.addHandler('user_created', async () => undefined, true, inGroup('webhooks'));
    expect(s.topics).toEqual(['order_placed']);
    expect(() => s.addHandler('user_updated', async () => undefined, true, {})).toThrow('the handler of user_updated names no consumer group');
  });

  /** A fetched batch of order_placed[2] at these offsets, and the offsets the server resolved. */
  function batchAt(...offsets: number[]): { payload: EachBatchPayload; resolved: string[] } {
    const resolved: string[] = [];
    const messages = offsets.map((o) => ({ offset: String(o), key: Buffer.from('7'), value: Buffer.from(`{"id":${o}}`), headers: {}, timestamp: '0', attributes: 0 }));
    const batch = {
      topic: 'order_placed',
      partition: 2,
      messages,
      firstOffset: () => messages[0].offset,
      lastOffset: () => messages[messages.length - 1].offset,
    };
    const payload = {
      batch,
      heartbeat: async () => undefined,
      pause: () => () => undefined,
      resolveOffset: (offset: string) => void resolved.push(offset),
      isRunning: () => true,
      isStale: () => false,
    } as unknown as EachBatchPayload;
    return { payload, resolved };
  }

  const offsetsIn = (ctx: KafkaContext) => (ctx as KafkaBatchContext).getMessages().map((m) => m.offset);

  it('hands each chunk once to every handler of its topic, with its records in order in the context', async () => {
    const s = server(2);
    const seen: string[] = [];
    const handler = (name: string) => async (data: unknown, ctx: KafkaContext) => {
      seen.push(`${name}@${offsetsIn(ctx).join(',')}/${ctx.getTopic()}[${ctx.getPartition()}] ${(data as unknown[]).map((v) => JSON.stringify(v)).join(' ')}`);
    };
    for (const name of ['enrichment', 'analytics']) s.addHandler('order_placed', handler(name), true);
    const { payload, resolved } = batchAt(41, 42, 43);
    await s.handleBatch(payload);
    expect(seen).toEqual([
      'enrichment@41,42/order_placed[2] {"id":41} {"id":42}',
      'analytics@41,42/order_placed[2] {"id":41} {"id":42}',
      'enrichment@43/order_placed[2] {"id":43}',
      'analytics@43/order_placed[2] {"id":43}',
    ]);
    expect(resolved).toEqual(['42', '43']);
  });

  it('gives the context each record as kafkajs read it: a JSON key or header stays its bytes', async () => {
    const s = server();
    let context: KafkaBatchContext | undefined;
    s.addHandler('order_placed', async (_data: unknown, ctx: KafkaContext) => void (context = ctx as KafkaBatchContext), true);
    const { payload } = batchAt(5);
    const [record] = payload.batch.messages;
    record.key = Buffer.from('{"id":5}');
    record.headers = { spring_json_header_types: Buffer.from('{"id":"java.lang.Long"}') };
    await s.handleBatch(payload);
    const [seen] = context!.getMessages();
    expect(String(seen.key)).toBe('{"id":5}');
    expect(String(seen.headers!.spring_json_header_types)).toBe('{"id":"java.lang.Long"}');
  });

  it('counts each chunk as handled when it is, so a commit made mid-batch is not taken for a skip', async () => {
    const s = server(2);
    const guard = (s as unknown as { skips: SkipGuard }).skips;
    const verdicts: Array<bigint | undefined> = [];
    s.addHandler('order_placed', async (_data, ctx) => {
      // The group committed 41 and 42 (the commit timer) while 43 is in the handlers.
      if (offsetsIn(ctx).includes('43')) verdicts.push(guard.behind(partitionKey('order_placed', 2), { committed: 43n, groupCommitted: true, low: 0n }));
    }, true);
    await s.handleBatch(batchAt(39, 40).payload);
    await s.handleBatch(batchAt(41, 42, 43).payload);
    expect(verdicts).toEqual([undefined]);
  });

  it("leaves a topic without event handlers to Nest's own dispatch, record by record", async () => {
    const s = server();
    const seen: string[] = [];
    s.addHandler('order_placed', async (_data: unknown, ctx: KafkaContext) => {
      seen.push(`${ctx instanceof KafkaBatchContext ? 'chunk' : 'record'}@${ctx.getMessage().offset}`);
    }, false);
    const { payload, resolved } = batchAt(7, 8);
    await s.handleBatch(payload);
    expect(seen).toEqual(['record@7', 'record@8']);
    expect(resolved).toEqual(['8']);
  });

  it('does not let Nest chain the handlers (a chained one would be called twice)', () => {
    const s = server();
    const first = Object.assign(async () => undefined, {} as { next?: unknown });
    s.addHandler('order_placed', first, true);
    s.addHandler('order_placed', async () => undefined, true);
    expect(first.next).toBeUndefined();
  });

  it('resolves the records before the first one a handler failed, and fails the batch there', async () => {
    const s = server(3);
    s.addHandler('order_placed', async (_data, ctx) => {
      if (offsetsIn(ctx).includes('14')) (ctx as KafkaBatchContext).recordFailed(1, new Error('order 14 failed'));
    }, true);
    s.addHandler('order_placed', async (_data, ctx) => {
      if (offsetsIn(ctx).includes('14')) (ctx as KafkaBatchContext).recordFailed(2, new Error('order 15 failed'));
    }, true);
    const { payload, resolved } = batchAt(10, 11, 12, 13, 14, 15);
    await expect(s.handleBatch(payload)).rejects.toThrow('order 14 failed');
    expect(resolved).toEqual(['12', '13']);
  });

  it("fails the whole chunk for a handler that fails without naming a record, whatever another handler named", async () => {
    const s = server();
    const started: string[] = [];
    s.addHandler('order_placed', async () => void started.push('ok'), true);
    s.addHandler('order_placed', () => (started.push('stream'), throwError(() => new Error('effect failed'))), true);
    s.addHandler('order_placed', async (_data, ctx) => {
      started.push('names one');
      (ctx as KafkaBatchContext).recordFailed(1, new Error('the second failed'));
    }, true);
    const first = batchAt(1, 2, 3);
    await expect(s.handleBatch(first.payload)).rejects.toThrow('effect failed');
    expect(started).toEqual(['ok', 'stream', 'names one']);
    expect(first.resolved).toEqual([]);

    const t = server();
    t.addHandler('order_placed', async () => {
      throw new Error('rejected');
    }, true);
    await expect(t.handleBatch(batchAt(1).payload)).rejects.toThrow('rejected');
  });

  describe('with offsets committed on an interval', () => {
    /** A batch whose commit calls are recorded: [] for a due-only commit, the offsets for one at once. */
    function committing(...offsets: number[]) {
      const { payload, resolved } = batchAt(...offsets);
      const commits: unknown[][] = [];
      Object.assign(payload, {
        commitOffsetsIfNecessary: async (...args: unknown[]) => void commits.push(args),
        uncommittedOffsets: () => ({ topics: resolved.length ? [{ topic: 'order_placed', partitions: [{ partition: 2, offset: String(Number(resolved.at(-1)) + 1) }] }] : [] }),
      });
      return { payload, commits };
    }
    const intervalServer = (): Dispatch => {
      const s = new BatchingKafkaServer({ client: { brokers: ['127.0.0.1:1'] } }, 'analytics', { chunkSize: 2, commitIntervalMs: 1_000 }) as unknown as Dispatch;
      const add = s.addHandler.bind(s);
      s.addHandler = (pattern, callback, isEventHandler) => add(pattern, callback, isEventHandler, inGroup('analytics'));
      return s;
    };

    it('asks for a commit only if the interval is due after a batch that went through', async () => {
      const s = intervalServer();
      s.addHandler('order_placed', async () => undefined, true);
      const { payload, commits } = committing(5, 6, 7);
      await s.handleBatch(payload);
      expect(commits).toEqual([[]]);
    });

    it('commits what a failed batch got through at once, and fails with the handler\'s reason', async () => {
      const s = intervalServer();
      s.addHandler('order_placed', async (_data, ctx) => {
        if (offsetsIn(ctx).includes('7')) throw new Error('order 7 failed');
      }, true);
      const { payload, commits } = committing(5, 6, 7);
      await expect(s.handleBatch(payload)).rejects.toThrow('order 7 failed');
      expect(commits).toEqual([[{ topics: [{ topic: 'order_placed', partitions: [{ partition: 2, offset: '7' }] }] }]]);
    });

    it('fails with the handler\'s reason when that commit fails too', async () => {
      const s = intervalServer();
      s.addHandler('order_placed', async () => {
        throw new Error('effect failed');
      }, true);
      const { payload } = committing(5, 6);
      Object.assign(payload, { uncommittedOffsets: () => ({ topics: [{ topic: 'order_placed', partitions: [{ partition: 2, offset: '5' }] }] }) });
      Object.assign(payload, { commitOffsetsIfNecessary: async () => Promise.reject(new Error('The group is rebalancing')) });
      await expect(s.handleBatch(payload)).rejects.toThrow('effect failed');
    });
  });
});

describe('BatchingKafkaServer after a crash kafkajs does not restart', () => {
  const EVENTS = { GROUP_JOIN: 'join', REBALANCING: 'rebalancing', STOP: 'stop', CRASH: 'crash', START_BATCH_PROCESS: 'start_batch' };

  /** A consumer whose n-th run crashes as kafkajs' does when joining fails: CRASH emitted, run resolved. */
  function consumerCrashingOnRuns(...crashingRuns: number[]) {
    const listeners = new Map<string, Array<(event: unknown) => void>>();
    const crash = (restart: boolean) =>
      listeners.get(EVENTS.CRASH)?.forEach((listener) => listener({ payload: { error: new Error('Failed to find group coordinator'), restart } }));
    let runs = 0;
    const consumer = {
      events: EVENTS,
      on: (event: string, listener: (event: unknown) => void) => listeners.set(event, [...(listeners.get(event) ?? []), listener]),
      connect: jest.fn(async () => undefined),
      disconnect: jest.fn(async () => undefined),
      run: jest.fn(async () => {
        runs += 1;
        if (crashingRuns.includes(runs)) crash(false);
      }),
    };
    const emit = (event: string) => listeners.get(event)?.forEach((listener) => listener({ payload: {} }));
    return { consumer, crash, emit };
  }

  async function running(consumer: object): Promise<BatchingKafkaServer> {
    const server = new BatchingKafkaServer({ client: { brokers: ['127.0.0.1:1'] } }, 'analytics', { chunkSize: 100 });
    Object.assign(server, { consumer });
    await server.bindEvents(consumer as unknown as Consumer);
    return server;
  }

  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('connects and runs the consumer again', async () => {
    const { consumer, crash } = consumerCrashingOnRuns();
    await running(consumer);
    crash(false);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(consumer.disconnect).toHaveBeenCalled();
    expect(consumer.connect).toHaveBeenCalledTimes(1);
    expect(consumer.run).toHaveBeenCalledTimes(2);
  });

  it('tries again while the restarted consumer crashes joining its group', async () => {
    const { consumer, crash } = consumerCrashingOnRuns(2, 3);
    await running(consumer);
    crash(false);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(consumer.run).toHaveBeenCalledTimes(4);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(consumer.run).toHaveBeenCalledTimes(4);
  });

  it('leaves a crash kafkajs restarts itself to kafkajs', async () => {
    const { consumer, crash } = consumerCrashingOnRuns();
    await running(consumer);
    crash(true);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(consumer.run).toHaveBeenCalledTimes(1);
  });

  it('waits longer each time the consumer keeps being left stopped', async () => {
    const { consumer, crash } = consumerCrashingOnRuns();
    await running(consumer);
    crash(false);
    await jest.advanceTimersByTimeAsync(500);
    crash(false);
    await jest.advanceTimersByTimeAsync(500);
    expect(consumer.run).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(500);
    expect(consumer.run).toHaveBeenCalledTimes(3);
  });

  it('runs with kafkajs commits off when committing on an interval, commits before a rebalance, and forgets a stopped run', async () => {
    const { consumer, emit } = consumerCrashingOnRuns();
    const server = new BatchingKafkaServer({ client: { brokers: ['127.0.0.1:1'] } }, 'analytics', { chunkSize: 100, commitIntervalMs: 1_000 });
    Object.assign(server, { consumer });
    await server.bindEvents(consumer as unknown as Consumer);
    expect(consumer.run).toHaveBeenCalledWith(expect.objectContaining({ autoCommit: false, autoCommitInterval: 1_000 }));

    const commits: unknown[][] = [];
    const offsets = { topics: [{ topic: 'order_placed', partitions: [{ partition: 0, offset: '8' }] }] };
    const payload = {
      batch: { topic: 'order_placed', partition: 0, messages: [], firstOffset: () => '7', lastOffset: () => '7' },
      resolveOffset: () => undefined,
      heartbeat: async () => undefined,
      isRunning: () => true,
      isStale: () => false,
      commitOffsetsIfNecessary: async (...args: unknown[]) => void commits.push(args),
      uncommittedOffsets: () => offsets,
    };
    await (server as unknown as { handleBatch(p: unknown): Promise<void> }).handleBatch(payload);
    expect(commits).toEqual([[]]);
    emit(EVENTS.REBALANCING);
    await jest.advanceTimersByTimeAsync(0);
    expect(commits).toEqual([[], [offsets]]);

    emit(EVENTS.STOP);
    await jest.advanceTimersByTimeAsync(10_000);
    await server.close();
    expect(commits).toHaveLength(2);
  });

  it('does not rejoin the group when the app closes while a restart is connecting, and the close waits for it', async () => {
    const { consumer, crash } = consumerCrashingOnRuns();
    const server = await running(consumer);
    let connected!: () => void;
    consumer.connect.mockImplementationOnce(() => new Promise<undefined>((resolve) => (connected = () => resolve(undefined))));
    crash(false);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(consumer.connect).toHaveBeenCalledTimes(1);
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(closed).toBe(false);
    connected();
    await closing;
    expect(consumer.run).toHaveBeenCalledTimes(1);
  });

  it('ends a restart pausing between attempts at once when the app closes', async () => {
    const { consumer, crash } = consumerCrashingOnRuns();
    const server = await running(consumer);
    consumer.connect.mockRejectedValue(new Error('broker down'));
    crash(false);
    await jest.advanceTimersByTimeAsync(1_000);
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    // Far less than the pause (1 s, then doubling) or the close's 5 s deadline.
    await jest.advanceTimersByTimeAsync(10);
    expect(closed).toBe(true);
    await closing;
  });

  it('restarts nothing once the app is closing', async () => {
    const { consumer, crash } = consumerCrashingOnRuns();
    const server = await running(consumer);
    crash(false);
    await server.close();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(consumer.run).toHaveBeenCalledTimes(1);
  });
});
