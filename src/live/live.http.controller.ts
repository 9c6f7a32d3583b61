import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { StreamQuery } from './dto/stream.request.dto';
import { LiveEvent, LiveFeedService } from './live-feed.service';
import { resumePoint, sseEvent, sseId, sseRetry, SSE_PING } from './sse';

const PING_INTERVAL_MS = 15_000;
const RETRY_MS = 2_000;

@ApiTags('events')
@Controller('events')
export class LiveHttpController {
  constructor(private readonly feed: LiveFeedService) {}

  /**
   * Server-Sent Events of domain events as they are consumed, optionally filtered by type. A client
   * that reconnects with `Last-Event-ID` gets everything after that id, then the live tail.
   */
  @Get('stream')
  @ApiProduces('text/event-stream')
  async stream(
    @Query() query: StreamQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    const resumeAfter = resumePoint(lastEventId, query.lastEventId);
    // A client gone while the backlog is read must leave nothing behind: no timer, no subscriber.
    let closed = false;
    res.once('close', () => (closed = true));
    const filter = { types: query.type };
    // The head is read before the backlog, so an event committed between the two reads is sent, not skipped.
    const head = resumeAfter ?? (await this.feed.lastId());
    const backlog = resumeAfter === undefined ? await this.feed.recent(filter, query.backlog) : [];
    const cursor = backlog.length > 0 ? backlog[backlog.length - 1].id : head;
    if (closed) return;

    res.status(200);
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache, no-transform');
    res.setHeader('connection', 'keep-alive');
    // Reverse proxies such as nginx would otherwise buffer the stream.
    res.setHeader('x-accel-buffering', 'no');
    res.flushHeaders();
    res.write(sseRetry(RETRY_MS));
    // Without an event yet, the client still learns where it is: a reconnect before its first event
    // resumes from here instead of from whatever is newest by then.
    if (backlog.length === 0) res.write(sseId(cursor));
    const send = (events: LiveEvent[]): Promise<void> | undefined => {
      if (events.length === 0 || res.write(events.map((e) => sseEvent(e.id, e)).join(''))) return undefined;
      // A client reading slower than events come: the feed waits for it (its cursor keeps the place)
      // instead of buffering the whole table in memory.
      return new Promise((resolve) => {
        const go = () => {
          res.off('drain', go);
          res.off('close', go);
          resolve();
        };
        res.on('drain', go);
        res.on('close', go);
      });
    };
    void send(backlog);

    const ping = setInterval(() => res.write(SSE_PING), PING_INTERVAL_MS);
    const unsubscribe = this.feed.subscribe({ filter, cursor, deliver: send, close: () => res.end() });
    res.once('close', () => {
      clearInterval(ping);
      unsubscribe();
    });
  }
}
