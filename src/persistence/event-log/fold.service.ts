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

  /**
   * For each request, the entity's state from its events logged before the given position: what
   * `stateOf` with `beforePosition` answers, for many entities and positions in two statements (the
   * nearest snapshots, then the events after them). Snapshots are saved as `stateOf` saves them.
   */
  async statesBefore<S>(fold: Fold<S>, requests: readonly { entityId: string; position: number }[], em: EntityManager): Promise<(S | null)[]> {
    const byEntity = new Map<string, number[]>();
    requests.forEach(({ entityId }, i) => {
      const asked = byEntity.get(entityId);
      if (asked) asked.push(i);
      else byEntity.set(entityId, [i]);
    });
    const ids = [...byEntity.keys()];
    const lowest = ids.map((id) => Math.min(...byEntity.get(id)!.map((i) => requests[i].position)));
    const highest = ids.map((id) => Math.max(...byEntity.get(id)!.map((i) => requests[i].position)));

    const snapshots: { entity_id: string; position: string; events: number; state: S | null }[] = await em.query(
      `SELECT r.entity_id, s.position, s.events, s.state FROM unnest($3::text[], $4::bigint[]) AS r(entity_id, before)
        CROSS JOIN LATERAL (
          SELECT position, events, state FROM snapshots
           WHERE entity_type = $1 AND entity_id = r.entity_id AND fold_version = $2 AND position < r.before
           ORDER BY position DESC LIMIT 1) s`,
      [fold.entityType, fold.version, ids, lowest],
    );
    const snapshotOf = new Map(snapshots.map((r) => [r.entity_id, r]));
    const events = await this.reader.eventsOfEntities(
      em,
      fold.entityType,
      ids.map((entityId, k) => ({ entityId, after: Number(snapshotOf.get(entityId)?.position ?? 0), before: highest[k] })),
    );
    const eventsOf = new Map<string, LoggedEvent[]>();
    for (const e of events) {
      const history = eventsOf.get(e.entityId);
      if (history) history.push(e);
      else eventsOf.set(e.entityId, [e]);
    }

    const states: (S | null)[] = requests.map(() => null);
    const every = this.config.events.snapshotEvery;
    for (const entityId of ids) {
      const snapshot = snapshotOf.get(entityId);
      let state: S | null = snapshot ? snapshot.state : null;
      let count = snapshot?.events ?? 0;
      const taken: { position: number; events: number; state: S | null }[] = [];
      const asked = byEntity.get(entityId)!.sort((a, b) => requests[a].position - requests[b].position);
      const history = eventsOf.get(entityId) ?? [];
      let next = 0;
      for (const i of asked) {
        for (; next < history.length && history[next].position < requests[i].position; next += 1) {
          state = fold.apply(state, history[next]);
          count += 1;
          if (count % every === 0) taken.push({ position: history[next].position, events: count, state });
        }
        states[i] = state;
      }
      if (taken.length > 0) await this.saveSnapshots(em, fold, entityId, taken);
    }
    return states;
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
