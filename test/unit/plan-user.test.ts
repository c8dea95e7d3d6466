import type { CurrentUser, DesiredUser, UserIntent } from '../../src/core/types.js';
import { withEpoch } from '../../src/pipeline/decode/version.js';
import { planUser } from '../../src/pipeline/plan/plan-user.js';
import { planOptions } from './support/plan-options.js';

const origin = { topic: 't', partition: 0, offset: '1' };
const v = (n: number): string => n.toString(16).padStart(32, '0');

const options = planOptions({
  ownsGroup: (g) => g !== 'beta-testers',
  createOnlyAttributes: new Set(['custom:legacy_id']),
});

const desired = (over: Partial<DesiredUser> = {}): DesiredUser => ({
  username: 'legacy_1',
  attributes: {
    email: 'a@example.com',
    email_verified: 'true',
    given_name: 'Ana',
    family_name: '',
    'custom:legacy_id': '1',
  },
  enabled: true,
  ...over,
});

const upsert = (version: number, user: DesiredUser = desired(), supersededVersion?: number): UserIntent => ({
  kind: 'upsert',
  user,
  version: v(version),
  origin,
  sourceTsMs: null,
  ...(supersededVersion === undefined ? {} : { supersededVersion: v(supersededVersion) }),
});
const del = (version: number, supersededVersion?: number): UserIntent => ({
  kind: 'delete',
  username: 'legacy_1',
  version: v(version),
  origin,
  sourceTsMs: null,
  ...(supersededVersion === undefined ? {} : { supersededVersion: v(supersededVersion) }),
});
const group = (name: string, member: boolean, version = 9): UserIntent => ({
  kind: 'group',
  username: 'legacy_1',
  group: name,
  member,
  version: v(version),
  origin,
  sourceTsMs: null,
});

/** Cognito holding exactly what `desired()` wants, at version 5. */
const synced = (over: Partial<CurrentUser> = {}): CurrentUser => ({
  username: 'legacy_1',
  attributes: {
    email: 'a@example.com',
    email_verified: 'true',
    given_name: 'Ana',
    'custom:legacy_id': '1',
    'custom:cdc_version': v(5),
  },
  enabled: true,
  groups: [],
  version: v(5),
  ...over,
});

describe('create', () => {
  test('one AdminCreateUser with every non-empty attribute and the version', () => {
    expect(planUser(null, upsert(6), options)).toEqual({
      calls: [
        {
          api: 'AdminCreateUser',
          username: 'legacy_1',
          attributes: {
            email: 'a@example.com',
            email_verified: 'true',
            given_name: 'Ana',
            'custom:legacy_id': '1',
            'custom:cdc_version': v(6),
          },
        },
      ],
      appliedVersion: v(6),
    });
  });
  test('a disabled user with groups: create, then disable, then groups', () => {
    const plan = planUser(null, upsert(6, desired({ enabled: false, groups: ['admin', 'customer'] })), options);
    expect(plan.calls.map((c) => c.api)).toEqual([
      'AdminCreateUser',
      'AdminDisableUser',
      'AdminAddUserToGroup',
      'AdminAddUserToGroup',
    ]);
  });
  test('existing-only leaves creation to the User Migration trigger', () => {
    expect(planUser(null, upsert(6), { ...options, createPolicy: 'existing-only' })).toEqual({
      calls: [],
      skip: 'not-existing',
      appliedVersion: undefined,
    });
  });
  test('a remembered delete keeps an older create from resurrecting the user', () => {
    expect(planUser(null, upsert(6), options, v(7))).toEqual({
      calls: [],
      skip: 'stale-version',
      appliedVersion: v(7),
    });
    // at the delete's own position it is the create half of a key change: it wins (key-change.ts)
    expect(planUser(null, upsert(7), options, v(7)).calls[0]?.api).toBe('AdminCreateUser');
    expect(planUser(null, upsert(8), options, v(7)).calls[0]?.api).toBe('AdminCreateUser');
  });
});

describe('update', () => {
  test('a replay of the synced state makes no call', () => {
    expect(planUser(synced(), upsert(6), options)).toEqual({ calls: [], skip: 'no-change', appliedVersion: v(6) });
  });
  test('stale and equal versions are skipped', () => {
    expect(planUser(synced(), upsert(4, desired({ attributes: { given_name: 'Old' } })), options)).toEqual({
      calls: [],
      skip: 'stale-version',
      appliedVersion: v(5),
    });
    expect(planUser(synced(), upsert(5, desired({ attributes: { given_name: 'Other' } })), options)).toEqual({
      calls: [],
      skip: 'stale-version',
      appliedVersion: v(5),
    });
  });
  test('only changed attributes, plus the version, in one call', () => {
    const plan = planUser(
      synced(),
      upsert(6, desired({ attributes: { ...desired().attributes, given_name: 'Anna' } })),
      options,
    );
    expect(plan.calls).toEqual([
      {
        api: 'AdminUpdateUserAttributes',
        username: 'legacy_1',
        attributes: { given_name: 'Anna', 'custom:cdc_version': v(6) },
      },
    ]);
    expect(plan.skip).toBeUndefined();
  });
  test('emptied attributes are deleted, and the version still moves on', () => {
    const plan = planUser(
      synced(),
      upsert(6, desired({ attributes: { ...desired().attributes, given_name: '' } })),
      options,
    );
    expect(plan.calls).toEqual([
      { api: 'AdminDeleteUserAttributes', username: 'legacy_1', names: ['given_name'] },
      { api: 'AdminUpdateUserAttributes', username: 'legacy_1', attributes: { 'custom:cdc_version': v(6) } },
    ]);
  });
  test('an attribute Cognito lacks and the source empties is no change', () => {
    expect(planUser(synced(), upsert(6), options).calls).toEqual([]); // family_name '' vs absent
  });
  test('a changed email always carries email_verified, even when unchanged', () => {
    const plan = planUser(
      synced(),
      upsert(6, desired({ attributes: { ...desired().attributes, email: 'b@example.com' } })),
      options,
    );
    expect(plan.calls).toEqual([
      {
        api: 'AdminUpdateUserAttributes',
        username: 'legacy_1',
        attributes: { email: 'b@example.com', email_verified: 'true', 'custom:cdc_version': v(6) },
      },
    ]);
  });
  test('a changed phone carries phone_number_verified when the mapping has it', () => {
    const user = desired({ attributes: { phone_number: '+4915123456789', phone_number_verified: 'false' } });
    const current = synced({ attributes: { phone_number: '+4915100000000', phone_number_verified: 'false' } });
    expect(planUser(current, upsert(6, user), options).calls[0]).toMatchObject({
      attributes: { phone_number: '+4915123456789', phone_number_verified: 'false' },
    });
  });
  test('unknown (TOASTed) attributes are neither written nor removed', () => {
    const user = desired({ attributes: { email: 'a@example.com', email_verified: 'true' }, unknown: ['given_name'] });
    expect(planUser(synced(), upsert(6, user), options).skip).toBe('no-change');
  });
  test('createOnly attributes are never updated', () => {
    const user = desired({ attributes: { ...desired().attributes, 'custom:legacy_id': '999' } });
    expect(planUser(synced(), upsert(6, user), options).skip).toBe('no-change');
  });
  test('enable/disable only on change', () => {
    expect(planUser(synced(), upsert(6, desired({ enabled: false })), options).calls).toEqual([
      { api: 'AdminDisableUser', username: 'legacy_1' },
      { api: 'AdminUpdateUserAttributes', username: 'legacy_1', attributes: { 'custom:cdc_version': v(6) } },
    ]);
    expect(planUser(synced({ enabled: false }), upsert(6), options).calls[0]).toEqual({
      api: 'AdminEnableUser',
      username: 'legacy_1',
    });
  });
  test('groups: only the differences, never groups the mapping does not own', () => {
    const current = synced({ groups: ['admin', 'beta-testers', 'support'] });
    const plan = planUser(current, upsert(6, desired({ groups: ['admin', 'customer'] })), options);
    expect(plan.calls).toEqual([
      { api: 'AdminRemoveUserFromGroup', username: 'legacy_1', group: 'support' },
      { api: 'AdminAddUserToGroup', username: 'legacy_1', group: 'customer' },
      { api: 'AdminUpdateUserAttributes', username: 'legacy_1', attributes: { 'custom:cdc_version': v(6) } },
    ]);
  });
  test('groups: add-only mappings never remove; unknown current groups are only added to', () => {
    const current = synced({ groups: ['admin', 'support'] });
    expect(planUser(current, upsert(6, desired({ groups: ['admin'] })), { ...options, removeGroups: false }).skip).toBe(
      'no-change',
    );
    const unknownGroups = synced({ groups: undefined });
    expect(planUser(unknownGroups, upsert(6, desired({ groups: ['admin'] })), options).calls.map((c) => c.api)).toEqual(
      ['AdminAddUserToGroup', 'AdminUpdateUserAttributes'],
    );
  });
  test('a user without a version attribute (created by the migration trigger) is updated', () => {
    const plan = planUser(synced({ version: undefined, attributes: { email: 'a@example.com' } }), upsert(1), options);
    expect(plan.calls).toEqual([
      {
        api: 'AdminUpdateUserAttributes',
        username: 'legacy_1',
        attributes: { email_verified: 'true', given_name: 'Ana', 'custom:cdc_version': v(1) },
      },
    ]);
  });
  test('no-op after a coalesced change-and-revert still moves the version on', () => {
    // v6 changed the user, v7 changed it back: a replay of v6 alone must look stale afterwards.
    expect(planUser(synced(), upsert(7, desired(), 6), options).calls).toEqual([
      { api: 'AdminUpdateUserAttributes', username: 'legacy_1', attributes: { 'custom:cdc_version': v(7) } },
    ]);
    // ...but not when the folded-away intent was itself already stale.
    expect(planUser(synced(), upsert(7, desired(), 4), options).skip).toBe('no-change');
  });
  test('the same version again completes a create cut short (disable and groups only)', () => {
    const current = synced({ enabled: true, groups: [] });
    const intent = upsert(5, desired({ enabled: false, groups: ['admin'], attributes: { given_name: 'Changed' } }));
    expect(planUser(current, intent, options).calls).toEqual([
      { api: 'AdminDisableUser', username: 'legacy_1' },
      { api: 'AdminAddUserToGroup', username: 'legacy_1', group: 'admin' },
    ]);
  });
  test('position-less versions are neither guarded nor written', () => {
    const plan = planUser(
      synced(),
      upsert(0, desired({ attributes: { ...desired().attributes, given_name: 'Zoë' } })),
      options,
    );
    expect(plan.calls).toEqual([]); // v(0) is a real, old version: stale
    const noVersion: UserIntent = {
      kind: 'upsert',
      user: desired({ attributes: { given_name: 'Zoë' } }),
      version: '',
      origin,
      sourceTsMs: null,
    };
    expect(planUser(synced(), noVersion, options).calls).toEqual([
      { api: 'AdminUpdateUserAttributes', username: 'legacy_1', attributes: { given_name: 'Zoë' } },
    ]);
    expect(planUser(synced(), { ...noVersion, user: desired() }, options).skip).toBe('no-change');
  });
});

describe('delete', () => {
  test('policy delete: one AdminDeleteUser', () => {
    expect(planUser(synced(), del(6), options)).toEqual({
      calls: [{ api: 'AdminDeleteUser', username: 'legacy_1' }],
      appliedVersion: v(6),
    });
  });
  test('a user already gone is success with zero calls', () => {
    expect(planUser(null, del(6), options)).toEqual({ calls: [], skip: 'already-deleted', appliedVersion: v(6) });
  });
  test('stale deletes are skipped (the user was re-created later)', () => {
    expect(planUser(synced(), del(5), options).skip).toBe('stale-version');
    expect(planUser(synced({ version: undefined }), del(6), options, v(7)).skip).toBe('stale-version');
  });
  test('policy disable: disable, then the version; nothing when already disabled', () => {
    const disable = { ...options, deletePolicy: 'disable' as const };
    expect(planUser(synced(), del(6), disable).calls).toEqual([
      { api: 'AdminDisableUser', username: 'legacy_1' },
      { api: 'AdminUpdateUserAttributes', username: 'legacy_1', attributes: { 'custom:cdc_version': v(6) } },
    ]);
    expect(planUser(synced({ enabled: false }), del(6), disable)).toEqual({
      calls: [],
      skip: 'no-change',
      appliedVersion: v(6),
    });
    expect(planUser(synced({ enabled: false }), del(7, 6), disable).calls.map((c) => c.api)).toEqual([
      'AdminUpdateUserAttributes',
    ]);
  });
});

describe('group intents', () => {
  test('add or remove only when Cognito differs', () => {
    expect(planUser(synced({ groups: ['admin'] }), group('admin', true), options)).toEqual({
      calls: [],
      skip: 'no-change',
      appliedVersion: v(5),
    });
    expect(planUser(synced({ groups: [] }), group('admin', true), options).calls).toEqual([
      { api: 'AdminAddUserToGroup', username: 'legacy_1', group: 'admin' },
    ]);
    expect(planUser(synced({ groups: ['admin'] }), group('admin', false), options).calls).toEqual([
      { api: 'AdminRemoveUserFromGroup', username: 'legacy_1', group: 'admin' },
    ]);
    expect(planUser(synced({ groups: [] }), group('admin', false), options).skip).toBe('no-change');
  });
  test('are not guarded by the user row version (role rows have their own)', () => {
    expect(planUser(synced({ groups: [] }), group('admin', true, 1), options).calls).toHaveLength(1);
  });
  test('unknown current groups: idempotent call', () => {
    expect(planUser(synced({ groups: undefined }), group('admin', false), options).calls).toHaveLength(1);
  });
  test('a missing user, removals in add-only mode and foreign groups are skipped', () => {
    expect(planUser(null, group('admin', true), options).skip).toBe('not-existing');
    expect(
      planUser(synced({ groups: ['admin'] }), group('admin', false), { ...options, removeGroups: false }).skip,
    ).toBe('filtered');
    expect(planUser(synced({ groups: ['beta-testers'] }), group('beta-testers', false), options).skip).toBe('filtered');
  });
});

describe('the version stored in Cognito', () => {
  test('is read from the version attribute when the adapter only returns attributes', () => {
    const stored = 'b'.repeat(32);
    const current = {
      username: 'u1',
      enabled: true,
      attributes: { email: 'new@example.com', 'custom:cdc_version': stored },
    };
    const older = {
      kind: 'upsert' as const,
      user: { username: 'u1', attributes: { email: 'old@example.com' }, enabled: true },
      version: 'a'.repeat(32),
      origin: { topic: 't', partition: 0, offset: '1' },
      sourceTsMs: null,
    };
    expect(planUser(current, older, options)).toMatchObject({ calls: [], skip: 'stale-version' });
  });
});

describe('snapshot reads (op=r) and epochs', () => {
  const read = (version: string, user: DesiredUser = desired()): UserIntent => ({
    kind: 'upsert',
    user,
    version,
    origin,
    sourceTsMs: null,
    snapshot: true,
  });
  const drifted = synced({ attributes: { ...synced().attributes, given_name: 'Edited in Cognito' } });
  const different = desired({ attributes: { ...desired().attributes, family_name: 'Changed' } });

  test('at the stored version a snapshot read is compared in full: drift is repaired, the version not rewritten', () => {
    const plan = planUser(drifted, read(v(5)), options);
    expect(plan.calls).toEqual([
      { api: 'AdminUpdateUserAttributes', username: 'legacy_1', attributes: { given_name: 'Ana' } },
    ]);
    expect(plan.appliedVersion).toBe(v(5));
    // a change seen again at that version only completes follow-ups: the drift stays
    expect(planUser(drifted, upsert(5), options).calls).toEqual([]);
  });

  test('a snapshot read older than the stored version is a replayed old snapshot: stale', () => {
    expect(planUser(drifted, read(v(4)), options)).toMatchObject({ calls: [], skip: 'stale-version' });
  });

  test('a snapshot read of a later epoch applies over any position of an earlier one', () => {
    const plan = planUser(drifted, read(withEpoch(1, v(1))), options);
    expect(plan.calls).toEqual([
      {
        api: 'AdminUpdateUserAttributes',
        username: 'legacy_1',
        attributes: { given_name: 'Ana', 'custom:cdc_version': withEpoch(1, v(1)) },
      },
    ]);
    // ...and an event of the old epoch, whatever its position, is stale after it
    const after = synced({
      attributes: { ...synced().attributes, 'custom:cdc_version': withEpoch(1, v(1)) },
      version: withEpoch(1, v(1)),
    });
    expect(planUser(after, upsert(0xffff, different), options)).toMatchObject({ calls: [], skip: 'stale-version' });
  });
});
