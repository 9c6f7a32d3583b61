import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { retryOnDeadlock } from '../common/db-errors';
import { ConflictError } from '../common/errors';
import { EventLogReader } from '../persistence/event-log/event-log.reader';
import type { Projection, ProjectionBuilder } from './projection';
import { ProjectionRegistry } from './projection-registry';
import { ident } from './rows-writer';
import { compareTables, createFreshTable, dropTable, swapTables, TableDifferences } from './table-swap';

export interface RebuildOptions {
  /** false: only build and compare (the check), leaving the live tables alone. */
  swap?: boolean;
  /** Runs once the fresh tables hold the log up to the fence, before catch-up and swap (tests use it). */
  beforeSwap?: () => Promise<void>;
}

export interface RebuildReport {
  projection: string;
  swapped: boolean;
  /** Events folded, those that arrived during the rebuild included. */
  events: number;
  /** The log position the rebuilt tables reflect. */
  position: number;
  /** True when the rebuilt tables equal the live ones they were compared with. */
  identical: boolean;
  tables: (TableDifferences & { rows: number })[];
  durationMs: number;
}

// Session-level advisory lock key space for "a rebuild of this projection is running".
const REBUILD_LOCK = 7_310_010;
const PAGE = 5000;

/**
 * Rebuilds a projection from the event log into fresh tables while the live ones keep serving:
 * 1. fence: wait for in-flight writers of the log, note its last position (all before it are committed);
 * 2. fold the log up to there into fresh tables, without locking anything;
 * 3. one transaction: block writers of the live tables (readers carry on), fold what was appended
 *    meanwhile, compare fresh with live, and swap them by renaming (or drop the fresh ones, for a check).
 */
@Injectable()
export class ProjectionRebuilder {
  private readonly logger = new Logger(ProjectionRebuilder.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly reader: EventLogReader,
    private readonly registry: ProjectionRegistry,
  ) {}

  async rebuild(name: string, options: RebuildOptions = {}): Promise<RebuildReport> {
    const projection = this.registry.get(name);
    const swap = options.swap ?? true;
    const started = Date.now();
    const session = this.dataSource.createQueryRunner();
    await session.connect();
    try {
      const [{ locked }] = await session.query('SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked', [REBUILD_LOCK, name]);
      if (!locked) throw new ConflictError(`a rebuild of ${name} is already running`);
      try {
        // A writer that appends to the log before it writes a live table (the ingest consumer's batch
        // storing an outside user, then an outside order) can deadlock with the swap's table locks;
        // Postgres aborts one of the two, and a rebuild aborted that way starts over from the log.
        const report = await retryOnDeadlock(() => this.run(projection, swap, options.beforeSwap));
        this.logger.log(
          `${swap ? 'rebuilt' : 'checked'} ${name}: ${report.events} events up to position ${report.position}, ${report.identical ? 'identical to' : 'differs from'} the live tables`,
        );
        return { ...report, durationMs: Date.now() - started };
      } finally {
        await session.query('SELECT pg_advisory_unlock($1, hashtext($2))', [REBUILD_LOCK, name]);
      }
    } finally {
      await session.release();
    }
  }

  private async run(projection: Projection, swap: boolean, beforeSwap?: () => Promise<void>): Promise<Omit<RebuildReport, 'durationMs'>> {
    const fresh = (live: string) => `${live}__rebuild`;
    const tableOf = (live: string) => ident(fresh(live));
    const manager = this.dataSource.manager;
    for (const t of projection.tables) await createFreshTable(manager, t.name, fresh(t.name));
    try {
      const fence = await this.fence();
      const builder = projection.createBuilder();
      let events = await this.fold(manager, projection, builder, 0, fence);
      await this.dataSource.transaction((em) => builder.flush(em, tableOf));
      await beforeSwap?.();

      return await this.dataSource.transaction(async (em) => {
        // Writers queue here; plain reads of the live tables carry on until the rename at the end.
        // Live tables before the log: the order writers take their locks in, so no deadlock.
        for (const t of [...projection.tables].sort((a, b) => a.name.localeCompare(b.name))) {
          await em.query(`LOCK TABLE ${ident(t.name)} IN EXCLUSIVE MODE`);
        }
        await em.query('LOCK TABLE event_log IN SHARE MODE');
        const position = await this.reader.lastPosition(em);
        events += await this.fold(em, projection, builder, fence, position);
        await builder.flush(em, tableOf);

        const tables = [];
        for (const t of projection.tables) {
          const [{ rows }] = await em.query(`SELECT count(*)::int AS rows FROM ${tableOf(t.name)}`);
          tables.push({ ...(await compareTables(em, t, fresh(t.name))), rows });
          if (swap) {
            await em.query(`ANALYZE ${tableOf(t.name)}`);
            await swapTables(em, t.name, fresh(t.name));
          }
        }
        const identical = tables.every((t) => t.onlyLive + t.onlyRebuilt + t.changed === 0);
        return { projection: projection.name, swapped: swap, events, position, identical, tables };
      });
    } finally {
      // After a swap they are gone; after a check or a failure they are left-overs.
      for (const t of projection.tables) await dropTable(manager, fresh(t.name));
    }
  }

  /**
   * The log position up to which everything is committed: positions are handed out before commit, so
   * a share lock waits for every transaction still appending (and holds new ones back for that instant).
   */
  private fence(): Promise<number> {
    return this.dataSource.transaction(async (em) => {
      await em.query('LOCK TABLE event_log IN SHARE MODE');
      return this.reader.lastPosition(em);
    });
  }

  private async fold(em: EntityManager, projection: Projection, builder: ProjectionBuilder, after: number, upTo: number): Promise<number> {
    let folded = 0;
    for (let cursor = after; ; ) {
      const page = await this.reader.stream(em, projection.entityTypes, cursor, upTo, PAGE);
      for (const event of page) builder.apply(event);
      folded += page.length;
      if (page.length < PAGE) return folded;
      cursor = page[page.length - 1].position;
    }
  }
}
