import 'reflect-metadata';
import { config as loadDotenv } from 'dotenv';
import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { appConfig } from '../config/app.config';
import { ConfigurationError } from '../config/env';
import { PersistenceModule } from '../persistence/persistence.module';
import { ProjectionRebuilder } from '../projections/projection-rebuilder.service';
import { ProjectionRegistry } from '../projections/projection-registry';
import { ProjectionsModule } from '../projections/projections.module';

const USAGE = `usage: npm run replay -- <projection> [--check]
  rebuilds the read model from the event log into fresh tables and swaps them in atomically
  --check   only compare the rebuilt tables with the live ones (exit code 1 when they differ)`;

/** Only what a rebuild needs: configuration, the database and the projections (no HTTP, Kafka or relay). */
@Module({
  imports: [ConfigModule.forRoot({ isGlobal: true, cache: true, load: [appConfig] }), PersistenceModule, ProjectionsModule],
})
class ReplayCliModule {}

/** `npm run replay -- <projection> [--check]`: prints the report as JSON. */
async function main(): Promise<number> {
  loadDotenv({ quiet: true });
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const names = args.filter((a) => !a.startsWith('--'));
  const unknown = args.filter((a) => a.startsWith('--') && a !== '--check');
  // stdout carries only the JSON report, so it can be piped; warnings and errors go to stderr.
  const app = await NestFactory.createApplicationContext(ReplayCliModule, { logger: ['error', 'warn'] });
  try {
    if (names.length !== 1 || unknown.length > 0) {
      console.error(`${USAGE}\nprojections: ${app.get(ProjectionRegistry).names().join(', ')}`);
      return 2;
    }
    const report = await app.get(ProjectionRebuilder).rebuild(names[0], { swap: !check });
    console.log(JSON.stringify(report, null, 2));
    console.error(`replay: ${report.projection} ${report.swapped ? 'rebuilt and swapped in' : 'checked'}; ${report.identical ? 'identical to' : 'differed from'} the live tables`);
    return check && !report.identical ? 1 : 0;
  } finally {
    await app.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof ConfigurationError ? err.message : `replay failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
