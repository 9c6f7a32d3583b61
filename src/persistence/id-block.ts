import type { DataSource } from 'typeorm';

/**
 * Ids reserved from a table's id sequence a block at a time, so a write can know its row's id (and
 * build the row's event) before its one statement runs: one extra round trip per block instead of a
 * transaction per write. Unused ids are gaps, as with any sequence. An outside producer may store a
 * row under an id of a block reserved before the sequence moved past it (see id-sequence.ts); the
 * writer then sees its insert conflict, discards the block and takes a fresh one.
 *
 * Under load the reservation waits in the pool's queue behind the writes, so it must never be what
 * every write waits for: the next block is reserved when half of this one is used, and a reservation
 * made while writes are waiting takes enough ids for all of them (up to MAX_RESERVATION).
 */
export class IdBlock {
  private free: number[] = [];
  private reserving?: Promise<void>;
  private waiting = 0;

  constructor(
    private readonly table: 'orders' | 'users',
    private readonly size: number,
    private readonly maxReservation = 10 * size,
  ) {}

  async next(db: DataSource): Promise<number> {
    if (this.free.length <= this.size / 2) this.reserveSoon(db);
    this.waiting += 1;
    try {
      while (this.free.length === 0) await this.reserveSoon(db);
    } finally {
      this.waiting -= 1;
    }
    return this.free.shift()!;
  }

  /** Forgets the ids left: some of them are taken. */
  discard(): void {
    this.free = [];
  }

  /** The reservation under way, or a new one. Callers that need an id await it; a prefetch does not. */
  private reserveSoon(db: DataSource): Promise<void> {
    if (!this.reserving) {
      const count = Math.min(Math.max(this.size, this.waiting + this.size / 2), this.maxReservation);
      this.reserving = this.reserve(db, Math.ceil(count)).finally(() => (this.reserving = undefined));
      // A failed prefetch is reported to the writes that wait for it, not as an unhandled rejection.
      this.reserving.catch(() => undefined);
    }
    return this.reserving;
  }

  private async reserve(db: DataSource, count: number): Promise<void> {
    const rows: { id: string }[] = await db.query(`SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id FROM generate_series(1, $2)`, [
      this.table,
      count,
    ]);
    this.free.push(...rows.map((r) => Number(r.id)).sort((a, b) => a - b));
  }
}
