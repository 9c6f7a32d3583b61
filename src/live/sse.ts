import { BadRequestException } from '@nestjs/common';

/**
 * Server-Sent Events framing. Every event is a default `message` event (so `EventSource.onmessage`
 * sees all of them) whose `id` is the feed id a reconnecting client sends back as `Last-Event-ID`.
 */
export function sseEvent(id: number, data: unknown): string {
  // JSON.stringify never emits a raw newline, so the data fits one `data:` line.
  return `id: ${id}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** An id with no data: it sets the client's Last-Event-ID and dispatches no event. */
export function sseId(id: number): string {
  return `id: ${id}\n\n`;
}

/** How long a browser waits before reconnecting after the stream drops. */
export function sseRetry(ms: number): string {
  return `retry: ${ms}\n\n`;
}

/** A comment line: keeps proxies from closing an idle stream, ignored by clients. */
export const SSE_PING = ': ping\n\n';

/** The id to resume after: the `Last-Event-ID` header (a reconnecting browser) or the query parameter. */
export function resumePoint(header: string | undefined, query: string | undefined): number | undefined {
  const [field, value] = header !== undefined && header !== '' ? ['Last-Event-ID', header] : ['lastEventId', query];
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,15}$/.test(value.trim())) {
    throw new BadRequestException({ message: 'Validation failed', errors: [{ field, messages: [`${field} must be a non-negative integer`] }] });
  }
  return Number(value.trim());
}
