import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createApp, startApp } from '../../src/bootstrap';

export interface E2eApp {
  app: INestApplication;
  http: ReturnType<typeof request>;
  db: DataSource;
  close(): Promise<void>;
}

/**
 * Sets environment variables for the app this test file starts; the returned function puts the old
 * values back, so later test files in the same worker do not inherit them.
 */
export function overrideEnv(vars: Record<string, string>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/**
 * Boots the real hybrid app (HTTP on a free port, Kafka consumers, outbox relay). `env` overrides
 * settings for this app only (e.g. `{ APP_ROLE: 'api' }`); config is read while the app is created.
 */
export async function startE2eApp(env: Record<string, string> = {}): Promise<E2eApp> {
  const restoreEnv = overrideEnv(env);
  let app: INestApplication;
  try {
    app = await createApp();
    await startApp(app, 0);
  } finally {
    restoreEnv();
  }
  return {
    app,
    http: request(app.getHttpServer()),
    db: app.get(DataSource),
    close: () => app.close(),
  };
}
