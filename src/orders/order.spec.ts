import type { OrderStatus } from '../events';
import { canMove } from './order';

describe('canMove', () => {
  it.each<[OrderStatus, OrderStatus]>([
    ['placed', 'paid'],
    ['paid', 'shipped'],
    ['placed', 'cancelled'],
    ['paid', 'cancelled'],
  ])('allows %s → %s', (from, to) => {
    expect(canMove(from, to)).toBe(true);
  });

  it.each<[OrderStatus, OrderStatus]>([
    ['placed', 'shipped'],
    ['shipped', 'cancelled'],
    ['shipped', 'paid'],
    ['paid', 'placed'],
    ['cancelled', 'placed'],
    ['cancelled', 'paid'],
    ['cancelled', 'shipped'],
  ])('refuses %s → %s', (from, to) => {
    expect(canMove(from, to)).toBe(false);
  });

  it.each<OrderStatus>(['placed', 'paid', 'shipped', 'cancelled'])('refuses staying in %s', (status) => {
    expect(canMove(status, status)).toBe(false);
  });
});
