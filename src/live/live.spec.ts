import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app.config';
import type { StreamQuery } from './dto/stream.request.dto';
import { FeedSubscriber, LiveEvent, LiveFeedService } from './live-feed.service';
import { LiveHttpController } from './live.http.controller';

/** A response that records what is written; `write` answers as a full socket buffer would when told to. */
class FakeResponse extends EventEmitter {
  readonly written: string[] = [];
  full = false;
  status = jest.fn(() => this);
  setHeader = jest.fn();
  flushHeaders = jest.fn();
  end = jest.fn();
  write(chunk: string): boolean {
    this.written.push(chunk);
    return !this.full;
  }
}

function feedDouble() {
  return {
    lastId: jest.fn(async () => 42),
    recent: jest.fn(async (): Promise<LiveEvent[]> => []),
    subscribe: jest.fn((_s: FeedSubscriber) => () => undefined),
  };
}

const query = (values: Partial<StreamQuery> = {}): StreamQuery => ({ backlog: 0, ...values });

describe('GET /events/stream', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends the position first when there is no backlog, so a reconnect before any event resumes from it', async () => {
    const feed = feedDouble();
    const res = new FakeResponse();
    await new LiveHttpController(feed as unknown as LiveFeedService).stream(query(), undefined, res as unknown as Response);
    expect(res.written.slice(0, 2)).toEqual(['retry: 2000\n\n', 'id: 42\n\n']);
    expect(feed.subscribe).toHaveBeenCalledWith(expect.objectContaining({ cursor: 42 }));
  });

  it('reads the head before the backlog, so an event committed in between is not skipped', async () => {
    const feed = feedDouble();
    const order: string[] = [];
    feed.lastId.mockImplementation(async () => {
      order.push('head');
      return 42;
    });
    feed.recent.mockImplementation(async () => {
      order.push('backlog');
      return [];
    });
    await new LiveHttpController(feed as unknown as LiveFeedService).stream(query({ backlog: 5 }), undefined, new FakeResponse() as unknown as Response);
    expect(order).toEqual(['head', 'backlog']);
  });

  it('leaves no subscriber and no timer behind for a client gone while the backlog was read', async () => {
    const feed = feedDouble();
    const res = new FakeResponse();
    let answer!: (events: LiveEvent[]) => void;
    feed.recent.mockImplementation(() => new Promise((resolve) => (answer = resolve)));
    const streaming = new LiveHttpController(feed as unknown as LiveFeedService).stream(query({ backlog: 5 }), undefined, res as unknown as Response);
    await jest.advanceTimersByTimeAsync(0);
    res.emit('close');
    answer([]);
    await streaming;
    expect(feed.subscribe).not.toHaveBeenCalled();
    expect(res.written).toEqual([]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('makes the feed wait while the client is behind, until its buffer drains or it goes', async () => {
    const feed = feedDouble();
    const res = new FakeResponse();
    await new LiveHttpController(feed as unknown as LiveFeedService).stream(query(), undefined, res as unknown as Response);
    const { deliver } = feed.subscribe.mock.calls[0][0];
    res.full = true;
    let caughtUp = false;
    void Promise.resolve(deliver([event(43)])).then(() => (caughtUp = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(caughtUp).toBe(false);
    res.emit('drain');
    await jest.advanceTimersByTimeAsync(0);
    expect(caughtUp).toBe(true);
    res.full = false;
    expect(deliver([event(44)])).toBeUndefined();
  });
});

describe('LiveFeedService pump', () => {
  function service(pages: LiveEvent[][]) {
    const rows = pages.map((page) => page.map((e) => ({ ...e, event_id: e.eventId, occurred_at: e.occurredAt, consumed_at: e.consumedAt })));
    const dataSource = { query: jest.fn(async () => rows.shift() ?? []) };
    const config = { live: { pollIntervalMs: 60_000, retentionHours: 24 } };
    return { feed: new LiveFeedService(dataSource as unknown as DataSource, config as unknown as AppConfig), dataSource };
  }

  it('reads the next page only once the client has taken the last one', async () => {
    const fullPage = Array.from({ length: 500 }, (_, i) => event(i + 1));
    const { feed, dataSource } = service([fullPage, [event(501)]]);
    let release!: () => void;
    const deliver = jest.fn((_events: LiveEvent[]): Promise<void> | void => new Promise<void>((resolve) => (release = resolve)));
    const unsubscribe = feed.subscribe({ filter: {}, cursor: 0, deliver, close: () => undefined });
    await new Promise((resolve) => setImmediate(resolve));
    expect(dataSource.query).toHaveBeenCalledTimes(1);
    expect(deliver).toHaveBeenCalledTimes(1);
    deliver.mockImplementation(() => undefined);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(dataSource.query).toHaveBeenCalledTimes(2);
    expect(deliver.mock.calls[1][0].map((e: LiveEvent) => e.id)).toEqual([501]);
    unsubscribe();
  });
});

function event(id: number): LiveEvent {
  const at = '2026-11-25T10:00:00.000Z';
  return { id, eventId: `e${id}`, type: 'order_placed', topic: 'order_placed', partition: 0, offset: String(id), key: null, occurredAt: at, consumedAt: at, payload: {} };
}
