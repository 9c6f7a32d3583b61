import { deadLetterTopicOf, Topics } from '../src/events';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { aUser, unique } from './support/factories';
import { KafkaProbe, OutsideProducer } from './support/kafka';
import { sample } from './support/metrics';
import { waitFor } from './support/wait-for';

const ADMIN = { Authorization: `Bearer ${process.env.ADMIN_TOKEN}` };
// Served by the app but not part of the JSON API; `*` paths are middleware mounted on every route.
const NOT_API = [/^\/docs/, /^\/metrics$/, /^\/dashboard/, /\*/];

describe('Operability', () => {
  let e2e: E2eApp;

  beforeAll(async () => {
    e2e = await startE2eApp();
  });
  afterAll(() => e2e?.close());

  describe('OpenAPI', () => {
    it('documents every route the app serves', async () => {
      const doc = (await e2e.http.get('/docs-json').expect(200)).body;
      const router = e2e.app.getHttpAdapter().getInstance().router;
      const served = router.stack
        .filter((layer: { route?: unknown }) => layer.route)
        .flatMap((layer: { route: { path: string; methods: Record<string, boolean> } }) =>
          Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${layer.route.path}`),
        )
        .filter((r: string) => !NOT_API.some((re) => re.test(r.split(' ')[1])));
      expect(served.length).toBeGreaterThan(10);
      const documented = new Set(
        Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
          Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
        ),
      );
      expect(served.filter((r: string) => !documented.has(r))).toEqual([]);
    });

    it('describes request bodies and the shared error body', async () => {
      const doc = (await e2e.http.get('/docs-json').expect(200)).body;
      expect(doc.components.schemas.CreateOrderDto.required).toEqual(['userId', 'product', 'amount']);
      expect(doc.paths['/orders'].post.responses['422'].content['application/json'].schema.$ref).toBe('#/components/schemas/ErrorResponse');
      await e2e.http.get('/docs').expect(200);
    });
  });

  describe('metrics', () => {
    it('counts a request and its event from write to publish and consumption', async () => {
      const before = (await e2e.http.get('/metrics').expect(200)).text;
      const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;

      const after = await waitFor('the event to be published and consumed', async () => {
        const text = (await e2e.http.get('/metrics')).text;
        const consumed = sample(text, 'nestream_events_consumed_total', { topic: 'user_created', consumer: 'live.feed', outcome: 'processed' });
        return consumed > sample(before, 'nestream_events_consumed_total', { topic: 'user_created', consumer: 'live.feed', outcome: 'processed' })
          ? text
          : undefined;
      });
      const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
      expect(delta('nestream_http_requests_total', { method: 'POST', route: '/users', status: '201' })).toBe(1);
      expect(delta('nestream_events_written_total', { topic: 'user_created' })).toBe(1);
      expect(delta('nestream_events_published_total', { topic: 'user_created' })).toBeGreaterThanOrEqual(1);
      // The ingest consumer lets Nestream's own events go by: counted, with no transaction.
      await waitFor('the ingest consumer to count it as ignored', async () => {
        const text = (await e2e.http.get('/metrics')).text;
        const labels = { topic: 'user_created', consumer: 'persistence.ingest', outcome: 'ignored' };
        return sample(text, 'nestream_events_consumed_total', labels) > sample(before, 'nestream_events_consumed_total', labels);
      });
      expect(after).toMatch(/^nestream_outbox_backlog \d+/m);
      expect(after).toMatch(/^process_resident_memory_bytes \d+/m);
      expect(user.id).toEqual(expect.any(Number));
    });

    it('labels requests by route pattern, not by raw URL', async () => {
      await e2e.http.get('/users/987654321').expect(404);
      const text = (await e2e.http.get('/metrics')).text;
      expect(sample(text, 'nestream_http_requests_total', { route: '/users/:id', status: '404' })).toBeGreaterThanOrEqual(1);
      expect(text).not.toContain('987654321');
    });
  });

  describe('protection', () => {
    it('answers 401 without a token and 403 with a wrong one on admin routes', async () => {
      const none = await e2e.http.get('/dead-letters').expect(401);
      expect(none.body).toMatchObject({ statusCode: 401, message: 'Missing bearer token' });
      await e2e.http.get('/dead-letters').set('Authorization', 'Bearer wrong-token-0123456789').expect(403);
      await e2e.http.get('/dead-letters').set(ADMIN).expect(200);
    });

    it('sends security headers', async () => {
      const res = await e2e.http.get('/health/live').expect(200);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toBeDefined();
    });

    it('echoes a request id and a traceparent that continues the caller\'s trace', async () => {
      const res = await e2e.http
        .get('/health/live')
        .set('x-request-id', 'req-123')
        .set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
        .expect(200);
      expect(res.headers['x-request-id']).toBe('req-123');
      expect(res.headers.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    });
  });

  describe('dead letters admin API', () => {
    it('lists, shows, replays once and deletes a dead letter', async () => {
      const outside = await OutsideProducer.connect();
      const probe = await KafkaProbe.start([Topics.UserUpdated, deadLetterTopicOf(Topics.UserUpdated)]);
      try {
        const key = unique('dl');
        await outside.send(Topics.UserUpdated, '{"id": "not a number"}', key);
        await probe.next('the dead letter', (r) => r.key === key && r.topic === 'user_updated.dlq');

        const page = (await e2e.http.get('/dead-letters?topic=user_updated&limit=100').set(ADMIN).expect(200)).body;
        const letter = page.items.find((d: { key: string }) => d.key === key);
        expect(letter).toMatchObject({ topic: 'user_updated', consumer: '*', value: '{"id": "not a number"}' });
        expect(letter.reason).toMatch(/id must be integer/);
        expect((await e2e.http.get(`/dead-letters/${letter.id}`).set(ADMIN).expect(200)).body.id).toBe(letter.id);

        const replayed = (await e2e.http.post(`/dead-letters/${letter.id}/replay`).set(ADMIN).expect(200)).body;
        expect(replayed.replayedAt).toEqual(expect.any(String));
        const again = await probe.next('the replayed record', (r) => r.key === key && r.topic === 'user_updated');
        expect(again.value).toBe('{"id": "not a number"}');
        await e2e.http.post(`/dead-letters/${letter.id}/replay`).set(ADMIN).expect(409);

        await e2e.http.delete(`/dead-letters/${letter.id}`).set(ADMIN).expect(204);
        await e2e.http.get(`/dead-letters/${letter.id}`).set(ADMIN).expect(404);
      } finally {
        await outside.close();
        await probe.stop();
      }
    });
  });
});

describe('Rate limiting', () => {
  let e2e: E2eApp;
  const saved = process.env.THROTTLE_LIMIT;

  beforeAll(async () => {
    process.env.THROTTLE_LIMIT = '3';
    e2e = await startE2eApp();
  });
  afterAll(async () => {
    process.env.THROTTLE_LIMIT = saved;
    await e2e?.close();
  });

  it('answers 429 once a client exceeds the limit, but never limits health checks', async () => {
    for (let i = 0; i < 3; i += 1) await e2e.http.get('/users?limit=1').expect(200);
    const res = await e2e.http.get('/users?limit=1').expect(429);
    expect(res.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    for (let i = 0; i < 5; i += 1) await e2e.http.get('/health/live').expect(200);
  });
});
