import { E2eApp, startE2eApp } from './support/e2e-app';

describe('Health endpoints', () => {
  let e2e: E2eApp;

  beforeAll(async () => {
    e2e = await startE2eApp();
  });
  afterAll(() => e2e?.close());

  it('answers liveness', async () => {
    const res = await e2e.http.get('/health/live').expect(200);
    expect(res.body.status).toBe('ok');
  });

  it('reports the database and the outbox backlog in readiness', async () => {
    const res = await e2e.http.get('/health/ready').expect(200);
    expect(res.body.info.database.status).toBe('up');
    expect(res.body.info.outbox).toEqual({ status: 'up', pending: expect.any(Number), oldestAgeMs: expect.any(Number) });
  });
});
