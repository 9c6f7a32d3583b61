import type { NextFunction, Request, Response } from 'express';

/** Probes and scrapes: answered by every process, whatever its role (see bootstrap) or its load. */
export const isOperationalRoute = (url: string): boolean => /^\/(health|metrics)(\/|\?|$)/.test(url);

/** Streams stay open for hours, so they are never counted as in flight. */
const isStream = (url: string): boolean => /^\/events\/stream(\/|\?|$)/.test(url);

/**
 * Admission control: at most `limit` requests in flight (0: no bound). Beyond it a request is refused
 * at once with 503 and `Retry-After: 1` instead of queueing behind the others for the database pool:
 * under an overload, clients learn in a millisecond to come back, and the requests admitted keep
 * their latency. Counted from the headers' arrival to the response's close (finished or aborted).
 */
export function admissionControl(limit: number) {
  let inFlight = 0;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (limit === 0 || isOperationalRoute(req.url) || isStream(req.url)) return next();
    if (inFlight >= limit) {
      res.setHeader('Retry-After', '1');
      res.status(503).json({ statusCode: 503, error: 'Service Unavailable', message: `too many requests in flight (${limit}); retry after 1 second` });
      return;
    }
    inFlight += 1;
    res.once('close', () => (inFlight -= 1));
    next();
  };
}
