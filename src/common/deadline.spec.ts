import { withDeadline } from './deadline';

describe('withDeadline', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('rejects with the given message when the work has not settled by the deadline', async () => {
    const never = new Promise<void>(() => undefined);
    const result = withDeadline(never, 1_000, 'send took longer than 1 s');
    jest.advanceTimersByTime(1_000);
    await expect(result).rejects.toThrow('send took longer than 1 s');
  });

  it('settles as the work does when it is in time, and leaves no timer behind', async () => {
    await expect(withDeadline(Promise.resolve('sent'), 1_000, 'late')).resolves.toBe('sent');
    await expect(withDeadline(Promise.reject(new Error('refused')), 1_000, 'late')).rejects.toThrow('refused');
    expect(jest.getTimerCount()).toBe(0);
  });
});
