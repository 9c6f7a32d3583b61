import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { appConfig, AppConfig } from '../config/app.config';
import { Anomaly, AnomalyRow, toAnomaly } from './anomaly';
import { AnomaliesQuery, SummaryQuery, TopProductsQuery } from './dto/analytics.request.dto';
import { alignUp, countWindows, MINUTE_MS, WindowSpec, windowEndingAfter, windowOf, windowSpecs, windowStarts } from './windows';

/** Most windows one summary request may ask for (a day of one-minute windows). */
export const MAX_WINDOWS = 1440;
/** Windows a summary covers when the request names no range. */
const DEFAULT_WINDOWS = 60;

export interface ProductCount {
  product: string;
  placed: number;
  cancelled: number;
  revenue: number;
}

export interface WindowSummary {
  start: string;
  end: string;
  placed: number;
  cancelled: number;
  revenue: number;
  averageOrderValue: number | null;
  topProducts: Omit<ProductCount, 'cancelled'>[];
}

export interface Summary {
  window: WindowSpec;
  from: string;
  to: string;
  windows: WindowSummary[];
  /** Over every minute the windows cover, each counted once (hopping windows overlap). */
  totals: { placed: number; cancelled: number; revenue: number; averageOrderValue: number | null };
}

export interface UserAnalytics {
  userId: number;
  orders: number;
  cancelled: number;
  spend: number;
  averageOrderValue: number | null;
  firstOrderAt: string | null;
  lastOrderAt: string | null;
}

/** Reads of the analytics read models; every query is parameterised. */
@Injectable()
export class AnalyticsQueryService {
  private readonly specs: WindowSpec[];

  constructor(
    private readonly dataSource: DataSource,
    @Inject(appConfig.KEY) config: AppConfig,
  ) {
    this.specs = windowSpecs(config.analytics.hopping);
  }

  windows(): WindowSpec[] {
    return this.specs;
  }

  async summary(query: SummaryQuery, now = new Date()): Promise<Summary> {
    const spec = this.spec(query.window);
    const { from, to } = this.range(spec, query, now);
    const starts = windowStarts(spec, from, to);
    const size = spec.sizeMinutes;
    const rows: { start: Date; placed: number; cancelled: number; revenue: string }[] = await this.dataSource.query(
      `WITH w AS (SELECT unnest($1::timestamptz[]) AS start)
       SELECT w.start, coalesce(sum(m.placed), 0)::int AS placed, coalesce(sum(m.cancelled), 0)::int AS cancelled,
              coalesce(sum(m.revenue), 0)::text AS revenue
         FROM w LEFT JOIN analytics_minute_windows m
           ON m.window_start >= w.start AND m.window_start < w.start + make_interval(mins => $2)
        GROUP BY w.start ORDER BY w.start`,
      [starts, size],
    );
    const top = query.top > 0 && starts.length > 0 ? await this.topPerWindow(starts, size, query.top) : new Map();
    const windows = rows.map((r) => {
      const { start, end } = windowOf(spec, new Date(r.start));
      const revenue = Number(r.revenue);
      return {
        start: start.toISOString(),
        end: end.toISOString(),
        placed: r.placed,
        cancelled: r.cancelled,
        revenue,
        averageOrderValue: average(revenue, r.placed),
        topProducts: top.get(start.getTime()) ?? [],
      };
    });
    const covered = starts.length === 0 ? { start: from, end: from } : { start: starts[0], end: windowOf(spec, starts[starts.length - 1]).end };
    const [t] = await this.dataSource.query(
      `SELECT coalesce(sum(placed), 0)::int AS placed, coalesce(sum(cancelled), 0)::int AS cancelled, coalesce(sum(revenue), 0)::text AS revenue
         FROM analytics_minute_windows WHERE window_start >= $1 AND window_start < $2`,
      [covered.start, covered.end],
    );
    const revenue = Number(t.revenue);
    return {
      window: spec,
      from: from.toISOString(),
      to: to.toISOString(),
      windows,
      totals: { placed: t.placed, cancelled: t.cancelled, revenue, averageOrderValue: average(revenue, t.placed) },
    };
  }

  async topProducts(query: TopProductsQuery, now = new Date()): Promise<{ window: WindowSpec & { start: string; end: string }; items: ProductCount[] }> {
    const spec = this.spec(query.window);
    const window = windowEndingAfter(spec, query.at ? new Date(query.at) : now);
    const rows: { product: string; placed: number; cancelled: number; revenue: string }[] = await this.dataSource.query(
      `SELECT product, sum(placed)::int AS placed, sum(cancelled)::int AS cancelled, sum(revenue)::text AS revenue
         FROM analytics_product_minute_windows
        WHERE window_start >= $1 AND window_start < $2
        GROUP BY product
       HAVING sum(placed) > 0
        ORDER BY sum(placed) DESC, sum(revenue) DESC, product
        LIMIT $3`,
      [window.start, window.end, query.limit],
    );
    return {
      window: { ...spec, start: window.start.toISOString(), end: window.end.toISOString() },
      items: rows.map((r) => ({ product: r.product, placed: r.placed, cancelled: r.cancelled, revenue: Number(r.revenue) })),
    };
  }

  /** Lifetime totals of a user's orders; zeros for a user whose orders analytics has not seen. */
  async user(userId: number): Promise<UserAnalytics> {
    const [row] = await this.dataSource.query(
      `SELECT orders, cancelled, spend::text AS spend, first_order_at, last_order_at FROM analytics_users WHERE user_id = $1`,
      [userId],
    );
    if (!row) return { userId, orders: 0, cancelled: 0, spend: 0, averageOrderValue: null, firstOrderAt: null, lastOrderAt: null };
    const spend = Number(row.spend);
    return {
      userId,
      orders: row.orders,
      cancelled: row.cancelled,
      spend,
      averageOrderValue: average(spend, row.orders - row.cancelled),
      firstOrderAt: row.first_order_at ? new Date(row.first_order_at).toISOString() : null,
      lastOrderAt: row.last_order_at ? new Date(row.last_order_at).toISOString() : null,
    };
  }

  async anomalies(query: AnomaliesQuery): Promise<{ items: Anomaly[]; nextCursor: number | null }> {
    const rows: AnomalyRow[] = await this.dataSource.query(
      `SELECT * FROM analytics_anomalies
        WHERE ($1::text IS NULL OR rule = $1) AND ($2::bigint IS NULL OR id < $2)
        ORDER BY id DESC LIMIT $3`,
      [query.rule ?? null, query.before ?? null, query.limit + 1],
    );
    const items = rows.slice(0, query.limit).map(toAnomaly);
    return { items, nextCursor: rows.length > query.limit ? items[items.length - 1].id : null };
  }

  private async topPerWindow(starts: Date[], sizeMinutes: number, top: number): Promise<Map<number, WindowSummary['topProducts']>> {
    const rows: { start: Date; product: string; placed: number; revenue: string }[] = await this.dataSource.query(
      `WITH w AS (SELECT unnest($1::timestamptz[]) AS start),
            p AS (SELECT w.start, pm.product, sum(pm.placed)::int AS placed, sum(pm.revenue) AS revenue
                    FROM w JOIN analytics_product_minute_windows pm
                      ON pm.window_start >= w.start AND pm.window_start < w.start + make_interval(mins => $2)
                   GROUP BY w.start, pm.product
                  HAVING sum(pm.placed) > 0),
            r AS (SELECT p.*, row_number() OVER (PARTITION BY p.start ORDER BY p.placed DESC, p.revenue DESC, p.product) AS rank FROM p)
       SELECT start, product, placed, revenue::text AS revenue FROM r WHERE rank <= $3 ORDER BY start, rank`,
      [starts, sizeMinutes, top],
    );
    const byWindow = new Map<number, WindowSummary['topProducts']>();
    for (const r of rows) {
      const key = new Date(r.start).getTime();
      byWindow.set(key, [...(byWindow.get(key) ?? []), { product: r.product, placed: r.placed, revenue: Number(r.revenue) }]);
    }
    return byWindow;
  }

  private spec(label: string | undefined): WindowSpec {
    const spec = this.specs.find((s) => s.label === (label ?? '1m'));
    if (!spec) throw fieldError('window', `window must be one of: ${this.specs.map((s) => s.label).join(', ')}`);
    return spec;
  }

  /** The requested range, defaulting to the last DEFAULT_WINDOWS windows up to now; bounded to MAX_WINDOWS. */
  private range(spec: WindowSpec, query: SummaryQuery, now: Date): { from: Date; to: Date } {
    const hop = spec.hopMinutes * MINUTE_MS;
    // The hop boundary after now, so the window in progress is the last one.
    const to = query.to ? new Date(query.to) : new Date(alignUp(now.getTime() + 1, hop));
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - DEFAULT_WINDOWS * hop);
    if (to.getTime() <= from.getTime()) throw fieldError('to', 'to must be after from');
    const count = countWindows(spec, from, to);
    if (count > MAX_WINDOWS) throw fieldError('from', `the range holds ${count} ${spec.label} windows; at most ${MAX_WINDOWS} per request`);
    return { from, to };
  }
}

function average(total: number, count: number): number | null {
  return count > 0 ? Math.round((total / count) * 100) / 100 : null;
}

function fieldError(field: string, message: string): BadRequestException {
  return new BadRequestException({ message: 'Validation failed', errors: [{ field, messages: [message] }] });
}
