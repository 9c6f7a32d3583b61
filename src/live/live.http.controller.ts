import { Controller, Get, Headers, Query, Req, Res } from '@nestjs/common';
import { ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { StreamQuery } from './dto/stream.request.dto';
import { LiveEvent, LiveFeedService } from './live-feed.service';
import { resumePoint, sseEvent, sseRetry, SSE_PING } from './sse';

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
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const resumeAfter = resumePoint(lastEventId, query.lastEventId);
    const filter = { types: query.type };
    const backlog = resumeAfter === undefined ? await this.feed.recent(filter, query.backlog) : [];
    const cursor = resumeAfter ?? (backlog.length > 0 ? backlog[backlog.length - 1].id : await this.feed.lastId());

    res.status(200);
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache, no-transform');
    res.setHeader('connection', 'keep-alive');
    // Reverse proxies such as nginx would otherwise buffer the stream.
    res.setHeader('x-accel-buffering', 'no');
    res.flushHeaders();
    const send = (events: LiveEvent[]) => {
      if (events.length > 0) res.write(events.map((e) => sseEvent(e.id, e)).join(''));
    };
    res.write(sseRetry(RETRY_MS));
    send(backlog);

    const ping = setInterval(() => res.write(SSE_PING), PING_INTERVAL_MS);
    const unsubscribe = this.feed.subscribe({ filter, cursor, deliver: send, close: () => res.end() });
    req.on('close', () => {
      clearInterval(ping);
      unsubscribe();
    });
  }
}
