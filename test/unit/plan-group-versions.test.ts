// groups.versionAttribute: per-group versions for role rows (src/pipeline/plan/group-versions.ts).
import { describe, expect, test } from '@jest/globals';
import type { CurrentUser, UserIntent } from '../../src/core/types.js';
import type { ConfigError } from '../../src/errors.js';
import { parseMapping } from '../../src/pipeline/map/load-mapping.js';
import { UserApplier } from '../../src/pipeline/apply/user-applier.js';
import { PoolState } from '../../src/pipeline/apply/pool-state.js';
import { coalesce } from '../../src/pipeline/plan/coalesce.js';
import { encodeGroupVersions, parseGroupVersions } from '../../src/pipeline/plan/group-versions.js';
import { planUser } from '../../src/pipeline/plan/plan-user.js';
import { planOptions } from './support/plan-options.js';
import { InMemoryCognito } from '../../bench/support/in-memory-cognito.js';

const ATTRIBUTE = 'custom:cdc_groups';
const origin = { topic: 'user_roles', partition: 0, offset: '1' };
const v = (n: number): string => n.toString(16).padStart(32, '0');

const options = planOptions({ groupsVersionAttribute: ATTRIBUTE });
const { groupsVersionAttribute: _unused, ...unguarded } = options;

const group = (name: string, member: boolean, version: number): UserIntent => ({
  kind: 'group',
  username: 'legacy_1',
  group: name,
  member,
  version: v(version),
  origin,
  sourceTsMs: null,
});
const user = (groups: string[], versions?: string): CurrentUser => ({
  username: 'legacy_1',
  attributes: {
    email: 'a@example.com',
    'custom:cdc_version': v(1),
    ...(versions === undefined ? {} : { [ATTRIBUTE]: versions }),
  },
  enabled: true,
  groups,
});

describe('encoding', () => {
  test('round trip, sorted by group, whatever the group name holds', () => {
    const versions = new Map([
      ['support', v(7)],
      ['a=b;c', v(3)],
      ['admin', v(9)],
    ]);
    const { value, dropped } = encodeGroupVersions(versions);
    expect(value).toBe(`a=b;c=${v(3)} admin=${v(9)} support=${v(7)}`);
    expect(dropped).toEqual([]);
    expect(parseGroupVersions(value)).toEqual(versions);
  });

  test('a hand-edited or foreign value never fails: bad entries are ignored (their groups unguarded)', () => {
    expect(parseGroupVersions(`garbage admin=${v(2)} =${v(1)} support=xyz  customer=${v(4)}`)).toEqual(
      new Map([
        ['admin', v(2)],
        ['customer', v(4)],
      ]),
    );
    expect(parseGroupVersions(undefined).size).toBe(0);
    expect(parseGroupVersions('').size).toBe(0);
  });

  test('overflow: the oldest entries are dropped until the value fits, and named', () => {
    const versions = new Map<string, string>();
    for (let i = 0; i < 60; i++) versions.set(`group-${String(i).padStart(2, '0')}`, v(1000 - i)); // group-59 is the oldest
    const { value, dropped } = encodeGroupVersions(versions);
    expect([...value].length).toBeLessThanOrEqual(2048);
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped[0]).toBe('group-59');
    const kept = parseGroupVersions(value);
    expect(kept.size + dropped.length).toBe(60);
    // every kept entry is newer than every dropped one
    const oldestKept = [...kept.values()].sort()[0] as string;
    for (const g of dropped) expect(versions.get(g)! < oldestKept).toBe(true);
    expect(encodeGroupVersions(versions, 100).value.length).toBeLessThanOrEqual(100);
  });
});

describe('planning a role row', () => {
  test('not newer than its group version: skipped with no call', () => {
    const current = user(['admin'], `admin=${v(5)}`);
    expect(planUser(current, group('admin', false, 4), options)).toEqual({
      calls: [],
      skip: 'stale-version',
      appliedVersion: v(1),
    });
    expect(planUser(current, group('admin', false, 5), options).calls).toEqual([]);
  });

  test('newer: the membership call, then the versions attribute (other groups kept)', () => {
    const current = user(['admin'], `admin=${v(5)} support=${v(3)}`);
    expect(planUser(current, group('admin', false, 6), options).calls).toEqual([
      { api: 'AdminRemoveUserFromGroup', username: 'legacy_1', group: 'admin' },
      {
        api: 'AdminUpdateUserAttributes',
        username: 'legacy_1',
        attributes: { [ATTRIBUTE]: `admin=${v(6)};admin@-${v(6)} support=${v(3)}` },
      },
    ]);
  });

  test('newer but already in Cognito: only the version is recorded, so older rows stay out', () => {
    expect(planUser(user(['admin']), group('admin', true, 6), options).calls).toEqual([
      {
        api: 'AdminUpdateUserAttributes',
        username: 'legacy_1',
        attributes: { [ATTRIBUTE]: `admin=${v(6)};admin@${v(6)}` },
      },
    ]);
  });

  test('an unconfigured mapping plans as before: membership calls only, never version-guarded', () => {
    const current = user(['admin'], `admin=${v(5)}`);
    expect(planUser(current, group('admin', false, 4), unguarded).calls).toEqual([
      { api: 'AdminRemoveUserFromGroup', username: 'legacy_1', group: 'admin' },
    ]);
    expect(planUser(current, group('admin', true, 6), unguarded)).toEqual({
      calls: [],
      skip: 'no-change',
      appliedVersion: v(1),
    });
  });

  test('a full attribute drops the oldest guards, reports them, and still applies the change', () => {
    const entries = Array.from({ length: 60 }, (_, i) => `group-${String(i).padStart(2, '0')}=${v(100 + i)}`).join(' ');
    const plan = planUser(user([], entries), group('newest', true, 900), options);
    expect(plan.calls[0]).toEqual({ api: 'AdminAddUserToGroup', username: 'legacy_1', group: 'newest' });
    const written = (plan.calls[1] as { attributes: Record<string, string> }).attributes[ATTRIBUTE] as string;
    expect(written.length).toBeLessThanOrEqual(2048);
    expect(parseGroupVersions(written).get('newest')).toBe(v(900));
    expect(plan.droppedGroupGuards?.[0]).toBe('group-00');
  });
});

describe('applying a batch of role rows', () => {
  test('several groups of one user share one attribute write, after all membership calls', async () => {
    const cognito = new InMemoryCognito({ groups: ['admin', 'support', 'customer'] });
    cognito.users.set('legacy_1', {
      attributes: { 'custom:cdc_version': v(1), [ATTRIBUTE]: `customer=${v(2)}` },
      enabled: true,
      groups: new Set(['customer']),
    });
    const calls: string[] = [];
    const gateway = {
      getUser: (username: string, withGroups: boolean) => cognito.getUser(username, withGroups),
      execute: (call: Parameters<InMemoryCognito['execute']>[0]) => (calls.push(call.api), cognito.execute(call)),
    };
    const state = new PoolState({
      capacity: 10,
      comparedAttributes: [],
      versionAttribute: options.versionAttribute,
      groupsVersionAttribute: ATTRIBUTE,
    });
    const plan = (
      current: Parameters<typeof planUser>[0],
      intent: Parameters<typeof planUser>[1],
      deleted: string | undefined,
    ) => planUser(current, intent, options, deleted);
    const applier = new UserApplier({
      gateway,
      plan,
      coalesce,
      state,
      manageGroups: true,
      comparedAttributes: [],
      groupsVersionAttribute: ATTRIBUTE,
    });
    const intents = [
      group('admin', true, 5),
      group('support', true, 6),
      group('customer', false, 7),
      group('customer', true, 2),
    ];
    const report = await applier.apply('legacy_1', intents);
    expect(calls).toEqual([
      'AdminAddUserToGroup',
      'AdminAddUserToGroup',
      'AdminRemoveUserFromGroup',
      'AdminUpdateUserAttributes',
    ]);
    expect(report.reads).toBe(1);
    expect(cognito.peek('legacy_1')?.groups).toEqual(['admin', 'support']);
    expect(cognito.peek('legacy_1')?.attributes[ATTRIBUTE]).toBe(
      `admin=${v(5)};admin@${v(5)} customer=${v(7)};customer@-${v(7)} support=${v(6)};support@${v(6)}`,
    );
    // the same rows again: nothing to write
    calls.length = 0;
    await applier.apply('legacy_1', intents);
    expect(calls).toEqual([]);
  });
});

describe('mapping', () => {
  const base = {
    username: { template: 'legacy_{id}' },
    attributes: { email: 'email' },
    rolesTable: {},
  };
  const issues = (groups: Record<string, unknown>, extra: Record<string, unknown> = {}): string[] => {
    try {
      parseMapping({ ...base, ...extra, groups });
      return [];
    } catch (error) {
      return (error as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
    }
  };
  test('groups.versionAttribute is read, and checked', () => {
    expect(parseMapping({ ...base, groups: { versionAttribute: ATTRIBUTE } }).groups?.versionAttribute).toBe(ATTRIBUTE);
    expect(parseMapping({ ...base }).groups?.versionAttribute).toBeUndefined();
    expect(issues({ versionAttribute: 'cdc_groups' })).toEqual([
      expect.stringMatching(/^groups\.versionAttribute: .*must be a custom attribute/),
    ]);
    expect(issues({ versionAttribute: 'custom:cdc_version' })).toEqual([
      expect.stringMatching(/^groups\.versionAttribute: is the versionAttribute too/),
    ]);
    expect(issues({ versionAttribute: ATTRIBUTE }, { attributes: { email: 'email', [ATTRIBUTE]: 'x' } })).toEqual([
      expect.stringMatching(/^groups\.versionAttribute: is mapped/),
    ]);
    expect(issues({ versionAttribute: 'custom:this_name_is_far_too_long' })).toEqual([
      expect.stringMatching(/longer than 20/),
    ]);
    const { rolesTable: _r, ...noRoles } = base;
    try {
      parseMapping({ ...noRoles, groups: { column: 'roles', versionAttribute: ATTRIBUTE } });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect((error as ConfigError).issues).toContainEqual({
        path: 'groups.versionAttribute',
        message: expect.stringMatching(/needs rolesTable/),
      });
    }
  });
});
