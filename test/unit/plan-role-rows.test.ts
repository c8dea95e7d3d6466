// Issue #19: group membership follows the set of role rows that grant it (group-versions.ts).
import { describe, expect, test } from '@jest/globals';
import type { CognitoCall, CurrentUser, UserIntent } from '../../src/core/types.js';
import { DeletedUsersLoader, MemoryDeletedUsers } from '../../src/adapters/kafka/deleted-users-log.js';
import { MissingUserError } from '../../src/errors.js';
import { UserApplier } from '../../src/pipeline/apply/user-applier.js';
import { PoolState } from '../../src/pipeline/apply/pool-state.js';
import { coalesce } from '../../src/pipeline/plan/coalesce.js';
import { encodeGroupStates, grantedByRows, parseGroupStates } from '../../src/pipeline/plan/group-versions.js';
import { planUser } from '../../src/pipeline/plan/plan-user.js';
import { planOptions } from './support/plan-options.js';
import { InMemoryCognito } from '../../bench/support/in-memory-cognito.js';

const ATTRIBUTE = 'custom:cdc_groups';
const v = (n: number): string => n.toString(16).padStart(32, '0');
const options = planOptions({ groupsVersionAttribute: ATTRIBUTE });

let offset = 0;
const row = (role: string, member: boolean, version: number, group = role.trim()): UserIntent => ({
  kind: 'group',
  username: 'legacy_1',
  group,
  member,
  role,
  version: v(version),
  origin: { topic: 'user_roles', partition: version % 3, offset: String(offset++) },
  sourceTsMs: null,
});
const user = (groups: string[], versions?: string): CurrentUser => ({
  username: 'legacy_1',
  attributes: { 'custom:cdc_version': v(1), ...(versions === undefined ? {} : { [ATTRIBUTE]: versions }) },
  enabled: true,
  groups,
});

/** Plans each intent against the state the previous calls leave (a minimal Cognito). */
const run = (
  start: CurrentUser,
  intents: UserIntent[],
  deletedVersion?: string,
): { user: CurrentUser; calls: CognitoCall[] } => {
  let current = start;
  const calls: CognitoCall[] = [];
  for (const intent of intents) {
    const plan = planUser(current, intent, options, deletedVersion);
    for (const call of plan.calls) {
      calls.push(call);
      const groups = current.groups ?? [];
      if (call.api === 'AdminAddUserToGroup') current = { ...current, groups: [...groups, call.group] };
      if (call.api === 'AdminRemoveUserFromGroup')
        current = { ...current, groups: groups.filter((g) => g !== call.group) };
      if (call.api === 'AdminUpdateUserAttributes')
        current = { ...current, attributes: { ...current.attributes, ...call.attributes } };
    }
  }
  return { user: current, calls };
};

describe('encoding of granting rows', () => {
  test('round trip; role text with spaces and separators survives', () => {
    const states = new Map([
      [
        'support',
        {
          version: v(9),
          rows: new Map([
            ['support', { version: v(4), granted: false }],
            [' support ', { version: v(9), granted: true }],
            ['a=b;c@d e', { version: v(2), granted: true }],
          ]),
        },
      ],
      ['admin', { version: v(3) }],
    ]);
    const { value } = encodeGroupStates(states);
    expect(value).not.toMatch(/ {2}/);
    expect(value.split(' ')).toHaveLength(2);
    expect(parseGroupStates(value)).toEqual(states);
    expect(grantedByRows(parseGroupStates(value).get('support'))).toBe(true);
    expect(grantedByRows(parseGroupStates(value).get('admin'))).toBeUndefined();
  });

  test('overflow drops deleted rows before whole groups', () => {
    const rows = new Map<string, { version: string; granted: boolean }>();
    for (let i = 0; i < 60; i++) rows.set(`role-${i}`, { version: v(100 + i), granted: i === 59 });
    const { value, dropped } = encodeGroupStates(new Map([['support', { version: v(159), rows }]]));
    expect([...value].length).toBeLessThanOrEqual(2048);
    expect(dropped).toEqual(['support']);
    const kept = parseGroupStates(value).get('support');
    expect(kept?.rows?.get('role-59')).toEqual({ version: v(159), granted: true });
    expect(grantedByRows(kept)).toBe(true);
  });
});

describe('a group stays while any role row grants it', () => {
  test("'support' and ' support ' grant support; revoking one keeps the membership, revoking both removes it", () => {
    const both = run(user([]), [row('support', true, 2), row(' support ', true, 3)]);
    expect(both.user.groups).toEqual(['support']);
    const one = run(both.user, [row('support', false, 4)]);
    expect(one.user.groups).toEqual(['support']);
    expect(one.calls.map((c) => c.api)).toEqual(['AdminUpdateUserAttributes']);
    const none = run(one.user, [row(' support ', false, 5)]);
    expect(none.user.groups).toEqual([]);
    expect(none.calls.map((c) => c.api)).toEqual(['AdminRemoveUserFromGroup', 'AdminUpdateUserAttributes']);
  });

  test('rows of different partitions in any order end the same (each row guarded by its own version)', () => {
    const changes = [row('support', true, 2), row(' support ', true, 3), row('support', false, 4)];
    const orders = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];
    for (const order of orders) {
      const end = run(
        user([]),
        order.map((i) => changes[i] as UserIntent),
      );
      expect(end.user.groups).toEqual(['support']);
    }
  });

  test('a replay of the rows changes nothing and calls nothing', () => {
    const changes = [row('support', true, 2), row(' support ', true, 3), row(' support ', false, 4)];
    const end = run(user([]), changes);
    expect(end.user.groups).toEqual(['support']);
    expect(run(end.user, changes).calls).toEqual([]);
  });

  test('a row older than a remembered delete of the user belongs to the earlier incarnation: stale', () => {
    const plan = planUser(user([]), row('admin', true, 4), options, v(5));
    expect(plan.calls).toEqual([]);
    expect(plan.skip).toBe('stale-version');
    expect(planUser(user([]), row('admin', true, 6), options, v(5)).calls[0]).toEqual({
      api: 'AdminAddUserToGroup',
      username: 'legacy_1',
      group: 'admin',
    });
  });

  test('an entry written without rows still guards its group as a whole', () => {
    expect(planUser(user(['support'], `support=${v(5)}`), row('support', false, 4), options).skip).toBe(
      'stale-version',
    );
    const newer = run(user(['support'], `support=${v(5)}`), [row(' support ', true, 6), row('support', false, 7)]);
    expect(newer.user.groups).toEqual(['support']);
  });

  test('coalesce keeps the last change of each row, not of each group', () => {
    const out = coalesce([row('support', true, 2), row(' support ', true, 3), row('support', false, 4)]);
    expect(out.map((i) => (i.kind === 'group' ? [i.role, i.member] : []))).toEqual([
      [' support ', true],
      ['support', false],
    ]);
  });

  test('through the applier: one batch with both rows and a revoke leaves the user in support', async () => {
    const cognito = new InMemoryCognito({ groups: ['admin', 'support', 'customer'] });
    cognito.users.set('legacy_1', { attributes: { 'custom:cdc_version': v(1) }, enabled: true, groups: new Set() });
    const applier = new UserApplier({
      gateway: cognito,
      plan: (current, intent, deleted) => planUser(current, intent, options, deleted),
      coalesce,
      state: new PoolState({
        capacity: 100,
        comparedAttributes: [],
        versionAttribute: 'custom:cdc_version',
        groupsVersionAttribute: ATTRIBUTE,
      }),
      manageGroups: true,
      comparedAttributes: [],
      groupsVersionAttribute: ATTRIBUTE,
    });
    await applier.apply('legacy_1', [row('support', true, 2), row(' support ', true, 3)]);
    await applier.apply('legacy_1', [row('support', false, 4)]);
    expect(cognito.peek('legacy_1')?.groups).toEqual(['support']);
    await applier.apply('legacy_1', [row(' support ', false, 5)]);
    expect(cognito.peek('legacy_1')?.groups).toEqual([]);
  });
});

describe('role rows around a delete and re-insert of the user (issue #16.3)', () => {
  const upsert = (version: number): UserIntent => ({
    kind: 'upsert',
    user: { username: 'legacy_1', attributes: { email: 'new@example.com' }, enabled: true },
    version: v(version),
    origin: { topic: 'users', partition: 0, offset: String(offset++) },
    sourceTsMs: null,
  });
  const del = (version: number): UserIntent => ({
    kind: 'delete',
    username: 'legacy_1',
    version: v(version),
    origin: { topic: 'users', partition: 0, offset: String(offset++) },
    sourceTsMs: null,
  });
  const setup = () => {
    const cognito = new InMemoryCognito({ groups: ['admin', 'support', 'customer'] });
    const deletedUsers = new MemoryDeletedUsers();
    const applier = new UserApplier({
      gateway: cognito,
      plan: (current, intent, deleted) => planUser(current, intent, options, deleted),
      coalesce,
      state: new PoolState({
        capacity: 100,
        comparedAttributes: [],
        versionAttribute: 'custom:cdc_version',
        groupsVersionAttribute: ATTRIBUTE,
      }),
      manageGroups: true,
      comparedAttributes: [],
      groupsVersionAttribute: ATTRIBUTE,
      waitForMissingUsers: true,
      deletedUsers,
    });
    return { cognito, applier, deletedUsers };
  };

  test('a row of the new incarnation applied to the old user before the users topic re-creates it is kept', async () => {
    const { cognito, applier } = setup();
    // one transaction: DELETE user (v10), cascade DELETE role admin (v11), INSERT user (v12), INSERT role support (v13)
    await applier.apply('legacy_1', [upsert(1), row('admin', true, 2)]);
    // the roles partition runs ahead of the users partition
    await applier.apply('legacy_1', [row('admin', false, 11), row('support', true, 13)]);
    expect(cognito.peek('legacy_1')?.groups).toEqual(['support']);
    await applier.apply('legacy_1', [del(10), upsert(12)]);
    expect(cognito.peek('legacy_1')?.attributes.email).toBe('new@example.com');
    expect(cognito.peek('legacy_1')?.groups).toEqual(['support']);
    // a replay of the old incarnation's rows changes nothing
    await applier.apply('legacy_1', [row('admin', true, 2), row('admin', false, 11), row('support', true, 13)]);
    expect(cognito.peek('legacy_1')?.groups).toEqual(['support']);
  });

  test('the same, with the delete and the re-create in separate batches (the carried rows are durable in the log)', async () => {
    const { cognito, applier, deletedUsers } = setup();
    await applier.apply('legacy_1', [upsert(1), row('support', true, 13)]);
    await applier.apply('legacy_1', [del(10)]);
    expect(deletedUsers.carried('legacy_1')).toBe(`support=${v(13)};support@${v(13)}`);
    await applier.apply('legacy_1', [upsert(12)]);
    expect(cognito.peek('legacy_1')?.groups).toEqual(['support']);
  });

  test('a row newer than the delete, arriving before the re-insert, waits for the user; an older one is stale', async () => {
    const { applier, cognito } = setup();
    await applier.apply('legacy_1', [upsert(1)]);
    await applier.apply('legacy_1', [del(10)]);
    await expect(applier.apply('legacy_1', [row('support', true, 13)])).rejects.toBeInstanceOf(MissingUserError);
    const old = await applier.apply('legacy_1', [row('admin', true, 2)]);
    expect(old.skips).toEqual(['stale-version']);
    await applier.apply('legacy_1', [upsert(12), row('support', true, 13)]);
    expect(cognito.peek('legacy_1')?.groups).toEqual(['support']);
  });
});

describe('the deleted-users log keeps the carried rows with their entry', () => {
  test('the loader keeps the newest entry and its carried rows; a newer entry without rows clears them', () => {
    const loader = new DeletedUsersLoader({ earliest: new Map() });
    loader.add('legacy_1', v(10), undefined, 0, `support=${v(13)};support@${v(13)}`);
    loader.add('legacy_1', v(9), undefined, 0, 'older=1');
    expect(loader.live.get('legacy_1')).toBe(v(10));
    expect(loader.carried.get('legacy_1')).toBe(`support=${v(13)};support@${v(13)}`);
    loader.add('legacy_1', v(20), undefined, 0);
    expect(loader.carried.has('legacy_1')).toBe(false);
    loader.add('legacy_2', v(5), undefined, 0, 'x');
    loader.add('legacy_2', null, undefined, 0);
    expect(loader.carried.has('legacy_2')).toBe(false);
  });
});
