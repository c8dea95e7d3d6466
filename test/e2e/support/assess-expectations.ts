// The planted problems of the `assess` e2e tests and the report that must come back: one copy
// for PostgreSQL and MariaDB, so both adapters are held to the very same report.
import { expect } from '@jest/globals';
import type { Seed } from './legacy-seed.js';

/** 20 clean users, then one row per kind of problem `assess` reports. */
export const PLANTED_PROBLEMS: readonly Seed[] = [
  ...Array.from({ length: 20 }, (_, i) => ({ id: i + 1, phone: i % 2 ? `+49 151 000 ${1000 + i}` : null })), // clean
  { id: 101, email: 'no-at-sign.example.com' }, // rejected: email format
  { id: 102, given: 'G'.repeat(2100) }, // rejected: given_name (and the name built from it) too long
  { id: 103, status: 'banned' }, // rejected: status in neither list
  { id: 104, phone: 'ask reception' }, // dropped: onInvalid remove
  { id: 105, tier: 'diamond' }, // dropped: enum default null
  { id: 106, email: 'USER1@Example.COM' }, // duplicate of user 1, case-insensitively
  { id: 107, email: 'user1@example.com' }, // and another
  { id: 108, phone: '0151 000 1001' }, // the same number as user 2, once normalised to E.164
];

/** `assess --json --examples 5` over PLANTED_PROBLEMS (examples/mapping.yaml): every planted problem, and nothing else. */
export const expectPlantedProblemsReport = ({ code, out }: { code: number; out: string }): void => {
  const report = JSON.parse(out);
  expect(code).toBe(3);
  expect(report.users).toBe(28);
  expect(report.dlq).toEqual({ rows: 3, examples: ['id=101', 'id=102', 'id=103'] });
  expect(
    report.problems.map((p: { field: string; count: number; examples: { key: string }[] }) => [
      p.field,
      p.count,
      p.examples.map((e) => e.key),
    ]),
  ).toEqual([
    ['email', 1, ['id=101']],
    ['given_name', 1, ['id=102']],
    ['name', 1, ['id=102']],
    ['status', 1, ['id=103']],
  ]);
  expect(
    report.dropped.map((d: { field: string; examples: { key: string }[] }) => [d.field, d.examples.map((e) => e.key)]),
  ).toEqual([
    ['custom:loyalty_tier', ['id=105']],
    ['phone_number', ['id=104']],
  ]);
  const dup = Object.fromEntries(
    report.duplicates.map((d: { attribute: string; rows: number; examples: { keys: string[] }[] }) => [
      d.attribute,
      [d.rows, d.examples.map((e) => e.keys.join('='))],
    ]),
  );
  expect(dup).toEqual({
    email: [2, ['id=1=id=106', 'id=1=id=107']],
    phone_number: [1, ['id=2=id=108']],
    preferred_username: [0, []],
  });
  // Examples are redacted: no planted value appears in the output.
  expect(out).not.toContain('no-at-sign');
  expect(out).not.toContain('USER1@Example.COM');
  expect(out).not.toContain('ask reception');
  expect(report.coverage.find((c: { column: string }) => c.column === 'email').percent).toBe(100);
  expect(report.estimate.calls.UserCreation).toBe(25);
};
