import type { NextFunction, Request, Response } from 'express';

/** Never refused: probes and scrapes must answer during an overload, and streams stay open for hours. */
const UNBOUNDED = /^\/(health|metrics|events\/stream)(\/|\?|$)/;

/**
 * Admission control: at most `limit` requests in flight (0: no bound). Beyond it a request is refused
 * at once with 503 and `Retry-After: 1` instead of queueing behind the others for the database pool:
 * under an overload, clients learn in a millisecond to come back, and the requests admitted keep
 * their latency. Counted from the headers' arrival to the response's close (finished or aborted).
 */
export function admissionControl(limit: number) {
  let inFlight = 0;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (limit === 0 || UNBOUNDED.test(req.url)) return next();
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
