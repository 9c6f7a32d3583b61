import { Injectable } from '@nestjs/common';
import type { Consumer } from 'kafkajs';

export type MembershipState = 'not started' | 'member' | 'rebalancing' | 'crashed' | 'stopped' | 'disconnected';

/** Whether this instance's consumer is in its group, from kafkajs' own instrumentation events. */
@Injectable()
export class ConsumerMembership {
  private current: MembershipState = 'not started';

  get state(): MembershipState {
    return this.current;
  }

  /** Called once the transport's consumer has joined (Nest resolves `listen` after the first join). */
  watch(consumer: Consumer): void {
    this.current = 'member';
    const { GROUP_JOIN, REBALANCING, CRASH, STOP, DISCONNECT } = consumer.events;
    consumer.on(GROUP_JOIN, () => (this.current = 'member'));
    consumer.on(REBALANCING, () => (this.current = 'rebalancing'));
    consumer.on(CRASH, () => (this.current = 'crashed'));
    consumer.on(STOP, () => (this.current = 'stopped'));
    consumer.on(DISCONNECT, () => (this.current = 'disconnected'));
  }
}
