export * from './catalogue';
export * from './event-validator';
export * from './order.events';
export * from './user.events';
