import { Gate, requestShareOf } from './request-share';

describe('requestShareOf', () => {
  it('is the pool less the reserve, never less than one connection', () => {
    expect(requestShareOf(10, 4)).toBe(6);
    expect(requestShareOf(10, 0)).toBe(10);
    expect(requestShareOf(3, 3)).toBe(1);
    expect(requestShareOf(2, 9)).toBe(1);
  });
});

describe('Gate', () => {
  afterEach(() => jest.useRealTimers());

  it('admits up to its places at once, then serves waiters in arrival order', async () => {
    const gate = new Gate(2);
    await gate.enter(1_000);
    await gate.enter(1_000);
    const order: string[] = [];
    const a = gate.enter(1_000).then(() => order.push('a'));
    const b = gate.enter(1_000).then(() => order.push('b'));
    expect(gate.waiters).toBe(2);
    gate.leave();
    await a;
    expect(order).toEqual(['a']);
    gate.leave();
    await b;
    expect(order).toEqual(['a', 'b']);
    // Both places are taken again (a and b); two leaves free them.
    gate.leave();
    gate.leave();
    await gate.enter(1_000);
    await gate.enter(1_000);
    expect(gate.waiters).toBe(0);
  });

  it("gives up after the timeout with the pool's own error, and the waiter loses its turn", async () => {
    jest.useFakeTimers();
    const gate = new Gate(1);
    await gate.enter(1_000);
    const late = gate.enter(1_000);
    const next = gate.enter(5_000);
    jest.advanceTimersByTime(1_001);
    await expect(late).rejects.toThrow('timeout exceeded when trying to connect');
    expect(gate.waiters).toBe(1);
    gate.leave();
    await expect(next).resolves.toBeUndefined();
  });
});
