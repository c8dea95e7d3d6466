import { describe, expect, test } from '@jest/globals';
import {
  buildLagReport,
  formatLagTable,
  partitionStatus,
  worstStatus,
  type LagSample,
} from '../../src/ops/lag-status.js';

/** Samples 5 s apart from (committed, end) pairs; committed null = never committed. */
const series = (...points: [number | null, number][]): LagSample[] => spaced(5000, ...points);
const spaced = (stepMs: number, ...points: [number | null, number][]): LagSample[] =>
  points.map(([committed, end], i) => ({
    timeMs: 1_000_000 + i * stepMs,
    committed: committed === null ? null : String(committed),
    start: '0',
    end: String(end),
  }));

describe('lag status rules (Burrow-style, over a window of samples)', () => {
  test('OK: lag 0 at the last sample', () => {
    expect(partitionStatus(series([90, 100], [100, 100], [120, 120]), true)).toMatchObject({
      status: 'OK',
      lag: 0,
      reason: 'caught up',
    });
  });

  test('OK: lag 0 at some sample, even with lag at the end and no members', () => {
    expect(partitionStatus(series([100, 100], [100, 105], [100, 110]), false)).toMatchObject({ status: 'OK', lag: 10 });
  });

  test('OK: committed moving and lag shrinking (a backfill draining)', () => {
    const v = partitionStatus(series([0, 1000], [300, 1000], [600, 1000]), true);
    expect(v).toMatchObject({ status: 'OK', lag: 400 });
    expect(v.consumeRate).toBeCloseTo(60); // 600 offsets in 10 s
    expect(v.produceRate).toBe(0);
  });

  test('OK: committed moving, lag flat or going up and down, not growing every sample', () => {
    expect(partitionStatus(series([100, 150], [150, 200], [200, 250]), true).status).toBe('OK');
    expect(partitionStatus(series([100, 150], [150, 210], [220, 260]), true).status).toBe('OK');
  });

  test('WARNING: committed moving but lag grew at every sample', () => {
    expect(partitionStatus(series([100, 150], [120, 200], [140, 260], [160, 330]), true)).toMatchObject({
      status: 'WARNING',
      lag: 170,
    });
  });

  test('STALLED: lag > 0, committed not moving for 30 s, group has members', () => {
    expect(partitionStatus(spaced(15_000, [100, 150], [100, 150], [100, 150]), true)).toMatchObject({
      status: 'STALLED',
      lag: 50,
    });
    expect(partitionStatus(spaced(15_000, [100, 150], [100, 160], [100, 170]), true).status).toBe('STALLED');
  });

  test('STALLED: a group with members that never committed on a partition with records', () => {
    expect(partitionStatus(spaced(30_000, [null, 40], [null, 40]), true)).toMatchObject({ status: 'STALLED', lag: 40 });
  });

  test('a healthy burst in a short window is not called STALLED: one batch can take longer than the window', () => {
    // --window 6s during a burst: the source writes, the sync is inside a batch, no commit yet.
    const v = partitionStatus(spaced(3000, [100, 150], [100, 400], [100, 700]), true);
    expect(v.status).toBe('OK');
    expect(v.reason).toBe('no commit in 6s, too short to tell a batch still applying from a stall: watch 30s or more');
  });

  test('STOPPED: lag > 0 and no active member', () => {
    expect(partitionStatus(series([100, 150], [100, 150], [100, 150]), false)).toMatchObject({
      status: 'STOPPED',
      lag: 50,
    });
    expect(partitionStatus(series([null, 7], [null, 7]), false).status).toBe('STOPPED');
  });

  test('REWOUND: the committed offset went backwards (wins over everything)', () => {
    const v = partitionStatus(series([500, 500], [0, 500], [100, 500]), true);
    expect(v.status).toBe('REWOUND');
    expect(v.reason).toContain('from 500 to 0');
    expect(partitionStatus(series([500, 500], [500, 500], [0, 500]), false).status).toBe('REWOUND');
  });

  test('a single sample cannot show movement: only lag 0 or no members decide', () => {
    expect(partitionStatus(series([10, 10]), true).status).toBe('OK');
    expect(partitionStatus(series([5, 10]), false).status).toBe('STOPPED');
    expect(partitionStatus(series([5, 10]), true)).toMatchObject({ status: 'OK', consumeRate: null });
  });

  test('the worst status of a group', () => {
    expect(worstStatus(['OK', 'WARNING', 'OK'])).toBe('WARNING');
    expect(worstStatus(['STALLED', 'REWOUND', 'STOPPED'])).toBe('REWOUND');
    expect(worstStatus([])).toBe('OK');
  });
});

describe('lag report', () => {
  const input = (members: number, firstUnconsumedTs = new Map<string, number>()) => ({
    groupId: 'cognito-sync',
    groupState: members > 0 ? 'Stable' : 'Empty',
    members,
    series: new Map([
      ['legacy.public.users:1', series([0, 1000], [300, 1000], [600, 1000])],
      ['legacy.public.users:0', series([50, 50], [50, 50], [50, 50])],
    ]),
    firstUnconsumedTs,
    nowMs: 1_010_000 + 125_000,
  });

  test('time lag from the first unconsumed record when read, else lag / rate, labelled', () => {
    const measured = buildLagReport(input(1, new Map([['legacy.public.users:1', 1_010_000]])));
    expect(measured.partitions.map((p) => p.partition)).toEqual([0, 1]);
    expect(measured.partitions[0]).toMatchObject({ lag: 0, timeLagMs: 0, timeLagSource: null, status: 'OK' });
    expect(measured.partitions[1]).toMatchObject({
      lag: 400,
      timeLagMs: 125_000,
      timeLagSource: 'record-timestamp',
      status: 'OK',
    });
    expect(measured).toMatchObject({ status: 'OK', totalLag: 400, windowMs: 10_000, samples: 3 });

    const estimated = buildLagReport(input(1));
    expect(estimated.partitions[1]).toMatchObject({ timeLagSource: 'lag/rate' });
    expect(estimated.partitions[1]!.timeLagMs).toBeCloseTo((400 / 60) * 1000, -1);
  });

  test('the table shows every number and says how the time lag was obtained', () => {
    const table = formatLagTable(buildLagReport(input(1)));
    expect(table).toContain('group cognito-sync: OK');
    expect(table).toMatch(/legacy\.public\.users\s+1\s+600\s+1000\s+400\s+~6s\s+60\.0\s+OK/);
    expect(table).toContain('~ = estimated as lag / consumption rate');
  });

  test('no members and lag: STOPPED is the group status', () => {
    const report = buildLagReport({ ...input(0), series: new Map([['t:0', series([10, 20], [10, 20])]]) });
    expect(report.status).toBe('STOPPED');
    expect(formatLagTable(report)).toContain('0 members');
  });
});
