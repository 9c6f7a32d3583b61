import { QueryFailedError } from 'typeorm';

/** True when a query failed on the named unique constraint or index. */
export function isUniqueViolation(err: unknown, constraint: string): boolean {
  const driverError = err instanceof QueryFailedError ? (err.driverError as { code?: string; constraint?: string }) : undefined;
  return driverError?.code === '23505' && driverError.constraint === constraint;
}

/** True when Postgres chose this transaction as the victim of a deadlock (it is safe to run again). */
export function isDeadlock(err: unknown): boolean {
  return err instanceof QueryFailedError && (err.driverError as { code?: string }).code === '40P01';
}

/**
 * Runs `work` (a whole transaction) again when Postgres broke a deadlock by aborting it, up to
 * `attempts` times. For rare writes whose lock order cannot match a hot path's without slowing it.
 */
export async function retryOnDeadlock<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= attempts || !isDeadlock(err)) throw err;
    }
  }
}

/** Column transformer: Postgres bigint and numeric arrive as strings; ours fit a JS number exactly. */
export const numericColumn = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};
