import { EntityNotFoundError } from '../common/errors';
import type { Projection } from './projection';
import { ProjectionRegistry } from './projection-registry';
import { ident } from './rows-writer';

const projection = (overrides: Partial<Projection> = {}): Projection => ({
  name: 'reports',
  description: 'test',
  tables: [{ name: 'analytics_product_minute_windows', key: ['window_start', 'product'], columns: ['placed', 'revenue'] }],
  entityTypes: ['order'],
  createBuilder: () => ({ apply: () => undefined, flush: async () => undefined }),
  ...overrides,
});

describe('ProjectionRegistry', () => {
  it('knows users, orders and analytics, and accepts one more with a composite key', () => {
    const registry = new ProjectionRegistry();

    registry.register(projection());

    expect(registry.names()).toEqual(['users', 'orders', 'analytics', 'reports']);
    expect(registry.get('reports').tables[0].key).toEqual(['window_start', 'product']);
  });

  it('answers an unknown name with a not-found error listing the known ones', () => {
    expect(() => new ProjectionRegistry().get('nope')).toThrow(new EntityNotFoundError('projection', 'nope', 'no projection named nope (known: users, orders, analytics)'));
  });

  it.each([
    ['a table name that is not a plain identifier', projection({ tables: [{ name: 'users; DROP TABLE users', key: ['id'], columns: [] }] })],
    ['a column name that is not a plain identifier', projection({ tables: [{ name: 'users', key: ['id'], columns: ['name"'] }] })],
    ['a table without key columns', projection({ tables: [{ name: 'users', key: [], columns: [] }] })],
    ['a name that is not lower-case with dashes', projection({ name: 'Analytics' })],
    ['a name registered twice', projection({ name: 'users' })],
    ['analytics registered twice', projection({ name: 'analytics' })],
  ])('refuses %s', (_label, bad) => {
    expect(() => new ProjectionRegistry().register(bad)).toThrow();
  });
});

describe('ident', () => {
  it('quotes a plain identifier and refuses anything else', () => {
    expect(ident('created_at')).toBe('"created_at"');
    expect(() => ident('x" OR 1=1 --')).toThrow('not a plain identifier');
  });
});
