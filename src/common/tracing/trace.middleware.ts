import type { NextFunction, Request, Response } from 'express';
import { childOf, formatTraceparent, parseTraceparent, runInTrace, TRACEPARENT_HEADER } from './trace-context';

/** Continues the caller's trace (or starts one) for the whole request, and echoes it back. */
export function traceMiddleware(req: Request, res: Response, next: NextFunction): void {
  const ctx = childOf(parseTraceparent(req.header(TRACEPARENT_HEADER)));
  res.setHeader(TRACEPARENT_HEADER, formatTraceparent(ctx));
  runInTrace(ctx, next);
}
