import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { E2eApp, startE2eApp } from './support/e2e-app';
import { aUser, unique } from './support/factories';
import { waitFor } from './support/wait-for';

// The origin document's Python code, run with Debian's python3-kafka (installed by `npm run test:all`).
const PYTHON = '/usr/bin/python3';
const fixture = (name: string) => join(__dirname, 'fixtures/origin', name);

describe("Compatibility with the origin document's Python producer and consumer", () => {
  let e2e: E2eApp;

  beforeAll(async () => {
    const check = spawnSync(PYTHON, ['-c', 'import kafka'], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`python3-kafka is missing (${check.stderr.trim()}); run "npm run test:all" or apt-get install python3-kafka`);
    e2e = await startE2eApp();
  });
  afterAll(() => e2e?.close());

  it("ingests what the document's producer writes: GET /users/11 and GET /orders/11", async () => {
    const run = spawnSync(PYTHON, [fixture('producer.py')], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);

    await waitFor('user 11 named King', async () => (await e2e.http.get('/users/11')).body.name === 'King');
    await waitFor('order 11 for a sofa', async () => {
      const { body } = await e2e.http.get('/orders/11');
      return body.product === 'sofa' && body.amount === 100000;
    });
  });

  it("is read by the document's consumer as plain JSON", async () => {
    const child = spawn(PYTHON, [fixture('consumer.py'), unique('origin-consumer')]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    try {
      await waitFor('the Python consumer to be ready', () => stdout.includes('ready'), { timeoutMs: 30_000 });
      const user = (await e2e.http.post('/users').send(aUser()).expect(201)).body;
      const order = (await e2e.http.post('/orders').send({ userId: user.id, product: 'sofa', amount: 100000 }).expect(201)).body;

      const line = await waitFor(`the consumer's output (stderr: ${stderr})`, () => stdout.split('\n').find((l) => l.startsWith('{')), {
        timeoutMs: 30_000,
      });
      expect(JSON.parse(line)).toEqual({
        user: { id: user.id, name: user.name },
        order: { id: order.id, product: 'sofa', amount: 100000 },
      });
    } finally {
      child.kill();
    }
  });
});
