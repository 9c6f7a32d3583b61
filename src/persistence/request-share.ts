import { AsyncLocalStorage } from 'node:async_hooks';
import type { NextFunction, Request, Response } from 'express';
import pg from 'pg';

/**
 * HTTP requests and the background work (outbox relay, consumers, webhook dispatcher) share one
 * connection pool, and the pool serves whoever asked first. Under an HTTP flood the background work
 * would queue behind dozens of requests (measured: 40–60 waiting, 50–300 ms per claim), so events and
 * webhooks fell seconds behind the writes that made them. HTTP requests therefore hold at most a share
 * of the pool at once; the rest of it is kept for the background work, which never waits behind them.
 */
const requests = new AsyncLocalStorage<true>();

/** Express middleware: everything the request does, to its last await, counts against the HTTP share. */
export function requestShareMiddleware(_req: Request, _res: Response, next: NextFunction): void {
  requests.run(true, next);
}

/** Connections HTTP requests may hold at once: the pool less the reserve, never less than one. */
export function requestShareOf(poolSize: number, reserved: number): number {
  return Math.max(1, poolSize - reserved);
}

/**
 * The `pg` module as TypeORM loads it (its `driver` option), with a Pool that lets HTTP requests take
 * at most `share` connections at once. A request past the share waits, in arrival order, as long as
 * the pool itself would (`timeoutMs`), then fails with the pool's own timeout error.
 */
export function pgWithRequestShare(share: number, timeoutMs: number): typeof pg {
  const gate = new Gate(share);

  class SharedPool extends pg.Pool {
    // TypeORM calls connect(callback) and releases through the callback's `release`; pool.query()
    // releases through client.release. Both are wrapped so the share is handed back exactly once.
    connect(callback?: Connected): any {
      if (!requests.getStore()) return (super.connect as (cb?: unknown) => unknown)(callback);
      if (!callback) {
        return new Promise<pg.PoolClient>((resolve, reject) => this.connect((err, client) => (err ? reject(err) : resolve(client!))));
      }
      gate.enter(timeoutMs).then(
        () =>
          super.connect((err: Error | undefined, client: pg.PoolClient | undefined, release: Release) => {
            if (err || !client) {
              gate.leave();
              return callback(err, client, release);
            }
            let left = false;
            const releaseOnce: Release = (releaseErr) => {
              if (!left) {
                left = true;
                gate.leave();
              }
              return release(releaseErr);
            };
            client.release = releaseOnce;
            callback(undefined, client, releaseOnce);
          }),
        (err: Error) => callback(err, undefined, () => undefined),
      );
    }
  }

  // A view of the module with its Pool replaced; everything else (defaults, types) is the module's.
  return Object.create(pg, { Pool: { value: SharedPool } }) as typeof pg;
}

type Release = (err?: Error | boolean) => void;
/** How pg's Pool.connect answers a callback (TypeORM's way of asking). */
type Connected = (err: Error | undefined, client: pg.PoolClient | undefined, release: Release) => void;

/** A counting semaphore whose waiters are served in arrival order and give up after a timeout. */
export class Gate {
  private readonly waiting: (() => void)[] = [];

  constructor(private free: number) {}

  enter(timeoutMs: number): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const admit = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(admit), 1);
        // The pool's own wording, so callers see one error for "no connection in time".
        reject(new Error('timeout exceeded when trying to connect'));
      }, timeoutMs);
      this.waiting.push(admit);
    });
  }

  leave(): void {
    const next = this.waiting.shift();
    // The place passes straight to the next waiter.
    if (next) next();
    else this.free += 1;
  }

  get waiters(): number {
    return this.waiting.length;
  }
}
