import { Topics } from '../src/events';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { aUser } from './support/factories';
import { KafkaProbe } from './support/kafka';
import { waitFor } from './support/wait-for';

describe('Two instances of the app on one database and one consumer group', () => {
  let first: E2eApp;
  let second: E2eApp;
  let probe: KafkaProbe;

  beforeAll(async () => {
    probe = await KafkaProbe.start([Topics.UserCreated, Topics.UserUpdated]);
    first = await startE2eApp();
    second = await startE2eApp();
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
    await probe?.stop();
  });

  it('publishes every event exactly once and in order per entity while both relays run', async () => {
    const apps = [first, second];
    const users = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => (await apps[i % 2].http.post('/users').send(aUser()).expect(201)).body),
    );
    // Updates to each user alternate between the instances, three per user, all users at once.
    await Promise.all(
      users.map(async (user, i) => {
        for (let n = 1; n <= 3; n += 1) {
          await apps[(i + n) % 2].http.patch(`/users/${user.id}`).send({ name: `rename-${n}` }).expect(200);
        }
      }),
    );

    const ids = new Set(users.map((u) => String(u.id)));
    const ours = () => probe.records.filter((r) => r.key !== null && ids.has(r.key));
    await waitFor('80 events (20 created + 60 updated)', () => ours().length >= 80);

    const records = ours();
    expect(records).toHaveLength(80);
    expect(new Set(records.map((r) => r.headers.ce_id)).size).toBe(80);
    for (const user of users) {
      const updates = records.filter((r) => r.key === String(user.id) && r.topic === Topics.UserUpdated);
      expect(updates.map((r) => Number(r.headers.ce_entityversion))).toEqual([2, 3, 4]);
    }
  });
});
