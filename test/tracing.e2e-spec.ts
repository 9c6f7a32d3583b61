import { AppProcess } from './support/app-process';
import { aUser } from './support/factories';
import { waitFor } from './support/wait-for';

describe('Tracing through Kafka, in structured logs', () => {
  let app: AppProcess;

  beforeAll(async () => {
    app = await AppProcess.start({ LOG_LEVEL: 'debug' });
  });
  afterAll(() => app?.stop());

  it("carries the request's traceparent into the event and the consumer's log line", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`${app.url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      body: JSON.stringify(aUser()),
    });
    expect(res.status).toBe(201);
    const user = (await res.json()) as { email: string };

    const requestLine = await waitFor('the request log line', () =>
      app.logLines().find((l) => (l.req as { url?: string } | undefined)?.url === '/users' && l.trace_id === traceId),
    );
    expect(requestLine).toMatchObject({ level: 30, res: { statusCode: 201 } });

    // Every consumer of user_created logs its own line; they handle it side by side, in any order.
    const consumerLine = await waitFor('the live feed consumer log line in the same trace', () =>
      app.logLines().find((l) => l.context === 'EventConsumer' && l.trace_id === traceId && /live\.feed: /.test(String(l.msg))),
    );
    expect(consumerLine.msg).toMatch(/live\.feed: handled user_created/);
    // Personal data is not logged.
    expect(app.stdout).not.toContain(user.email);
  });
});
