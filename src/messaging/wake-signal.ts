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

/**
 * Work a consumer's transaction left for a background loop (deliveries to send, anomalies to
 * publish), noted before its commit and taken by the handler once the commit is done: the loop is
 * woken when the batch gave it something to do, not after every batch (each wake costs the loop a
 * transaction, a fifth of the statements under write load when nothing was due). The loop's own
 * poll stays the fallback for a note that is missed.
 */
export class CommittedWork {
  private noted = false;

  note(): void {
    this.noted = true;
  }

  /** True once after each `note()`: the first of a batch's handlers to ask wakes the loop. */
  take(): boolean {
    const noted = this.noted;
    this.noted = false;
    return noted;
  }
}
