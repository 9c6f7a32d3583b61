import { randomUUID } from 'node:crypto';

/** A token unique to this test run and call, so assertions never match another test's data. */
export function unique(prefix = 'x'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function aUser(overrides: Partial<{ name: string; email: string | null }> = {}) {
  const name = unique('user');
  return { name, email: `${name}@example.com`, ...overrides };
}

export function anOrder(userId: number, overrides: Partial<{ product: string; amount: number; quantity: number }> = {}) {
  return { userId, product: unique('product'), amount: 100000, ...overrides };
}

/** An id far above anything the sequences hand out during a test run, for outside producers. */
export function anOutsideId(): number {
  return 1_000_000 + Math.floor(Math.random() * 1_000_000_000);
}
