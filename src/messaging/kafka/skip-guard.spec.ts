import { partitionKey } from './partition-activity';
import { SEND_BACK_TRIES, SkipGuard } from './skip-guard';

const key = partitionKey('order_placed', 0);

const commit = (committed: bigint, low = 0n) => ({ committed, groupCommitted: true, low });

function guardAt(next: bigint): SkipGuard {
  const guard = new SkipGuard();
  guard.handled('order_placed', 0, next);
  return guard;
}

describe('SkipGuard', () => {
  it('expects nothing of a partition this instance has not handled', () => {
    expect(new SkipGuard().fetched('order_placed', 0, 500n)).toEqual({ skipped: false });
    expect(new SkipGuard().behind(key, commit(500n))).toBeUndefined();
  });

  it('takes a batch from where handling stopped, or from before (a redelivery)', () => {
    const guard = guardAt(10n);
    expect(guard.fetched('order_placed', 0, 10n)).toEqual({ skipped: false });
    expect(guard.fetched('order_placed', 0, 4n)).toEqual({ skipped: false });
  });

  it('sends a batch fetched from past the records not handled back to them', () => {
    expect(guardAt(10n).fetched('order_placed', 0, 90n)).toEqual({ skipped: true, to: 10n, tries: 1, givenUp: false });
  });

  it('never moves the expected offset back', () => {
    const guard = guardAt(10n);
    guard.handled('order_placed', 0, 3n);
    expect(guard.fetched('order_placed', 0, 9n)).toEqual({ skipped: false });
    expect(guard.fetched('order_placed', 0, 11n)).toMatchObject({ skipped: true, to: 10n });
  });

  it('gives up on records that going back never brings (deleted), and takes the position as it is', () => {
    const guard = guardAt(10n);
    for (let i = 1; i <= SEND_BACK_TRIES; i += 1) expect(guard.fetched('order_placed', 0, 90n)).toMatchObject({ tries: i, givenUp: false });
    expect(guard.fetched('order_placed', 0, 90n)).toMatchObject({ skipped: true, givenUp: true });
    expect(guard.fetched('order_placed', 0, 90n)).toEqual({ skipped: false });
  });

  it('counts tries again once records were handled between two skips', () => {
    const guard = guardAt(10n);
    for (let i = 1; i <= SEND_BACK_TRIES; i += 1) guard.fetched('order_placed', 0, 90n);
    guard.handled('order_placed', 0, 20n);
    expect(guard.fetched('order_placed', 0, 90n)).toEqual({ skipped: true, to: 20n, tries: 1, givenUp: false });
  });

  it('forgets a partition a new assignment gives to another member', () => {
    const guard = guardAt(10n);
    guard.keepOnly({ order_placed: [1], user_created: [0] });
    expect(guard.fetched('order_placed', 0, 90n)).toEqual({ skipped: false });
    const kept = guardAt(10n);
    kept.keepOnly({ order_placed: [0] });
    expect(kept.fetched('order_placed', 0, 90n)).toMatchObject({ skipped: true });
  });

  it('finds a committed offset past the records not handled', () => {
    const guard = guardAt(10n);
    expect(guard.behind(key, commit(10n))).toBeUndefined();
    expect(guard.behind(key, commit(7n))).toBeUndefined();
    expect(guard.behind(key, commit(40n))).toBe(10n);
  });

  it('expects nothing before the first retained record: those are gone', () => {
    const guard = guardAt(10n);
    expect(guard.behind(key, commit(30n, 30n))).toBeUndefined();
    expect(guard.behind(key, commit(40n, 30n))).toBe(30n);
    expect(guard.fetched('order_placed', 0, 30n)).toEqual({ skipped: false });
  });

  it("counts a never-committed partition's start only after the consumer restarted, until it handles again", () => {
    const guard = guardAt(10n);
    const start = { committed: 40n, groupCommitted: false, low: 0n };
    // Right after a start the guess runs ahead of records on their way to the handlers.
    expect(guard.behind(key, start)).toBeUndefined();
    guard.restarted();
    expect(guard.behind(key, start)).toBe(10n);
    guard.handled('order_placed', 0, 12n);
    expect(guard.behind(key, start)).toBeUndefined();
  });
});
