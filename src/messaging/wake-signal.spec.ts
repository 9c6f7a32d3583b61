import { CommittedWork } from './wake-signal';

describe('CommittedWork', () => {
  it('answers true once per note, false otherwise', () => {
    const work = new CommittedWork();
    expect(work.take()).toBe(false);
    work.note();
    work.note();
    expect(work.take()).toBe(true);
    expect(work.take()).toBe(false);
  });
});
