import { describe, expect, test } from '@jest/globals';
import { TokenBucket, type Clock } from '../../src/pipeline/apply/token-bucket.js';
import { OffsetTracker } from '../../src/pipeline/commit/offset-tracker.js';
import { backoffDelay } from '../../src/runtime/backoff.js';

/** Virtual time: sleep advances the clock instantly, so rate tests take no wall time. */
function virtualClock(): Clock & { t: number } {
  const clock = {
    t: 0,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.t += ms;
    },
  };
  return clock;
}

describe('token bucket', () => {
  test('grants no more than rate x seconds (+ the burst) over a window', async () => {
    const clock = virtualClock();
    const bucket = new TokenBucket(25, 25, clock);
    const grantedAt: number[] = [];
    await Promise.all(Array.from({ length: 125 }, () => bucket.take().then(() => grantedAt.push(clock.t))));
    // 25 from the initial burst, then 25/s: the 125th token comes after 4 s.
    expect(grantedAt).toHaveLength(125);
    expect(Math.max(...grantedAt)).toBeGreaterThanOrEqual(4000);
    expect(Math.max(...grantedAt)).toBeLessThan(4200);
    for (let second = 1; second < 4; second++) {
      const inWindow = grantedAt.filter((t) => t > second * 1000 && t <= (second + 1) * 1000).length;
      expect(inWindow).toBeLessThanOrEqual(26);
    }
  });

  test('a throttle penalty stops all grants for its duration', async () => {
    const clock = virtualClock();
    const bucket = new TokenBucket(10, 10, clock);
    bucket.penalize(2000);
    await bucket.take();
    expect(clock.t).toBeGreaterThanOrEqual(2000);
  });
});

describe('offset tracker', () => {
  test('commits only below the lowest unfinished offset', () => {
    const t = new OffsetTracker();
    for (const o of ['10', '11', '12', '13']) t.track(o);
    t.done('10');
    t.done('12');
    t.done('13');
    expect(t.committable()).toBe('11');
    t.done('11');
    expect(t.committable()).toBe('14');
  });

  test('handles offsets beyond 2^53', () => {
    const t = new OffsetTracker();
    t.track('9007199254740993');
    t.done('9007199254740993');
    expect(t.committable()).toBe('9007199254740994');
  });
});

describe('backoff', () => {
  test('grows exponentially with jitter and is capped', () => {
    const opts = { initialMs: 100, maxMs: 1000, factor: 2 };
    expect(backoffDelay(1, { ...opts, random: () => 0 })).toBe(50);
    expect(backoffDelay(3, { ...opts, random: () => 1 })).toBe(400);
    expect(backoffDelay(20, { ...opts, random: () => 1 })).toBe(1000);
  });
});
