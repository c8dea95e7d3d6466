// Simulated time for the scale bench: sleep() returns at once in wall time and advances the
// clock when nothing else can run. Between timers, run() yields one macrotask so every promise
// chain the previous timers released runs to its next sleep first; the pipeline under test
// makes no other I/O (the Cognito model is in process), so "nothing else can run" holds.
import type { Clock } from '../../src/pipeline/apply/token-bucket.js';

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

export class SimClock implements Clock {
  private t = 0;
  private seq = 0;
  private readonly heap: Timer[] = [];

  now(): number {
    return this.t;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.push({ at: this.t + Math.max(0, ms), seq: this.seq++, resolve }));
  }

  /** Drives the clock until `work` settles; returns its value and the simulated milliseconds it took. */
  async run<T>(work: Promise<T>): Promise<{ value: T; simulatedMs: number }> {
    const from = this.t;
    let done = false;
    let value: T | undefined;
    let failure: unknown;
    let failed = false;
    work.then(
      (v) => ((value = v), (done = true)),
      (e: unknown) => ((failure = e), (failed = true), (done = true)),
    );
    while (!done) {
      await new Promise((resolve) => setImmediate(resolve));
      if (done) break;
      const next = this.heap[0];
      if (next === undefined) continue; // promises still settling (or waiting on real I/O)
      this.t = next.at;
      while (this.heap.length > 0 && this.heap[0]!.at === this.t) this.pop().resolve();
    }
    if (failed) throw failure;
    return { value: value as T, simulatedMs: this.t - from };
  }

  private push(timer: Timer): void {
    const h = this.heap;
    h.push(timer);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): Timer {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

const before = (a: Timer, b: Timer): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);
