// Token buckets per Cognito quota category. Time comes from an injected clock so tests
// drive it without sleeping.

export interface Clock {
  now(): number; // ms
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Calls waiting in FIFO order, so no caller starves under contention. */
  private readonly queue: Array<() => void> = [];
  private draining = false;
  private penaltyUntil = 0;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number = Math.max(1, Math.ceil(ratePerSecond)),
    private readonly clock: Clock = systemClock,
  ) {
    this.tokens = this.burst;
    this.last = clock.now();
  }

  /** Resolves when one token is granted. */
  take(): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push(resolve);
      void this.drain();
    });
  }

  /**
   * After a throttle from Cognito the shared account budget is exhausted by someone:
   * stop granting for `ms` and empty the bucket, so retries don't stampede.
   */
  penalize(ms: number): void {
    this.tokens = 0;
    this.penaltyUntil = Math.max(this.penaltyUntil, this.clock.now() + ms);
  }

  get waiting(): number {
    return this.queue.length;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const now = this.clock.now();
        if (now < this.penaltyUntil) {
          await this.clock.sleep(this.penaltyUntil - now);
          this.last = this.clock.now();
          continue;
        }
        this.refill();
        if (this.tokens >= 1) {
          this.tokens -= 1;
          this.queue.shift()!();
          continue;
        }
        await this.clock.sleep(Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000));
      }
    } finally {
      this.draining = false;
    }
  }
}
