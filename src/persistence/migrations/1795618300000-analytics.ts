import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Stream analytics read models (one-minute panes, per-product running statistics, per-user lifetime
 * totals, anomalies) and the live feed that `GET /events/stream` tails.
 */
export class Analytics1795618300000 implements MigrationInterface {
  name = 'Analytics1795618300000';

  async up(q: QueryRunner): Promise<void> {
    // One row per order seen, so an order counts once even when its event arrives under two ids
    // (an outside producer re-sending it), and a cancellation knows whether the placement was counted.
    // An order is its id and creation time (-infinity when the event carries none): an id handed out
    // again after a database was reset while the topics kept their history is another order.
    await q.query(`
      CREATE TABLE analytics_orders (
        order_id      bigint        NOT NULL,
        created_at    timestamptz   NOT NULL,
        user_id       bigint        NULL,
        product       text          NOT NULL,
        amount        numeric(15,2) NOT NULL,
        placed_at     timestamptz   NULL,
        cancelled_at  timestamptz   NULL,
        PRIMARY KEY (order_id, created_at)
      )`);

    // One-minute tumbling windows (panes); hopping windows are sums of consecutive panes.
    await q.query(`
      CREATE TABLE analytics_minute_windows (
        window_start  timestamptz   PRIMARY KEY,
        placed        integer       NOT NULL DEFAULT 0,
        cancelled     integer       NOT NULL DEFAULT 0,
        revenue       numeric(20,2) NOT NULL DEFAULT 0
      )`);

    await q.query(`
      CREATE TABLE analytics_product_minute_windows (
        window_start  timestamptz   NOT NULL,
        product       text          NOT NULL,
        placed        integer       NOT NULL DEFAULT 0,
        cancelled     integer       NOT NULL DEFAULT 0,
        revenue       numeric(20,2) NOT NULL DEFAULT 0,
        PRIMARY KEY (window_start, product)
      )`);

    // Welford's running mean and sum of squared deviations of each product's order amounts.
    await q.query(`
      CREATE TABLE analytics_product_stats (
        product  text             PRIMARY KEY,
        samples  bigint           NOT NULL DEFAULT 0,
        mean     double precision NOT NULL DEFAULT 0,
        m2       double precision NOT NULL DEFAULT 0
      )`);

    await q.query(`
      CREATE TABLE analytics_users (
        user_id         bigint        PRIMARY KEY,
        orders          integer       NOT NULL DEFAULT 0,
        cancelled       integer       NOT NULL DEFAULT 0,
        spend           numeric(20,2) NOT NULL DEFAULT 0,
        first_order_at  timestamptz   NULL,
        last_order_at   timestamptz   NULL
      )`);

    // dedupe_key names what was detected (the order, or the rule and window), so a rule fires once
    // for it however often the events behind it are replayed. published_at is set by the transaction
    // that writes the anomaly_detected event to the outbox.
    await q.query(`
      CREATE TABLE analytics_anomalies (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        dedupe_key    text             NOT NULL UNIQUE,
        rule          text             NOT NULL,
        message       text             NOT NULL,
        observed      double precision NOT NULL,
        threshold     double precision NOT NULL,
        order_id      bigint           NULL,
        product       text             NULL,
        user_id       bigint           NULL,
        window_start  timestamptz      NULL,
        window_end    timestamptz      NULL,
        occurred_at   timestamptz      NOT NULL,
        details       jsonb            NOT NULL DEFAULT '{}'::jsonb,
        detected_at   timestamptz      NOT NULL DEFAULT now(),
        published_at  timestamptz      NULL
      )`);
    await q.query(`CREATE INDEX analytics_anomalies_unpublished_idx ON analytics_anomalies (id) WHERE published_at IS NULL`);
    await q.query(`CREATE INDEX analytics_anomalies_rule_idx ON analytics_anomalies (rule, id)`);

    // The live feed: every consumed event once, ids handed out in commit order (see LiveFeedService).
    await q.query(`
      CREATE TABLE live_events (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id     text        NOT NULL UNIQUE,
        type         text        NOT NULL,
        topic        text        NOT NULL,
        "partition"  integer     NOT NULL,
        "offset"     bigint      NOT NULL,
        key          text        NULL,
        payload      jsonb       NOT NULL,
        occurred_at  timestamptz NOT NULL,
        consumed_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX live_events_type_idx ON live_events (type, id)`);
    await q.query(`CREATE INDEX live_events_consumed_at_idx ON live_events (consumed_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE IF EXISTS live_events, analytics_anomalies, analytics_users, analytics_product_stats,
        analytics_product_minute_windows, analytics_minute_windows, analytics_orders`);
  }
}
