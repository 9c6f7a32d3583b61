import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConflictError, EntityNotFoundError } from '../common/errors';
import { Page, toPage } from '../common/http/page';
import { OutboxRelay } from '../messaging/outbox/outbox-relay.service';
import { OutboxService } from '../messaging/outbox/outbox.service';
import type { DeadLetterResponse } from './dto/dead-letter.dto';

interface DeadLetterRow {
  id: string;
  consumer: string;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  reason: string;
  attempts: number;
  created_at: Date;
  replayed_at: Date | null;
}

/** Inspect, replay and discard messages set aside by the consumer pipeline. */
@Injectable()
export class DeadLettersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxService,
    private readonly relay: OutboxRelay,
  ) {}

  async list(limit: number, after = 0, topic?: string): Promise<Page<DeadLetterResponse>> {
    const rows: DeadLetterRow[] = await this.dataSource.query(
      `SELECT id, consumer, topic, "partition", "offset", key, value, headers, reason, attempts, created_at, replayed_at
         FROM dead_letters WHERE id > $1 AND ($2::text IS NULL OR topic = $2) ORDER BY id LIMIT $3`,
      [after, topic ?? null, limit + 1],
    );
    return toPage(rows.map(toResponse), limit);
  }

  async get(id: number): Promise<DeadLetterResponse> {
    const [row]: DeadLetterRow[] = await this.dataSource.query(`SELECT id, consumer, topic, "partition", "offset", key, value, headers, reason, attempts, created_at, replayed_at FROM dead_letters WHERE id = $1`,
      [id],
    );
    if (!row) throw new EntityNotFoundError('dead letter', id);
    return toResponse(row);
  }

  /**
   * Sends the original record (key, value, headers) back to its original topic through the outbox,
   * once: a second replay is a 409. Consumers see it as a new record, so a fixed handler processes it.
   */
  async replay(id: number): Promise<DeadLetterResponse> {
    const row = await this.dataSource.transaction(async (em) => {
      const [locked]: DeadLetterRow[] = await em.query(`SELECT id, consumer, topic, "partition", "offset", key, value, headers, reason, attempts, created_at, replayed_at FROM dead_letters WHERE id = $1 FOR UPDATE`,
        [id],
      );
      if (!locked) throw new EntityNotFoundError('dead letter', id);
      if (locked.replayed_at) throw new ConflictError(`dead letter ${id} was already replayed at ${locked.replayed_at.toISOString()}`);
      await this.outbox.enqueue(em, { topic: locked.topic, key: locked.key, value: locked.value, headers: locked.headers });
      // For UPDATE, TypeORM's query() answers [rows, affected count].
      const [[updated]]: [DeadLetterRow[], number] = await em.query(
        `UPDATE dead_letters SET replayed_at = now() WHERE id = $1
         RETURNING id, consumer, topic, "partition", "offset", key, value, headers, reason, attempts, created_at, replayed_at`,
        [id],
      );
      return updated;
    });
    this.relay.wake();
    return toResponse(row);
  }

  async remove(id: number): Promise<void> {
    const [, affected]: [unknown[], number] = await this.dataSource.query(`DELETE FROM dead_letters WHERE id = $1`, [id]);
    if (affected === 0) throw new EntityNotFoundError('dead letter', id);
  }
}

function toResponse(r: DeadLetterRow): DeadLetterResponse {
  return {
    id: Number(r.id),
    consumer: r.consumer,
    topic: r.topic,
    partition: r.partition,
    offset: String(r.offset),
    key: r.key,
    value: r.value === null ? null : r.value.toString('utf8'),
    headers: r.headers,
    reason: r.reason,
    attempts: r.attempts,
    createdAt: r.created_at.toISOString(),
    replayedAt: r.replayed_at ? r.replayed_at.toISOString() : null,
  };
}
