import 'reflect-metadata';
import { config as loadDotenv } from 'dotenv';
import { Logger } from '@nestjs/common';
import { ConfigurationError, validateEnv } from './config/env';
import { createApp, exitGracefullyOnSignals, startApp } from './bootstrap';

async function main(): Promise<void> {
  loadDotenv({ quiet: true });
  // A bad setting stops the process with one line naming the variable, before anything connects.
  try {
    validateEnv(process.env);
  } catch (err) {
    if (err instanceof ConfigurationError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const app = await createApp();
  exitGracefullyOnSignals(app);
  await startApp(app);
  new Logger('Nestream').log(`listening on ${await app.getUrl()}`);
}

main().catch((err: unknown) => {
  console.error(`Nestream failed to start: ${(err as Error).message}`);
  process.exit(1);
});
