import type { EntityManager } from 'typeorm';
import type { ProjectionTable } from './projection';
import { ident } from './rows-writer';

export interface TableDifferences {
  table: string;
  /** Rows only the live table has. */
  onlyLive: number;
  /** Rows only the rebuilt table has. */
  onlyRebuilt: number;
  /** Rows both have, with different values. */
  changed: number;
  /** A few of them, key order, to see what differs. */
  samples: { key: string; kind: 'only live' | 'only rebuilt' | 'changed'; live: unknown; rebuilt: unknown }[];
}

const SAMPLES = 20;

/** Creates the empty table a rebuild fills: same columns, defaults, constraints and indexes as the live one. */
export async function createFreshTable(em: EntityManager, live: string, fresh: string): Promise<void> {
  await em.query(`DROP TABLE IF EXISTS ${ident(fresh)}`);
  await em.query(`CREATE TABLE ${ident(fresh)} (LIKE ${ident(live)} INCLUDING ALL)`);
}

export async function dropTable(em: EntityManager, table: string): Promise<void> {
  await em.query(`DROP TABLE IF EXISTS ${ident(table)}`);
}

/** Compares live and rebuilt rows on the key; timestamps to the millisecond, the precision events carry. */
export async function compareTables(em: EntityManager, spec: ProjectionTable, fresh: string): Promise<TableDifferences> {
  const keys = spec.key.map(ident);
  // A key column is never null, so a missing first one means the row is missing on that side.
  const first = keys[0];
  const values = (alias: string) =>
    [...spec.columns.map((c) => `${alias}.${ident(c)}`), ...(spec.timestamps ?? []).map((c) => `date_trunc('milliseconds', ${alias}.${ident(c)})`)].join(', ');
  const differing = `
    SELECT concat_ws('/', ${keys.map((k) => `coalesce(l.${k}, f.${k})::text`).join(', ')}) AS key,
           CASE WHEN f.${first} IS NULL THEN 'only live' WHEN l.${first} IS NULL THEN 'only rebuilt' ELSE 'changed' END AS kind,
           to_jsonb(l) AS live, to_jsonb(f) AS rebuilt
      FROM ${ident(spec.name)} l FULL JOIN ${ident(fresh)} f ON ${keys.map((k) => `l.${k} = f.${k}`).join(' AND ')}
     WHERE l.${first} IS NULL OR f.${first} IS NULL OR (${values('l')}) IS DISTINCT FROM (${values('f')})`;
  const counts: { kind: string; n: number }[] = await em.query(`SELECT kind, count(*)::int AS n FROM (${differing}) d GROUP BY kind`);
  const samples = await em.query(`SELECT * FROM (${differing}) d ORDER BY length(key), key LIMIT ${SAMPLES}`);
  const count = (kind: string) => counts.find((c) => c.kind === kind)?.n ?? 0;
  return { table: spec.name, onlyLive: count('only live'), onlyRebuilt: count('only rebuilt'), changed: count('changed'), samples };
}

/**
 * Puts the rebuilt table in the live one's place, inside the caller's transaction: readers see the old
 * table until commit and the new one after. The new table takes over the old one's index and sequence
 * names (code and error mapping refer to them, e.g. users_email_key) and its sequence carries on from
 * where the old one was, so no id is handed out twice.
 */
export async function swapTables(em: EntityManager, live: string, fresh: string): Promise<void> {
  const blockers: { what: string }[] = await em.query(
    `SELECT 'trigger ' || tgname AS what FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal
     UNION ALL
     SELECT 'foreign key ' || conname FROM pg_constraint WHERE contype = 'f' AND (conrelid = $1::regclass OR confrelid = $1::regclass)`,
    [live],
  );
  // A copy made with LIKE has neither, so swapping would silently drop them.
  if (blockers.length > 0) throw new Error(`cannot swap ${live}: it has ${blockers.map((b) => b.what).join(', ')}`);

  const indexesOf = (table: string): Promise<{ name: string; definition: string }[]> =>
    em.query(
      `SELECT c.relname AS name, regexp_replace(pg_get_indexdef(c.oid), '^CREATE (UNIQUE )?INDEX \\S+ ON \\S+ ', 'CREATE \\1INDEX ON ') AS definition
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::regclass ORDER BY c.relname`,
      [table],
    );
  const oldIndexes = await indexesOf(live);
  const sequences: { column: string; sequence: string; name: string; last: string | null }[] = await em.query(
    `SELECT a.attname AS column, s.seq::text AS sequence, c.relname AS name, pg_sequence_last_value(s.seq) AS last
       FROM pg_attribute a
       CROSS JOIN LATERAL (SELECT pg_get_serial_sequence($1, a.attname)::regclass AS seq) s
       JOIN pg_class c ON c.oid = s.seq
      WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND s.seq IS NOT NULL`,
    [live],
  );

  const retired = `${live}__retired`;
  await em.query(`ALTER TABLE ${ident(live)} RENAME TO ${ident(retired)}`);
  await em.query(`ALTER TABLE ${ident(fresh)} RENAME TO ${ident(live)}`);
  await em.query(`DROP TABLE ${ident(retired)}`);

  const unclaimed = [...oldIndexes];
  for (const index of await indexesOf(live)) {
    const i = unclaimed.findIndex((old) => old.definition === index.definition);
    if (i < 0) continue;
    const [old] = unclaimed.splice(i, 1);
    if (old.name !== index.name) await execute(em, `SELECT format('ALTER INDEX %I RENAME TO %I', $1::text, $2::text) AS sql`, [index.name, old.name]);
  }

  for (const seq of sequences) {
    const [{ sequence }] = await em.query(`SELECT pg_get_serial_sequence($1, $2) AS sequence`, [live, seq.column]);
    await execute(em, `SELECT format('ALTER SEQUENCE %s RENAME TO %I', $1::regclass, $2::text) AS sql`, [sequence, seq.name]);
    // Carry on from the old sequence, or past the highest id kept, whichever is further.
    await em.query(
      `SELECT setval($1::regclass, greatest(coalesce($2::bigint, 0), (SELECT coalesce(max(${ident(seq.column)}), 0) FROM ${ident(live)}), 1),
                     $2::bigint IS NOT NULL OR EXISTS (SELECT 1 FROM ${ident(live)}))`,
      [seq.name, seq.last],
    );
  }
}

/** Runs a DDL statement that Postgres itself quoted with format(%I). */
async function execute(em: EntityManager, build: string, params: unknown[]): Promise<void> {
  const [{ sql }] = await em.query(build, params);
  await em.query(sql);
}
