import { Injectable } from '@nestjs/common';
import type { Consumer } from 'kafkajs';

export type MembershipState = 'not started' | 'member' | 'rebalancing' | 'crashed' | 'stopped' | 'disconnected';

/** One consumer group's kafkajs consumer in this instance, and whether it is a member. */
interface WatchedConsumer {
  name: string;
  consumer: Consumer;
  state: MembershipState;
}

/** Whether this instance's consumers are in their groups (one per ConsumerGroups entry), from kafkajs' own instrumentation events. */
@Injectable()
export class ConsumerMembership {
  private readonly watched = new Map<string, WatchedConsumer>();

  /** Every group's consumer a member (or rebalancing); else the first state that is not. 'not started' when none runs. */
  get state(): MembershipState {
    const states = [...this.watched.values()].map((w) => w.state);
    if (states.length === 0) return 'not started';
    return states.find((s) => s !== 'member' && s !== 'rebalancing') ?? (states.includes('rebalancing') ? 'rebalancing' : 'member');
  }

  /** Each group's state, by name. */
  get states(): Record<string, MembershipState> {
    return Object.fromEntries([...this.watched.values()].map((w) => [w.name, w.state]));
  }

  /** The kafkajs consumer of group `name` in this instance. */
  consumerOf(name: string): Consumer {
    const watched = this.watched.get(name);
    if (!watched) throw new Error(`no consumer of group ${name} runs here (running: ${[...this.watched.keys()].join(', ') || 'none'})`);
    return watched.consumer;
  }

  /** Called once a group's consumer has joined (Nest resolves `listen` after the first join). */
  watch(name: string, consumer: Consumer): void {
    const watched: WatchedConsumer = { name, consumer, state: 'member' };
    this.watched.set(name, watched);
    const { GROUP_JOIN, REBALANCING, CRASH, STOP, DISCONNECT } = consumer.events;
    consumer.on(GROUP_JOIN, () => (watched.state = 'member'));
    consumer.on(REBALANCING, () => (watched.state = 'rebalancing'));
    consumer.on(CRASH, () => (watched.state = 'crashed'));
    consumer.on(STOP, () => (watched.state = 'stopped'));
    consumer.on(DISCONNECT, () => (watched.state = 'disconnected'));
  }
}
