import { Injectable } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { NextFunction, Request, Response } from 'express';
import type { Counter, Histogram } from 'prom-client';
import { METRIC } from './metrics';

type Labels = 'method' | 'route' | 'status';

/**
 * Counts and times every HTTP request, including those refused before a handler runs (413, 401, 404).
 * Labelled by the route pattern (`/users/:id`), never the raw URL, to keep label cardinality bounded.
 */
@Injectable()
export class HttpMetrics {
  constructor(
    @InjectMetric(METRIC.httpRequests) private readonly requests: Counter<Labels>,
    @InjectMetric(METRIC.httpDuration) private readonly duration: Histogram<Labels>,
  ) {}

  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      const labels = { method: req.method, route, status: String(res.statusCode) };
      this.requests.inc(labels);
      this.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}
