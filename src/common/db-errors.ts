import { QueryFailedError } from 'typeorm';

/** True when a query failed on the named unique constraint or index. */
export function isUniqueViolation(err: unknown, constraint: string): boolean {
  const driverError = err instanceof QueryFailedError ? (err.driverError as { code?: string; constraint?: string }) : undefined;
  return driverError?.code === '23505' && driverError.constraint === constraint;
}

/** Column transformer: Postgres bigint and numeric arrive as strings; ours fit a JS number exactly. */
export const numericColumn = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};
