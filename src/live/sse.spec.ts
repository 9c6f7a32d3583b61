import { BadRequestException } from '@nestjs/common';
import { resumePoint, sseEvent, sseRetry } from './sse';

describe('SSE framing', () => {
  it('frames an event as one id line and one data line', () => {
    expect(sseEvent(42, { type: 'order_placed', note: 'two\nlines' })).toBe('id: 42\ndata: {"type":"order_placed","note":"two\\nlines"}\n\n');
  });

  it('frames the reconnect delay', () => {
    expect(sseRetry(2000)).toBe('retry: 2000\n\n');
  });
});

describe('resume point', () => {
  it('prefers the Last-Event-ID header a reconnecting browser sends', () => {
    expect(resumePoint('17', '3')).toBe(17);
  });

  it('falls back to the lastEventId query parameter, and to nothing', () => {
    expect(resumePoint(undefined, '3')).toBe(3);
    expect(resumePoint(undefined, undefined)).toBeUndefined();
    expect(resumePoint('', undefined)).toBeUndefined();
  });

  it.each(['abc', '-1', '1.5', '12345678901234567'])('rejects Last-Event-ID %j with a 400 naming the header', (bad) => {
    let thrown: unknown;
    try {
      resumePoint(bad, undefined);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(BadRequestException);
    expect((thrown as BadRequestException).getResponse()).toMatchObject({ errors: [{ field: 'Last-Event-ID' }] });
  });
});
