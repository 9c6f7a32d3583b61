import { Topics } from '../src/events';
import { AppProcess } from './support/app-process';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { aUser } from './support/factories';
import { KafkaProbe } from './support/kafka';
import { waitFor } from './support/wait-for';

describe('Graceful shutdown on SIGTERM', () => {
  let probe: KafkaProbe;
  let successor: E2eApp | undefined;

  beforeAll(async () => {
    probe = await KafkaProbe.start([Topics.UserCreated]);
  });
  afterAll(async () => {
    await successor?.close();
    await probe?.stop();
  });

  it('turns not-ready, finishes in-flight writes, exits 0, and loses no acknowledged write or event', async () => {
    const app = await AppProcess.start({ SHUTDOWN_DRAIN_MS: '1500' });
    const acknowledged: number[] = [];
    let refused = 0;
    let stop = false;
    const writer = async () => {
      while (!stop) {
        try {
          const res = await fetch(`${app.url}/users`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(aUser()),
          });
          if (res.status === 201) acknowledged.push(((await res.json()) as { id: number }).id);
          else if (res.status >= 500) throw new Error(`write failed with ${res.status}`);
        } catch (err) {
          if ((err as Error).message.startsWith('write failed')) throw err;
          refused += 1; // connection refused or reset: the server has stopped taking requests
          stop = true;
        }
      }
    };
    const writers = Array.from({ length: 8 }, writer);
    await waitFor('some acknowledged writes', () => acknowledged.length >= 40);

    app.child.kill('SIGTERM');
    const notReady = await waitFor('readiness to turn false while draining', async () => {
      const [ready, live] = await Promise.all([fetch(`${app.url}/health/ready`), fetch(`${app.url}/health/live`)]);
      return ready.status === 503 && live.status === 200 ? ready.json() : undefined;
    });
    expect(notReady).toMatchObject({ details: { lifecycle: { status: 'down', message: 'shutting down' } } });

    expect(await app.exit()).toBe(0);
    stop = true;
    await Promise.all(writers);
    expect(refused).toBeGreaterThan(0);

    // Whatever the relay had not published yet waits in the outbox; the next instance publishes it.
    successor = await startE2eApp();
    const ids = new Set(acknowledged.map(String));
    await waitFor(`all ${ids.size} acknowledged users on Kafka`, () => {
      const seen = new Set(probe.records.filter((r) => r.key && ids.has(r.key)).map((r) => r.key));
      return seen.size === ids.size;
    });
    const ours = probe.records.filter((r) => r.key && ids.has(r.key));
    expect(new Set(ours.map((r) => r.headers.ce_id)).size).toBe(ours.length);
    const stored = await successor.db.query('SELECT count(*)::int AS n FROM users WHERE id = ANY($1)', [acknowledged]);
    expect(stored[0].n).toBe(acknowledged.length);
  });
});
