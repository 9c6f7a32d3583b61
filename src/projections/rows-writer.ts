import type { EntityManager } from 'typeorm';

/** A column of a projection table and its Postgres type, for `jsonb_to_recordset`. */
export interface ColumnSpec {
  name: string;
  type: 'bigint' | 'integer' | 'text' | 'numeric' | 'double precision' | 'jsonb' | 'timestamptz';
}

const BATCH = 1000;
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** Quotes an identifier that comes from code (a table or column constant); refuses anything else. */
export function ident(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a plain identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/**
 * Upserts rows into a projection's fresh table, a thousand at a time. Values travel as one JSON
 * parameter per batch; only the (quoted, constant) table and column names are spliced into the SQL.
 */
export async function upsertRows(em: EntityManager, table: string, key: readonly string[], columns: readonly ColumnSpec[], rows: readonly object[]): Promise<void> {
  const names = columns.map((c) => ident(c.name)).join(', ');
  const record = columns.map((c) => `${ident(c.name)} ${c.type}`).join(', ');
  const updates = columns
    .filter((c) => !key.includes(c.name))
    .map((c) => `${ident(c.name)} = EXCLUDED.${ident(c.name)}`)
    .join(', ');
  // The folded rows keep their ids, identity columns included.
  for (let i = 0; i < rows.length; i += BATCH) {
    await em.query(
      `INSERT INTO ${table} (${names}) OVERRIDING SYSTEM VALUE SELECT ${names} FROM jsonb_to_recordset($1::jsonb) AS r(${record})
       ON CONFLICT (${key.map(ident).join(', ')}) DO ${updates ? `UPDATE SET ${updates}` : 'NOTHING'}`,
      [JSON.stringify(rows.slice(i, i + BATCH))],
    );
  }
}

export async function deleteRows(em: EntityManager, table: string, key: string, keys: readonly number[]): Promise<void> {
  if (keys.length > 0) await em.query(`DELETE FROM ${table} WHERE ${ident(key)} = ANY($1::bigint[])`, [keys]);
}
