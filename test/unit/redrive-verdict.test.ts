// What a DLQ record means against its user's state now: the same verdict for `dlq inspect`
// and `dlq redrive` (redrive-verdict.ts).
import { describe, expect, test } from '@jest/globals';
import { judgeRecord, type UserNow } from '../../src/ops/redrive-verdict.js';
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
