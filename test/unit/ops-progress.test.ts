import { describe, expect, test } from '@jest/globals';
import {
  ProgressState,
  RateWindow,
  formatProgressLine,
  progressLogFields,
  defaultProgressMode,
} from '../../src/ops/progress.js';
import { formatDuration, formatRate, parseDuration } from '../../src/ops/duration.js';
import type { PartitionLag } from '../../src/adapters/kafka/lag.js';

const lag = (partition: number, committed: number | null, end: number, start = 0): PartitionLag => ({
  topic: 'users',
  partition,
  committed: committed === null ? null : String(committed),
  start: String(start),
  end: String(end),
  lag: end - (committed ?? start),
});

describe('durations and rates', () => {
  test('parse what operators type', () => {
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2')).toBe(2000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(() => parseDuration('10 seconds')).toThrow('invalid duration');
    expect(() => parseDuration('s')).toThrow('invalid duration');
  });

  test('format compactly', () => {
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(45_000)).toBe('45s');
    expect(formatDuration(125_000)).toBe('2m05s');
    expect(formatDuration(3_720_000)).toBe('1h02m');
    expect(formatDuration(273_600_000)).toBe('3d04h');
    expect(formatDuration(Infinity)).toBe('∞');
    expect([formatRate(null), formatRate(0), formatRate(0.349), formatRate(12.34), formatRate(1234.4)]).toEqual([
      '-',
      '0',
      '0.35',
      '12.3',
      '1234',
    ]);
  });
});

describe('progress', () => {
  test('a rate over a sliding window', () => {
    const w = new RateWindow(10_000);
    expect(w.rate()).toBeNull();
    w.add(0, 0);
    w.add(1000, 50);
    expect(w.rate()).toBe(50);
    for (let t = 2000; t <= 20_000; t += 1000) w.add(t, 50 + (t - 1000) / 10); // 100/s from t=1s
    expect(w.rate()).toBeCloseTo(100);
  });

  test('position vs end offsets summed over partitions, counted from where the run started', () => {
    const s = new ProgressState(0);
    s.onLag([lag(0, 100, 1100), lag(1, null, 500)], 1000);
    let snap = s.snapshot(1000);
    expect(snap).toMatchObject({ done: 0, total: 1500, remaining: 1500, known: true, etaMs: null });

    for (let i = 0; i < 300; i++) s.onRecord();
    for (let i = 0; i < 40; i++)
      s.onCall({ outcome: i < 2 ? 'throttled' : 'ok', category: i < 30 ? 'UserRead' : 'UserUpdate' });
    s.onDlq();
    s.tick(1000);
    s.onLag([lag(0, 300, 1100), lag(1, 100, 600)], 11_000); // 300 done, 1300 left, source wrote 100 more
    s.tick(11_000);
    snap = s.snapshot(11_000);
    expect(snap).toMatchObject({
      done: 300,
      total: 1600,
      remaining: 1300,
      records: 300,
      cognitoCalls: 40,
      cognitoWrites: 10,
      throttles: 2,
      dlq: 1,
    });
    expect(snap.commitsPerSec).toBeCloseTo(30);
    expect(snap.etaMs).toBeCloseTo((1300 / 30) * 1000, -2);

    expect(formatProgressLine(snap)).toBe(
      '300/1600 msgs (18%) | 0 ev/s | 0 Cognito calls/s (10 writes) | 2 throttled | 1 DLQ | ETA 43s',
    );
    expect(progressLogFields(snap)).toMatchObject({
      done: 300,
      total: 1600,
      remaining: 1300,
      percent: 18,
      cognitoWrites: 10,
      throttles: 2,
      dlq: 1,
      etaSeconds: 43,
      elapsedSeconds: 11,
    });
  });

  test('events/s and calls/s from the ticks; caught up means ETA 0 and 100%', () => {
    const s = new ProgressState(0);
    s.tick(0);
    for (let i = 0; i < 120; i++) s.onRecord();
    for (let i = 0; i < 25; i++) s.onCall({ outcome: 'ok', category: 'UserRead' });
    s.tick(2000);
    s.onLag([lag(0, 10, 10)], 2000);
    const snap = s.snapshot(2000);
    expect(snap.eventsPerSec).toBe(60);
    expect(snap.callsPerSec).toBe(12.5);
    expect(formatProgressLine(snap)).toBe(
      '0/0 msgs (100%) | 60.0 ev/s | 12.5 Cognito calls/s (0 writes) | 0 throttled | 0 DLQ | caught up',
    );
  });

  test("the last line gives the whole run's average rate, not the decayed window (a run that idled at its end)", () => {
    const s = new ProgressState(0);
    s.tick(0);
    for (let i = 0; i < 300; i++) s.onRecord();
    s.tick(10_000);
    // 50 s of nothing after the burst: the 10 s window says 0 ev/s, the run averaged 5 ev/s.
    s.tick(40_000);
    s.tick(60_000);
    s.onLag([lag(0, 10, 10)], 60_000);
    const snap = s.snapshot(60_000);
    expect(snap.eventsPerSec).toBe(0);
    expect(formatProgressLine(snap, true)).toBe(
      '0/0 msgs (100%) | 5.0 ev/s average over 1m00s | 0 Cognito calls/s (0 writes) | 0 throttled | 0 DLQ | caught up',
    );
  });

  test('before the first lag poll the totals are unknown, not zero', () => {
    const snap = new ProgressState(0).snapshot(500);
    expect(formatProgressLine(snap)).toMatch(/^waiting for partitions \|/);
    expect(progressLogFields(snap).percent).toBeNull();
  });

  test('a bar only when stderr is a terminal', () => {
    expect(defaultProgressMode({ isTTY: true })).toBe('bar');
    expect(defaultProgressMode({ isTTY: false })).toBe('log');
    expect(defaultProgressMode({})).toBe('log');
  });
});
