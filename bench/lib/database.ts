import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { ROOT } from '../settings';

/** Drops and recreates a database the benchmark owns, then applies the app's migrations to it. */
export async function resetDatabase(url: string, appDir: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (!/^nestream_bench\w*$/.test(name)) {
    // A typo must never drop somebody else's database.
    throw new Error(`refusing to reset "${name}": the benchmark only resets databases named nestream_bench*`);
  }
  const admin = new Client({ connectionString: Object.assign(new URL(url), { pathname: '/postgres' }).toString() });
  await admin.connect();
  try {
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  // The compiled `npm run migrate`, against this database.
  const res = spawnSync(process.execPath, [join(appDir, 'cli/migrate.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: url, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
  });
  if (res.status !== 0) throw new Error(`migrating ${name} failed: ${res.stderr || res.stdout}`);
}

export function pool(url: string, max = 4): Pool {
  const db = new Pool({ connectionString: url, max, application_name: 'nestream-bench' });
  // An idle connection cut by the server (a restart, pg_terminate_backend) must not crash the harness;
  // the next query reconnects, and the run's figures around that moment say what it cost.
  db.on('error', (err) => process.stderr.write(`PostgreSQL connection lost (${err.message}); reconnecting\n`));
  return db;
}

export async function serverVersion(db: Pool): Promise<string> {
  const { rows } = await db.query(`SELECT current_setting('server_version') AS v`);
  return rows[0].v as string;
}

/** How many of the ids in [from, from + count) are stored, and when the first and last were (ms since epoch). */
export async function storedRange(db: Pool, from: number, count: number): Promise<{ stored: number; firstMs: number; lastMs: number }> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS stored,
            (extract(epoch FROM min(created_at)) * 1000)::float8 AS first,
            (extract(epoch FROM max(created_at)) * 1000)::float8 AS last
       FROM orders WHERE id >= $1 AND id < $2`,
    [from, from + count],
  );
  return { stored: rows[0].stored, firstMs: rows[0].first ?? Number.NaN, lastMs: rows[0].last ?? Number.NaN };
}

export async function outboxBacklog(db: Pool): Promise<number> {
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM outbox`);
  return rows[0].n;
}
