// Alias conflicts (AliasExistsException) end without a person: wait for a holder whose change is
// in flight, break a swap by releasing the holder's claim, dead-letter a real duplicate naming
// both legacy keys. The decision is pure; the resolver is driven here with a controllable clock,
// an in-memory directory (the ListUsers Filter answer) and legacy rows.
import { describe, expect, test } from '@jest/globals';
import type { Attributes, CognitoCall } from '../../src/core/types.js';
import {
  AliasConflictError,
  AliasConflicts,
  AliasWaitError,
  decideAliasConflict,
  holdsAlias,
  releaseCall,
  type ConflictFacts,
} from '../../src/pipeline/apply/alias-conflicts.js';

const facts = (over: Partial<ConflictFacts>): ConflictFacts => ({
  holder: 'legacy_2',
  legacy: 'differs',
  holderWaitsOnMe: false,
  since: 1_000,
  now: 1_000,
  waitMs: 60_000,
  ...over,
});

describe('decideAliasConflict', () => {
  test('nobody holds the value any more: write again', () => {
    expect(decideAliasConflict(facts({ holder: undefined }))).toEqual({ kind: 'retry' });
  });

  test("the holder's legacy row has the same value: a real duplicate, at once, whatever the wait", () => {
    expect(decideAliasConflict(facts({ legacy: 'same' }))).toEqual({ kind: 'dead-letter', why: 'duplicate' });
    expect(decideAliasConflict(facts({ legacy: 'same', holderWaitsOnMe: true }))).toEqual({
      kind: 'dead-letter',
      why: 'duplicate',
    });
  });

  test("a holder the mapping does not make is someone else's user: the DLQ at once", () => {
    expect(decideAliasConflict(facts({ legacy: 'foreign' }))).toEqual({ kind: 'dead-letter', why: 'foreign' });
  });

  test.each(['differs', 'gone', 'unknown'] as const)(
    'holder row %s: wait while inside the bound, counted from the first conflict',
    (legacy) => {
      expect(decideAliasConflict(facts({ legacy, now: 1_000 }))).toEqual({ kind: 'wait' });
      expect(decideAliasConflict(facts({ legacy, now: 60_999 }))).toEqual({ kind: 'wait' });
    },
  );

  test('a swap (the holder waits for this user) is broken at once by releasing the holder', () => {
    expect(decideAliasConflict(facts({ holderWaitsOnMe: true }))).toEqual({ kind: 'release-holder' });
    expect(decideAliasConflict(facts({ holderWaitsOnMe: true, legacy: 'unknown' }))).toEqual({
      kind: 'release-holder',
    });
  });

  test('past the bound: a holder known to have moved on is released; an unknown one goes to the DLQ', () => {
    expect(decideAliasConflict(facts({ legacy: 'differs', now: 61_000 }))).toEqual({ kind: 'release-holder' });
    expect(decideAliasConflict(facts({ legacy: 'gone', now: 61_000 }))).toEqual({ kind: 'release-holder' });
    expect(decideAliasConflict(facts({ legacy: 'unknown', now: 61_000 }))).toEqual({
      kind: 'dead-letter',
      why: 'timeout',
    });
  });
});

describe('alias claims', () => {
  test('an email or phone number claims its alias only while verified; preferred_username always', () => {
    expect(holdsAlias({ email: 'A@x.org', email_verified: 'true' }, 'email', 'a@x.org')).toBe(true);
    expect(holdsAlias({ email: 'a@x.org', email_verified: 'false' }, 'email', 'a@x.org')).toBe(false);
    expect(holdsAlias({ email: 'a@x.org' }, 'email', 'a@x.org')).toBe(false);
    expect(
      holdsAlias({ phone_number: '+4915112345678', phone_number_verified: 'true' }, 'phone_number', '+4915112345678'),
    ).toBe(true);
    expect(holdsAlias({ preferred_username: 'Anna' }, 'preferred_username', 'anna')).toBe(true);
  });

  test('a release keeps the value and drops the claim (cognito-local wants the value with its flag)', () => {
    expect(releaseCall('legacy_2', 'email', { email: 'a@x.org', email_verified: 'true' })).toEqual({
      api: 'AdminUpdateUserAttributes',
      username: 'legacy_2',
      attributes: { email: 'a@x.org', email_verified: 'false' },
    });
    expect(releaseCall('legacy_2', 'preferred_username', { preferred_username: 'anna' })).toEqual({
      api: 'AdminDeleteUserAttributes',
      username: 'legacy_2',
      names: ['preferred_username'],
    });
  });
});

/** A pool of users by username, a legacy table by username, a clock. */
function world(o: { legacy?: boolean } = {}) {
  const users = new Map<string, Attributes>();
  const rows = new Map<string, Attributes | null>();
  const waitsOn = new Map<string, string>();
  const clock = { t: 0, now: () => clock.t };
  const lists: string[] = [];
  const executed: CognitoCall[] = [];
  const conflicts = new AliasConflicts({
    directory: {
      usersWith: async (attribute, value) => {
        lists.push(attribute);
        return [...users]
          .filter(([, a]) => a[attribute] === value)
          .map(([username, attributes]) => ({ username, attributes }));
      },
    },
    ...(o.legacy === false
      ? {}
      : { rows: { desiredAttributes: async (username: string) => rows.get(username) ?? null } }),
    waitMs: 60_000,
    clock,
    waitsOn: (username) => waitsOn.get(username),
    keyOf: (username) => (username.startsWith('legacy_') ? `id=${username.slice(7)}` : undefined),
  });
  const execute = async (call: CognitoCall): Promise<void> => {
    executed.push(call);
    if (call.api === 'AdminUpdateUserAttributes')
      users.set(call.username, { ...users.get(call.username), ...call.attributes });
    if (call.api === 'AdminDeleteUserAttributes') {
      const a = { ...users.get(call.username) };
      for (const n of call.names) delete a[n];
      users.set(call.username, a);
    }
  };
  return { users, rows, waitsOn, clock, lists, executed, conflicts, execute };
}

const update = (
  username: string,
  attributes: Attributes,
): Extract<CognitoCall, { api: 'AdminUpdateUserAttributes' }> => ({
  api: 'AdminUpdateUserAttributes',
  username,
  attributes,
});

const failure = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('AliasConflicts', () => {
  test("A takes B's old email while B's change is in flight: A waits (one ListUsers), then goes through once B moved", async () => {
    const w = world();
    w.users.set('legacy_1', { email: 'a@x.org', email_verified: 'true' });
    w.users.set('legacy_2', { email: 'b@x.org', email_verified: 'true' });
    w.rows.set('legacy_2', { email: 'new-b@x.org', email_verified: 'true' });
    const call = update('legacy_1', { email: 'b@x.org', email_verified: 'true' });

    const waiting = await failure(w.conflicts.resolve('legacy_1', call, w.users.get('legacy_1'), w.execute));
    expect(waiting).toBeInstanceOf(AliasWaitError);
    expect((waiting as AliasWaitError).holder).toBe('legacy_2');
    expect(waiting).toMatchObject({ retriable: true });
    expect(w.lists).toEqual(['email']);
    expect(w.executed).toEqual([]);

    // B's change applied: nobody holds it, write again.
    w.users.set('legacy_2', { email: 'new-b@x.org', email_verified: 'true' });
    w.clock.t = 5_000;
    await expect(w.conflicts.resolve('legacy_1', call, w.users.get('legacy_1'), w.execute)).resolves.toBeUndefined();
  });

  test('a swap: the holder waits for this user, so its claim is released and this user writes again', async () => {
    const w = world();
    w.users.set('legacy_1', { email: 'a@x.org', email_verified: 'true' });
    w.users.set('legacy_2', { email: 'b@x.org', email_verified: 'true' });
    w.rows.set('legacy_1', { email: 'b@x.org', email_verified: 'true' });
    w.rows.set('legacy_2', { email: 'a@x.org', email_verified: 'true' });
    w.waitsOn.set('legacy_1', 'legacy_2'); // A met the conflict first and waits for B

    await w.conflicts.resolve('legacy_2', update('legacy_2', { email: 'a@x.org' }), w.users.get('legacy_2'), w.execute);
    expect(w.executed).toEqual([
      {
        api: 'AdminUpdateUserAttributes',
        username: 'legacy_1',
        attributes: { email: 'a@x.org', email_verified: 'false' },
      },
    ]);
  });

  test('a real duplicate goes to the DLQ at once, naming both legacy keys and not the value', async () => {
    const w = world();
    w.users.set('legacy_2', { email: 'b@x.org', email_verified: 'true' });
    w.rows.set('legacy_2', { email: 'B@x.org', email_verified: 'true' });
    const call = {
      api: 'AdminCreateUser' as const,
      username: 'legacy_7',
      attributes: { email: 'b@x.org', email_verified: 'true' },
    };

    const error = await failure(w.conflicts.resolve('legacy_7', call, undefined, w.execute));
    expect(error).toBeInstanceOf(AliasConflictError);
    const message = (error as Error).message;
    expect(message).toMatch(/row id=7 .* and row id=2 /);
    expect(message).toMatch(/legacy database has the same email for both rows/);
    expect(message).not.toContain('b@x.org');
    expect(error).toMatchObject({ retriable: false, context: { legacyKeys: ['id=7', 'id=2'] } });
  });

  test('an unverified holder does not hold the alias; a holder whose row is gone is waited for', async () => {
    const w = world();
    w.users.set('legacy_2', { email: 'b@x.org', email_verified: 'false' });
    w.users.set('legacy_3', { preferred_username: 'bee' });
    const call = update('legacy_1', { email: 'b@x.org', email_verified: 'true', preferred_username: 'bee' });
    const error = await failure(w.conflicts.resolve('legacy_1', call, {}, w.execute));
    expect(error).toBeInstanceOf(AliasWaitError);
    expect((error as AliasWaitError).holder).toBe('legacy_3'); // its row is gone: its delete is in flight
    expect(w.lists).toEqual(['email', 'preferred_username']);
  });

  test('without a legacy database: wait, then the DLQ with both keys once aliasWaitMs has passed since the first conflict', async () => {
    const w = world({ legacy: false });
    w.users.set('legacy_2', { email: 'b@x.org', email_verified: 'true' });
    const call = update('legacy_1', { email: 'b@x.org', email_verified: 'true' });
    expect(await failure(w.conflicts.resolve('legacy_1', call, {}, w.execute))).toBeInstanceOf(AliasWaitError);
    w.clock.t = 59_999;
    expect(await failure(w.conflicts.resolve('legacy_1', call, {}, w.execute))).toBeInstanceOf(AliasWaitError);
    w.clock.t = 60_000;
    const error = await failure(w.conflicts.resolve('legacy_1', call, {}, w.execute));
    expect(error).toBeInstanceOf(AliasConflictError);
    expect((error as Error).message).toMatch(/row id=1 .* and row id=2 .*60000 ms \(processing\.aliasWaitMs\)/);
  });

  test('with a legacy database, a holder whose row moved on is released once the bound has passed', async () => {
    const w = world();
    w.users.set('legacy_2', { preferred_username: 'bee' });
    w.rows.set('legacy_2', { preferred_username: 'bea' });
    const call = update('legacy_1', { preferred_username: 'bee' });
    expect(await failure(w.conflicts.resolve('legacy_1', call, {}, w.execute))).toBeInstanceOf(AliasWaitError);
    w.clock.t = 60_000;
    await w.conflicts.resolve('legacy_1', call, {}, w.execute);
    expect(w.executed).toEqual([
      { api: 'AdminDeleteUserAttributes', username: 'legacy_2', names: ['preferred_username'] },
    ]);
  });

  test('an applied change ends the wait: the next conflict counts its bound afresh', async () => {
    const w = world({ legacy: false });
    w.users.set('legacy_2', { email: 'b@x.org', email_verified: 'true' });
    const call = update('legacy_1', { email: 'b@x.org', email_verified: 'true' });
    await failure(w.conflicts.resolve('legacy_1', call, {}, w.execute));
    w.clock.t = 50_000;
    w.conflicts.settled('legacy_1');
    w.clock.t = 100_000;
    expect(await failure(w.conflicts.resolve('legacy_1', call, {}, w.execute))).toBeInstanceOf(AliasWaitError);
  });

  test('a holder the mapping does not make goes to the DLQ at once', async () => {
    const w = world();
    w.users.set('admin-bob', { email: 'b@x.org', email_verified: 'true' });
    const error = await failure(
      w.conflicts.resolve('legacy_1', update('legacy_1', { email: 'b@x.org', email_verified: 'true' }), {}, w.execute),
    );
    expect(error).toBeInstanceOf(AliasConflictError);
    expect((error as Error).message).toMatch(/admin-bob is not a user this mapping manages/);
  });
});
