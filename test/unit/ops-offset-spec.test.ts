import { describe, expect, test } from '@jest/globals';
import { parseOffsetSpec, parseTimestamp, planReset } from '../../src/adapters/kafka/offset-reset.js';
import type { PartitionLag } from '../../src/adapters/kafka/lag.js';
import { ConfigError } from '../../src/errors.js';
import { refusal } from '../../src/cli/commands/replay.js';

describe('--to-offsets parsing', () => {
  test('topic:partition=offset, comma separated, dots in topic names', () => {
    expect(
      parseOffsetSpec(
        'legacy.public.users:0=1200, legacy.public.users:2=0,legacy.public.user_roles:1=18446744073709551615',
      ),
    ).toEqual([
      { topic: 'legacy.public.users', partition: 0, offset: '1200' },
      { topic: 'legacy.public.users', partition: 2, offset: '0' },
      { topic: 'legacy.public.user_roles', partition: 1, offset: '18446744073709551615' },
    ]);
  });

  test.each([
    ['', 'expected topic:partition=offset'],
    ['users:0', 'is not topic:partition=offset'],
    ['users=5', 'is not topic:partition=offset'],
    ['users:x=5', 'is not topic:partition=offset'],
    ['users:0=-1', 'is not topic:partition=offset'],
    ['users:0=1,users:0=2', 'given twice'],
  ])('refuses %p naming the problem', (spec, message) => {
    expect(() => parseOffsetSpec(spec)).toThrow(ConfigError);
    expect(() => parseOffsetSpec(spec)).toThrow(message);
  });
});

describe('--from-timestamp parsing', () => {
  test('ISO instants with a zone, or a plain date (UTC)', () => {
    expect(parseTimestamp('2024-05-01T10:00:00Z')).toEqual({
      timestampMs: Date.UTC(2024, 4, 1, 10),
      iso: '2024-05-01T10:00:00.000Z',
    });
    expect(parseTimestamp('2024-05-01T12:00:00+02:00').iso).toBe('2024-05-01T10:00:00.000Z');
    expect(parseTimestamp('2024-05-01').iso).toBe('2024-05-01T00:00:00.000Z');
  });

  test('refuses a date-time without a zone and non-dates', () => {
    expect(() => parseTimestamp('2024-05-01T10:00:00')).toThrow('no time zone');
    expect(() => parseTimestamp('yesterday')).toThrow('not an ISO-8601');
    expect(() => parseTimestamp('1714557600000')).toThrow(ConfigError);
  });
});

describe('reset plan', () => {
  const current: PartitionLag[] = [
    { topic: 'users', partition: 1, committed: '900', start: '100', end: '1000', lag: 100 },
    { topic: 'users', partition: 0, committed: null, start: '0', end: '500', lag: 500 },
  ];

  test('earliest: every partition to its log start', () => {
    expect(planReset(current, { kind: 'earliest' })).toEqual([
      { topic: 'users', partition: 0, current: null, target: '0', low: '0', high: '500', toRead: 500 },
      { topic: 'users', partition: 1, current: '900', target: '100', low: '100', high: '1000', toRead: 900 },
    ]);
  });

  test('timestamp: the offsets Kafka found; none after the time means the end', () => {
    const rows = planReset(
      current,
      { kind: 'timestamp', timestampMs: 0, iso: '2024-05-01T00:00:00.000Z' },
      new Map([
        ['users:0', '500'],
        ['users:1', '640'],
      ]),
    );
    expect(rows.map((r) => [r.partition, r.target, r.toRead])).toEqual([
      [0, '500', 0],
      [1, '640', 360],
    ]);
    expect(rows[0]!.note).toContain('no record at or after');
  });

  test('explicit offsets: only the partitions named, clamped to what is retained', () => {
    const rows = planReset(current, { kind: 'offsets', offsets: [{ topic: 'users', partition: 1, offset: '5' }] });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ partition: 1, target: '100', toRead: 900 });
    expect(rows[0]!.note).toContain('retention');
    expect(
      planReset(current, { kind: 'offsets', offsets: [{ topic: 'users', partition: 0, offset: '9999' }] })[0],
    ).toMatchObject({ target: '500', toRead: 0 });
  });

  test('explicit offsets of a partition the sync does not read are refused', () => {
    expect(() =>
      planReset(current, { kind: 'offsets', offsets: [{ topic: 'users', partition: 7, offset: '0' }] }),
    ).toThrow('users:7 is not a partition');
  });

  test('the refusal for an active group explains why Kafka would refuse too', () => {
    const text = refusal('cognito-sync', { state: 'Stable', members: 2 }, false);
    expect(text).toContain('2 active member(s)');
    expect(text).toContain('Kafka refuses offset commits from outside a consumer group while it has members');
    expect(text).toContain('--group');
  });
});
