// Pools whose users sign in with their email as username: the sync addresses users by legacy
// key, Cognito by the UUID it gives each user. A fake pool with Cognito's rules for that shape
// (Username must be the email, unique; Admin APIs accept the sub or the email; ListUsers filters
// on standard attributes only) and a call log, so each test can count what a path costs.
import { describe, expect, test } from '@jest/globals';
import type { UserIntent } from '../../src/core/types.js';
import { CognitoApiError } from '../../src/errors.js';
import type { ListedUser } from '../../src/adapters/cognito/cognito-gateway.js';
import { PoolUsernames, byLegacyKey, keyedDirectory, ownUsers } from '../../src/adapters/cognito/pool-usernames.js';
import { EmailPool } from './support/email-pool.js';

const KEY = 'custom:legacy_id';

const SIGN_IN = { attribute: 'email' as const, keyAttribute: KEY };
/** A clock that only moves when a listing waits for its interval (recorded in `slept`). */
const fakeTime = () => {
  const t = { now: 0, slept: [] as number[] };
  return {
    t,
    now: () => t.now,
    sleep: async (ms: number) => {
      t.slept.push(ms);
      t.now += ms;
    },
  };
};

const usernamesFor = (
  pool: EmailPool,
  o: { shared?: boolean; capacity?: number; time?: ReturnType<typeof fakeTime> } = {},
) => {
  const time = o.time ?? fakeTime();
  return new PoolUsernames(pool, pool, {
    signIn: SIGN_IN,
    capacity: o.capacity ?? 1000,
    shared: o.shared === true,
    now: time.now,
    sleep: time.sleep,
  });
};

const upsert = (key: string, email: string): UserIntent => ({
  kind: 'upsert',
  user: { username: key, attributes: { email }, enabled: true },
  version: '01',
  origin: { topic: 't', partition: 0, offset: '0' },
  sourceTsMs: null,
});

const drain = async (listing: AsyncIterable<unknown>): Promise<void> => {
  for await (const _ of listing) {
    // pages learnt on the way
  }
};

describe('a pool whose users sign in with their email as username', () => {
  test('a creation names the user by its email and keeps the legacy key; later calls address the sub Cognito answered', async () => {
    const pool = new EmailPool();
    const usernames = usernamesFor(pool);
    await drain(usernames.listUsers()); // the prime of an empty pool
    await usernames.execute({
      api: 'AdminCreateUser',
      username: '42',
      attributes: { email: 'ada@example.com', given_name: 'Ada' },
    });
    const [sub, stored] = [...pool.users][0]!;
    expect(pool.log).toContain('AdminCreateUser ada@example.com');
    expect(stored.attributes[KEY]).toBe('42');

    // The email changes: the same Cognito user, found without any lookup.
    pool.log.length = 0;
    await usernames.execute({
      api: 'AdminUpdateUserAttributes',
      username: '42',
      attributes: { email: 'ada.new@example.com', email_verified: 'true' },
    });
    await usernames.execute({ api: 'AdminAddUserToGroup', username: '42', group: 'admin' });
    expect(pool.log).toEqual([`AdminUpdateUserAttributes ${sub}`, `AdminAddUserToGroup ${sub}`]);
    const read = await usernames.getUser('42', true);
    expect(read).toMatchObject({ username: '42', attributes: { email: 'ada.new@example.com' }, groups: ['admin'] });
    expect(pool.users.size).toBe(1);

    await usernames.execute({ api: 'AdminDeleteUser', username: '42' });
    expect(pool.users.size).toBe(0);
    pool.log.length = 0;
    // Gone, and the index knows the whole pool: absent without a call; a delete again succeeds.
    expect(await usernames.getUser('42', false)).toBeNull();
    await usernames.execute({ api: 'AdminDeleteUser', username: '42' });
    expect(pool.log).toEqual([]);
  });

  test('a gateway that does not answer the new username: the user is read once by its email', async () => {
    const pool = new EmailPool();
    pool.answersUsername = false;
    const usernames = usernamesFor(pool);
    await drain(usernames.listUsers());
    await usernames.execute({ api: 'AdminCreateUser', username: '7', attributes: { email: 'bo@example.com' } });
    expect(pool.calls('AdminGetUser bo@example.com')).toBe(1);
    pool.log.length = 0;
    expect((await usernames.getUser('7', false))?.username).toBe('7');
    expect(pool.calls('ListUsers')).toBe(0);
  });

  test('after a restart the prime re-keys the pool (and group members) by legacy key: an email change still finds its user', async () => {
    const pool = new EmailPool();
    const before = usernamesFor(pool);
    await drain(before.listUsers());
    for (const [key, email] of [
      ['1', 'a@example.com'],
      ['2', 'b@example.com'],
      ['3', 'c@example.com'],
    ] as const)
      await before.execute({ api: 'AdminCreateUser', username: key, attributes: { email } });
    await before.execute({ api: 'AdminAddUserToGroup', username: '2', group: 'support' });
    // A user someone else made, without the key attribute: foreign, never one of ours.
    pool.users.set('foreign-sub', { attributes: { email: 'x@example.com' }, enabled: true, groups: new Set() });

    const after = usernamesFor(pool);
    const listed: ListedUser[] = [];
    for await (const page of after.listUsers()) listed.push(...page);
    expect(listed.map((u) => [u.username, u.foreign === true]).sort()).toEqual([
      ['1', false],
      ['2', false],
      ['3', false],
      ['foreign-sub', true],
    ]);
    const members: string[] = [];
    for await (const page of after.listUsersInGroup('support')) members.push(...page);
    expect(members).toEqual(['2']);

    // The pool state primes from the sync's own users only.
    const primed: string[] = [];
    for await (const page of ownUsers(usernamesFor(pool)).listUsers()) primed.push(...page.map((u) => u.username));
    expect(primed.sort()).toEqual(['1', '2', '3']);

    pool.log.length = 0;
    // The change carries only the new email, which Cognito does not know yet.
    after.hint('3', [upsert('3', 'c.new@example.com')]);
    const user = await after.getUser('3', false);
    expect(user?.attributes.email).toBe('c@example.com');
    expect(pool.calls('ListUsers')).toBe(0);
    // reconcile reads the same re-keyed listing through keyedDirectory.
    const directory = keyedDirectory(after, pool);
    const keys: string[] = [];
    for await (const page of directory.listUsers()) keys.push(...page.map((u) => u.username));
    expect(keys.sort()).toEqual(['1', '2', '3', 'foreign-sub']);
  });

  test('a key the index does not hold is found by the email its change carries: one filtered ListUsers, confirmed by the key', async () => {
    const pool = new EmailPool();
    await usernamesFor(pool).execute({ api: 'AdminCreateUser', username: '5', attributes: { email: 'e@example.com' } });
    // Another legacy user's row names the same email in a stale hint: the key decides, not the email.
    const fresh = usernamesFor(pool); // never listed: the index is empty and not complete
    fresh.hint('5', [upsert('5', 'e@example.com')]);
    pool.log.length = 0;
    expect((await fresh.getUser('5', false))?.attributes[KEY]).toBe('5');
    expect(pool.log).toEqual(['ListUsers email=e@example.com', expect.stringMatching(/^AdminGetUser /)]);
    fresh.hint('6', [upsert('6', 'e@example.com')]);
    pool.log.length = 0;
    // '6' is not the holder: the pool is listed (once) to make sure, and '6' is absent.
    expect(await fresh.getUser('6', false)).toBeNull();
    expect(pool.calls('ListUsers email=')).toBe(1);
    expect(pool.calls('ListUsers page')).toBe(1);
  });

  test('lookups without an email wait for one shared listing; a listed pool answers absence without calls', async () => {
    const pool = new EmailPool();
    const seed = usernamesFor(pool);
    for (let i = 1; i <= 5; i++)
      await seed.execute({ api: 'AdminCreateUser', username: String(i), attributes: { email: `u${i}@example.com` } });
    const usernames = usernamesFor(pool);
    pool.log.length = 0;
    // A delete and two role rows for users the index does not know yet: one listing serves all.
    const [a, b, c] = await Promise.all([
      usernames.getUser('1', false),
      usernames.getUser('4', false),
      usernames.getUser('99', false),
    ]);
    expect([a?.username, b?.username, c]).toEqual(['1', '4', null]);
    expect(pool.calls('ListUsers page')).toBe(3); // 5 users, 2 a page: one listing
    pool.log.length = 0;
    expect(await usernames.getUser('98', false)).toBeNull();
    await expect(
      usernames.execute({ api: 'AdminAddUserToGroup', username: '98', group: 'admin' }),
    ).rejects.toMatchObject({ code: 'UserNotFoundException', action: 'replan' });
    expect(pool.log).toEqual([]);
  });

  test('with other instances writing the pool, a miss lists the pool again; listings are spaced by the interval', async () => {
    const pool = new EmailPool();
    const time = fakeTime();
    const usernames = usernamesFor(pool, { shared: true, time });
    await drain(usernames.listUsers());
    // Another instance creates a user: this one learns it by listing again.
    await usernamesFor(pool).execute({ api: 'AdminCreateUser', username: '8', attributes: { email: 'h@example.com' } });
    time.t.now += 60_000;
    pool.log.length = 0;
    expect((await usernames.getUser('8', false))?.username).toBe('8');
    expect(pool.calls('ListUsers page')).toBe(1);
    expect(time.t.slept).toEqual([]);
    pool.log.length = 0;
    time.t.now += 1000;
    // Within the interval: the lookup waits for the next listing (never "absent" on old knowledge).
    const [nine, ten] = await Promise.all([usernames.getUser('9', false), usernames.getUser('10', false)]);
    expect([nine, ten]).toEqual([null, null]);
    expect(time.t.slept).toEqual([4000]);
    expect(pool.calls('ListUsers page')).toBe(1); // one listing for both
  });

  test('the index is bounded: beyond its capacity the oldest keys are dropped, and absence is no longer trusted', async () => {
    const pool = new EmailPool();
    const seed = usernamesFor(pool);
    for (let i = 1; i <= 4; i++)
      await seed.execute({ api: 'AdminCreateUser', username: String(i), attributes: { email: `c${i}@example.com` } });
    const usernames = usernamesFor(pool, { capacity: 2 });
    await drain(usernames.listUsers());
    expect(usernames.index.size).toBe(2);
    expect(usernames.index.complete).toBe(false);
    pool.log.length = 0;
    // Dropped: found by listing again (kept aside for the lookup, though the index drops it again).
    expect((await usernames.getUser('1', false))?.username).toBe('1');
    expect(pool.calls('ListUsers page')).toBe(2);
  });

  test('no email, no user: a creation without the sign-in attribute is refused with the reason', async () => {
    const pool = new EmailPool();
    const usernames = usernamesFor(pool);
    await expect(
      usernames.execute({ api: 'AdminCreateUser', username: '3', attributes: { given_name: 'No' } }),
    ).rejects.toThrow(/sign in with email as username, and this user has none/);
    expect(pool.log).toEqual([]);
  });

  test('alias holders, as the alias-conflict resolver reads them, are named by legacy key (foreign ones keep the UUID)', () => {
    expect(
      byLegacyKey(KEY, [
        { username: 'uuid-1', attributes: { [KEY]: '12', email: 'a@example.com' } },
        { username: 'uuid-2', attributes: { email: 'a@example.com' } },
      ]).map((u) => u.username),
    ).toEqual(['12', 'uuid-2']);
  });

  test("an email that is another legacy user's username: dead-lettered naming both keys", async () => {
    const pool = new EmailPool();
    const usernames = usernamesFor(pool);
    await usernames.execute({ api: 'AdminCreateUser', username: '10', attributes: { email: 'same@example.com' } });
    const error = await usernames
      .execute({ api: 'AdminCreateUser', username: '11', attributes: { email: 'same@example.com' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CognitoApiError);
    expect(error).toMatchObject({ action: 'dead-letter', retriable: false });
    expect((error as Error).message).toMatch(/legacy key 10.*legacy key 11/);
    // Our own user, created meanwhile elsewhere: the race answer is kept, so the applier re-reads.
    const again = await usernames
      .execute({ api: 'AdminCreateUser', username: '10', attributes: { email: 'same@example.com' } })
      .catch((e: unknown) => e);
    expect(again).toMatchObject({ code: 'UsernameExistsException' });
  });
});
