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

/** Boots the real hybrid app (HTTP on a free port, Kafka consumers, outbox relay). */
export async function startE2eApp(): Promise<E2eApp> {
  const app = await createApp();
  await startApp(app, 0);
  return {
    app,
    http: request(app.getHttpServer()),
    db: app.get(DataSource),
    close: () => app.close(),
  };
}
