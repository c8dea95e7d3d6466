// What a DLQ record means against its user's state now: the same verdict for `dlq inspect`
// and `dlq redrive` (redrive-verdict.ts).
import { describe, expect, test } from '@jest/globals';
import { judgeRecord, userNow, type UserNow } from '../../src/ops/redrive-verdict.js';
import { InMemoryCognito } from '../../bench/support/in-memory-cognito.js';
import { encodePostgresVersion } from '../../src/pipeline/decode/version.js';

const v = (n: number): string => encodePostgresVersion(n, n);
const user = (now: Partial<UserNow>): UserNow => ({ exists: false, held: undefined, deletedAt: undefined, ...now });
const usersRecord = { username: 'legacy_7', membership: false, version: v(100) };
const roleRow = { username: 'legacy_7', membership: true, version: v(100) };

describe('a users record', () => {
  test('is superseded when Cognito holds the user at its version or a newer one (the fix made in the legacy row)', () => {
    expect(judgeRecord(usersRecord, user({ exists: true, held: v(200) })).kind).toBe('superseded');
    expect(judgeRecord(usersRecord, user({ exists: true, held: v(100) })).kind).toBe('superseded');
  });
  test('is re-driven when Cognito holds an older version, an unversioned user, or no user', () => {
    expect(judgeRecord(usersRecord, user({ exists: true, held: v(50) })).kind).toBe('redrive');
    expect(judgeRecord(usersRecord, user({ exists: true, held: undefined })).kind).toBe('redrive');
    expect(judgeRecord(usersRecord, user({})).kind).toBe('redrive');
  });
  test('is superseded by a later delete, and not by an earlier one', () => {
    expect(judgeRecord(usersRecord, user({ deletedAt: v(150) })).kind).toBe('superseded');
    expect(judgeRecord(usersRecord, user({ deletedAt: v(50) })).kind).toBe('redrive');
  });
  test('without a source position (unwrap form without __lsn) it is never called superseded', () => {
    const unversioned = { ...usersRecord, version: '' };
    expect(judgeRecord(unversioned, user({ exists: true, held: v(200), deletedAt: v(300) })).kind).toBe('redrive');
  });
});

describe('a role row', () => {
  test("is not superseded by the user's attribute version: one membership is not in that version", () => {
    expect(judgeRecord(roleRow, user({ exists: true, held: v(900) })).kind).toBe('redrive');
  });
  test('whose user is not in Cognito goes back at once, saying so', () => {
    const verdict = judgeRecord(roleRow, user({}));
    expect(verdict.kind).toBe('user-missing');
    expect(verdict.reason).toMatch(/its user is not in Cognito/);
  });
  test('of a user deleted after it (also one re-created since) is superseded: it belonged to the earlier incarnation', () => {
    expect(judgeRecord(roleRow, user({ deletedAt: v(150) })).kind).toBe('superseded');
    expect(judgeRecord(roleRow, user({ exists: true, held: v(300), deletedAt: v(150) })).kind).toBe('superseded');
  });
});

describe('the deleted-users log is looked at only when the verdict depends on it (dlq inspect reads it from the topic)', () => {
  const cognito = new InMemoryCognito({ groups: [] });
  cognito.users.set('legacy_7', { attributes: { 'custom:cdc_version': v(200) }, enabled: true, groups: new Set() });
  const lookups: string[] = [];
  const log = {
    get: async (username: string) => {
      lookups.push(username);
      return v(150);
    },
  };
  const now = (subject: typeof usersRecord) => userNow(subject, cognito, log, 'custom:cdc_version');

  test('not for a users record Cognito holds at its version or later, nor for one without a version', async () => {
    lookups.length = 0;
    expect(judgeRecord(usersRecord, await now(usersRecord)).kind).toBe('superseded');
    expect(judgeRecord({ ...usersRecord, version: '' }, await now({ ...usersRecord, version: '' })).kind).toBe(
      'redrive',
    );
    expect(lookups).toEqual([]);
  });

  test('for a users record newer than Cognito, a user not in Cognito, and a role row', async () => {
    lookups.length = 0;
    const newer = { ...usersRecord, version: v(300) };
    expect(await now(newer)).toEqual({ exists: true, held: v(200), deletedAt: v(150) });
    expect(await now({ ...usersRecord, username: 'legacy_8' })).toMatchObject({ exists: false, deletedAt: v(150) });
    expect(judgeRecord(roleRow, await now(roleRow)).kind).toBe('superseded'); // deleted at 150, after the row's 100
    expect(lookups).toEqual(['legacy_7', 'legacy_8', 'legacy_7']);
  });
});
