import { E2eApp, startE2eApp } from './support/e2e-app';
import { TcpProxy } from './support/tcp-proxy';
import { waitFor } from './support/wait-for';

describe('Readiness follows the database', () => {
  let e2e: E2eApp;
  let proxy: TcpProxy;
  const savedUrl = process.env.DATABASE_URL!;

  beforeAll(async () => {
    const url = new URL(savedUrl);
    proxy = new TcpProxy(url.hostname, Number(url.port || 5432));
    await proxy.start();
    url.port = String(proxy.port);
    process.env.DATABASE_URL = url.toString();
    e2e = await startE2eApp();
  });
  afterAll(async () => {
    process.env.DATABASE_URL = savedUrl;
    await e2e?.close();
    await proxy?.cut();
  });

  it('turns not-ready while PostgreSQL is unreachable and ready again when it returns, staying alive throughout', async () => {
    await e2e.http.get('/health/ready').expect(200);

    await proxy.cut();
    const down = await waitFor('readiness to fail', async () => {
      const res = await e2e.http.get('/health/ready');
      return res.status === 503 ? res.body : undefined;
    });
    expect(down.error.database.status).toBe('down');
    await e2e.http.get('/health/live').expect(200);

    await proxy.restore();
    const up = await waitFor('readiness to recover', async () => {
      const res = await e2e.http.get('/health/ready');
      return res.status === 200 ? res.body : undefined;
    });
    expect(up.info.database.status).toBe('up');
  });
});
