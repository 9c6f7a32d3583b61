import { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import { admissionControl } from './admission';

function response() {
  const res = Object.assign(new EventEmitter(), {
    statusCode: 200,
    headers: {} as Record<string, string>,
    body: undefined as unknown,
    setHeader(name: string, value: string) {
      this.headers[name] = value;
    },
    status(code: number) {
      this.statusCode = code;
      return this;
    },
    json(body: unknown) {
      this.body = body;
    },
  });
  return res;
}

describe('admissionControl', () => {
  const call = (mw: ReturnType<typeof admissionControl>, url = '/orders') => {
    const res = response();
    const next = jest.fn();
    mw({ url } as Request, res as unknown as Response, next);
    return { res, admitted: next.mock.calls.length === 1 };
  };

  it('refuses with 503 and Retry-After once the bound is reached, and admits again when one closes', () => {
    const mw = admissionControl(2);
    const first = call(mw);
    expect(call(mw).admitted).toBe(true);
    const refused = call(mw);
    expect(refused.admitted).toBe(false);
    expect(refused.res.statusCode).toBe(503);
    expect(refused.res.headers['Retry-After']).toBe('1');
    expect(refused.res.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
    // A refused request holds no place; a closed one gives its place back.
    refused.res.emit('close');
    expect(call(mw).admitted).toBe(false);
    first.res.emit('close');
    expect(call(mw).admitted).toBe(true);
  });

  it('never refuses health, metrics or the event stream, and they take no place', () => {
    const mw = admissionControl(1);
    expect(call(mw).admitted).toBe(true);
    for (const url of ['/health/ready', '/metrics', '/events/stream?types=order_placed']) expect(call(mw, url).admitted).toBe(true);
    expect(call(mw).admitted).toBe(false);
  });

  it('has no bound at 0', () => {
    const mw = admissionControl(0);
    for (let i = 0; i < 1000; i += 1) expect(call(mw).admitted).toBe(true);
  });
});
