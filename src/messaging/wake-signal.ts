/**
 * Lets a background loop sleep until there is work (`wake()`) or a poll interval passes. A wake that
 * arrives while the loop is busy is remembered, so no wake-up is lost between two sleeps; after
 * `close()` every sleep returns at once, so a stopping loop never waits.
 */
export class WakeSignal {
  private woken = false;
  private closed = false;
  private wakeUp?: () => void;

  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  /** Resolves on the next wake-up or after `ms`, whichever comes first. */
  sleep(ms: number): Promise<void> {
    if (this.woken || this.closed) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}
