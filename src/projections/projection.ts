import type { EntityManager } from 'typeorm';
import type { LoggedEvent } from '../persistence/event-log/event-log.reader';

/** A table a projection owns. Names are constants in code, never user input. */
export interface ProjectionTable {
  /** The live table the rebuilt copy replaces. */
  name: string;
  /** Primary key columns: rows are matched on them when writing and comparing. */
  key: readonly string[];
  /** Columns the check compares exactly. */
  columns: readonly string[];
  /** Timestamp columns the check compares to the millisecond, the precision events carry. */
  timestamps?: readonly string[];
}

/**
 * A read model that can be rebuilt from the event log. To add one (analytics, say): implement this in
 * the feature's folder and list it in `projections.ts`; `npm run replay -- <name>` and
 * `POST /admin/projections/<name>/rebuild` then rebuild it into fresh tables and swap them in.
 */
export interface Projection {
  /** Lower-case and dashes, as in the URL and the CLI. */
  name: string;
  description: string;
  tables: readonly ProjectionTable[];
  /** The entity types whose events it reads, in log order. */
  entityTypes: readonly string[];
  /** A fresh in-memory state to fold the log into. */
  createBuilder(): ProjectionBuilder;
}

export interface ProjectionBuilder {
  /** Folds one event, in log order. */
  apply(event: LoggedEvent): void;
  /**
   * Writes the rows changed since the last flush. `tableOf(live)` is the quoted name of the fresh
   * table that will replace `live`. Called once after the bulk of the log and once more for the events
   * that arrived during the rebuild.
   */
  flush(em: EntityManager, tableOf: (live: string) => string): Promise<void>;
}
