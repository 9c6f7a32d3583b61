import { EVENT_TYPES } from './catalogue';
import { validateEventPayload } from './event-validator';
import { examplesOf, schemaVersions } from './schemas';

const user = (overrides: Record<string, unknown> = {}) => ({
  id: 11,
  name: 'King',
  email: 'king@example.com',
  version: 1,
  createdAt: '2026-11-25T10:00:00.000Z',
  updatedAt: '2026-11-25T10:00:00.000Z',
  ...overrides,
});

const order = (overrides: Record<string, unknown> = {}) => ({
  id: 11,
  userId: 11,
  product: 'sofa',
  amount: 100000,
  quantity: 1,
  status: 'placed',
  version: 1,
  createdAt: '2026-11-25T10:00:00.000Z',
  updatedAt: '2026-11-25T10:00:00.000Z',
  ...overrides,
});

function reasonOf(result: ReturnType<typeof validateEventPayload>): string {
  if (result.valid) throw new Error('expected the payload to be invalid');
  return result.reason;
}

describe('validateEventPayload', () => {
  it("accepts the origin document's user_created payload as version 1", () => {
    expect(validateEventPayload('user_created', { id: 11, name: 'King' }, 1)).toEqual({ valid: true });
  });

  it('requires email and version in user_created version 2, the current one', () => {
    const reason = reasonOf(validateEventPayload('user_created', { id: 11, name: 'King' }));

    expect(reason).toContain('email');
    expect(reason).toContain('version');
  });

  it("accepts the origin document's order_placed payload", () => {
    expect(validateEventPayload('order_placed', { id: 11, product: 'sofa', amount: 100000 })).toEqual({ valid: true });
  });

  it('accepts a full Nestream user and order entity', () => {
    expect(validateEventPayload('user_created', user())).toEqual({ valid: true });
    expect(validateEventPayload('user_updated', user())).toEqual({ valid: true });
    expect(validateEventPayload('order_updated', order({ userId: null }))).toEqual({ valid: true });
  });

  it('accepts an amount with two decimals', () => {
    expect(validateEventPayload('order_placed', order({ amount: 19.99 }))).toEqual({ valid: true });
  });

  it('rejects an amount with three decimals, naming amount', () => {
    expect(reasonOf(validateEventPayload('order_placed', order({ amount: 19.999 })))).toContain('amount');
  });

  it('rejects a user without a name, naming name', () => {
    expect(reasonOf(validateEventPayload('user_updated', { id: 11 }))).toContain('name');
  });

  it('rejects a string id, naming id', () => {
    expect(reasonOf(validateEventPayload('user_created', user({ id: '11' })))).toContain('id');
  });

  it('names every failing field in one reason', () => {
    const reason = reasonOf(validateEventPayload('order_placed', order({ product: '', status: 'lost' })));

    expect(reason).toContain('product');
    expect(reason).toContain('status');
  });

  it('accepts a user_deleted payload that carries only the id', () => {
    expect(validateEventPayload('user_deleted', { id: 11 })).toEqual({ valid: true });
  });

  it('rejects a user_deleted payload without an id', () => {
    expect(reasonOf(validateEventPayload('user_deleted', { name: 'King' }))).toContain('id');
  });

  it('refuses a schema version that does not exist, listing the known ones', () => {
    expect(reasonOf(validateEventPayload('user_created', user(), 3))).toBe('user_created has no schema version 3 (known: 1, 2)');
  });

  const everyExample = EVENT_TYPES.flatMap((type) =>
    schemaVersions(type).flatMap((version) => examplesOf(type, version).map((example, i) => [type, version, i, example] as const)),
  );

  it.each(everyExample)('accepts %s version %d example %d from its own schema file', (type, version, _i, example) => {
    expect(validateEventPayload(type, example, version)).toEqual({ valid: true });
  });
});
