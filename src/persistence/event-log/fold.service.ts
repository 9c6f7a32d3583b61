import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { appConfig, AppConfig } from '../../config/app.config';
import { EventLogReader, LoggedEvent } from './event-log.reader';

/** How an entity's state follows from its events: a pure function, kept beside the entity. */
export interface Fold<S> {
  entityType: string;
  /** Bump when `apply` or an upcaster changes what a state looks like, so older snapshots are ignored. */
  version: number;
  apply(state: S | null, event: LoggedEvent): S | null;
}

/** Which prefix of the entity's history to fold; both bounds are optional and combine. */
export interface FoldBound {
  /** Only events that happened at or before this instant, up to the first one that happened after it. */
  at?: Date;
  /** Only events logged before this position. */
  beforePosition?: number;
}

export interface FoldResult<S> {
  state: S | null;
  /** Events the state is made of, those inside the snapshot included; 0 when the entity had none yet. */
  events: number;
  /** Events read from the log for this fold (the rest came from the snapshot). */
  read: number;
  /** Position of the snapshot the fold started from, if any. */
  snapshotPosition: number | null;
}

const PAGE = 1000;

/**
 * Folds an entity's events into its state as of a moment, starting from the nearest snapshot.
 * Every `EVENT_SNAPSHOT_EVERY` events it saves the state reached, so the next fold of a long history
 * reads only the events after it. A snapshot never goes stale: the events before it never change.
 */
@Injectable()
export class FoldService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly reader: EventLogReader,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  async stateOf<S>(fold: Fold<S>, entityId: string, bound: FoldBound = {}, em: EntityManager = this.dataSource.manager): Promise<FoldResult<S>> {
    // The history up to `at` is the longest prefix (in log order) of events that happened by then.
    const firstAfter = bound.at ? await this.reader.firstPositionAfter(em, fold.entityType, entityId, bound.at) : null;
    const before = Math.min(firstAfter ?? Number.MAX_SAFE_INTEGER, bound.beforePosition ?? Number.MAX_SAFE_INTEGER);

    const snapshot = await this.nearestSnapshot<S>(em, fold, entityId, before);
    let state: S | null = snapshot ? snapshot.state : null;
    let events = snapshot?.events ?? 0;
    let position = snapshot?.position ?? 0;
    let read = 0;
    const every = this.config.events.snapshotEvery;
    const taken: { position: number; events: number; state: S | null }[] = [];

    for (;;) {
      const page = await this.reader.entityEvents(em, fold.entityType, entityId, position, before, PAGE);
      for (const event of page) {
        state = fold.apply(state, event);
        events += 1;
        read += 1;
        position = event.position;
        if (events % every === 0) taken.push({ position, events, state });
      }
      if (page.length < PAGE) break;
    }

    if (taken.length > 0) await this.saveSnapshots(em, fold, entityId, taken);
    return { state, events, read, snapshotPosition: snapshot?.position ?? null };
  }

  private async nearestSnapshot<S>(em: EntityManager, fold: Fold<S>, entityId: string, before: number) {
    const [row] = await em.query(
      `SELECT position, events, state FROM snapshots
        WHERE entity_type = $1 AND entity_id = $2 AND fold_version = $3 AND position < $4
        ORDER BY position DESC LIMIT 1`,
      [fold.entityType, entityId, fold.version, before],
    );
    return row ? { position: Number(row.position), events: row.events as number, state: row.state as S | null } : undefined;
  }

  private async saveSnapshots<S>(em: EntityManager, fold: Fold<S>, entityId: string, taken: { position: number; events: number; state: S | null }[]) {
    await em.query(
      `INSERT INTO snapshots (entity_type, entity_id, fold_version, position, events, state)
       SELECT $1, $2, $3, s.position, s.events, s.state
         FROM jsonb_to_recordset($4::jsonb) AS s(position bigint, events integer, state jsonb)
       ON CONFLICT DO NOTHING`,
      [fold.entityType, entityId, fold.version, JSON.stringify(taken)],
    );
  }
}
