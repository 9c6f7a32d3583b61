import { connect, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { aUser } from './support/factories';
import { waitFor } from './support/wait-for';

describe('Admission control: beyond HTTP_MAX_IN_FLIGHT a request is refused at once', () => {
  let e2e: E2eApp;
  let held: Socket | undefined;

  beforeAll(async () => {
    e2e = await startE2eApp({ HTTP_MAX_IN_FLIGHT: '1' });
  });
  afterAll(async () => {
    held?.destroy();
    await e2e?.close();
  });

  /** A POST whose body never finishes arriving: in flight until the socket closes. */
  async function holdARequest(): Promise<Socket> {
    const { port } = e2e.app.getHttpServer().address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('POST /users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
    return socket;
  }

  it('answers 503 with Retry-After while the only place is taken, stores nothing, and admits again once it is free', async () => {
    held = await holdARequest();
    const user = aUser();
    const refused = await waitFor('a refusal while the held request is in flight', async () => {
      const res = await e2e.http.post('/users').send(user);
      return res.status === 503 ? res : undefined;
    });
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'too many requests in flight (1); retry after 1 second' });
    const [{ count }] = await e2e.db.query(`SELECT count(*)::int AS count FROM users WHERE email = $1`, [user.email]);
    expect(count).toBe(0);
    // Probes answer during an overload.
    await e2e.http.get('/health/live').expect(200);

    held.destroy();
    const created = await waitFor('the place to be free again', async () => {
      const res = await e2e.http.post('/users').send(user);
      return res.status === 201 ? res : undefined;
    });
    expect(created.body.email).toBe(user.email);
  });
});
