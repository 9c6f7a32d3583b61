import 'reflect-metadata';
import { config as loadDotenv } from 'dotenv';
import { DataSource } from 'typeorm';
import { appConfig } from '../config/app.config';
import { ConfigurationError } from '../config/env';
import { databaseOptions } from '../persistence/database-options';
import { runMigrations } from '../persistence/migrate';

/** `npm run migrate`: applies pending migrations and exits. */
async function main(): Promise<void> {
  loadDotenv({ quiet: true });
  const { database } = appConfig();
  const dataSource = await new DataSource(databaseOptions(database)).initialize();
  try {
    const applied = await runMigrations(dataSource);
    console.log(applied.length ? `migrations applied: ${applied.join(', ')}` : 'migrations: database is up to date');
  } finally {
    await dataSource.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigurationError ? err.message : `migration failed: ${(err as Error).message}`);
  process.exit(1);
});
