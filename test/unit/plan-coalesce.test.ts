import type { DesiredUser, UserIntent } from '../../src/core/types.js';
import { coalesce } from '../../src/pipeline/plan/coalesce.js';
import { planUser } from '../../src/pipeline/plan/plan-user.js';
import { planOptions } from './support/plan-options.js';

const origin = { topic: 't', partition: 0, offset: '1' };
const v = (n: number): string => n.toString(16).padStart(32, '0');

const user = (name: string, attributes: Record<string, string>, extra: Partial<DesiredUser> = {}): DesiredUser => ({
  username: name,
  attributes,
  enabled: true,
  ...extra,
});
const up = (n: number, u: DesiredUser): UserIntent => ({
  kind: 'upsert',
  user: u,
  version: v(n),
  origin: { ...origin, offset: String(n) },
  sourceTsMs: null,
});
const del = (n: number, name = 'u1'): UserIntent => ({
  kind: 'delete',
  username: name,
  version: v(n),
  origin,
  sourceTsMs: null,
});
const grp = (n: number, group: string, member: boolean, name = 'u1'): UserIntent => ({
  kind: 'group',
  username: name,
  group,
  member,
  version: v(n),
  origin,
  sourceTsMs: null,
});

const options = planOptions();

describe('coalesce', () => {
  test('single intents and distinct users pass through', () => {
    const a = up(1, user('u1', { email: 'a@x.io' }));
    const b = up(2, user('u2', { email: 'b@x.io' }));
    expect(coalesce([])).toEqual([]);
    expect(coalesce([a, b])).toEqual([a, b]);
  });
  test('the last upsert wins and remembers the folded-away version', () => {
    const out = coalesce([
      up(1, user('u1', { email: 'a@x.io' })),
      up(2, user('u2', { email: 'b@x.io' })),
      up(3, user('u1', { email: 'c@x.io' })),
    ]);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({
      kind: 'upsert',
      version: v(3),
      supersededVersion: v(1),
      user: { username: 'u1', attributes: { email: 'c@x.io' } },
    });
    expect(out[0]?.origin.offset).toBe('3');
    expect(out[1]).toMatchObject({ user: { username: 'u2' } });
  });
  test('duplicates fold to one intent without a superseded version', () => {
    const a = up(5, user('u1', { email: 'a@x.io' }));
    expect(coalesce([a, a, a])).toEqual([a]);
  });
  test('unknown attributes get a versioned fallback from the earlier event', () => {
    const out = coalesce([
      up(1, user('u1', { email: 'a@x.io', 'custom:bio': 'old' })),
      up(2, user('u1', { email: 'b@x.io' }, { unknown: ['custom:bio'] })),
    ]);
    expect(out).toEqual([
      expect.objectContaining({
        version: v(2),
        user: { username: 'u1', attributes: { email: 'b@x.io' }, unknown: ['custom:bio'], enabled: true },
        fallback: { attributes: { 'custom:bio': { value: 'old', version: v(1) } } },
      }),
    ]);
    // applied to a user Cognito holds at version 0, the fallback is used...
    const [merged] = out;
    const current = {
      username: 'u1',
      attributes: { email: 'a@x.io', 'custom:bio': 'older' },
      enabled: true,
      version: v(0),
    };
    expect(planUser(current, merged as UserIntent, options).calls[0]).toMatchObject({
      attributes: { email: 'b@x.io', 'custom:bio': 'old' },
    });
    // ...but not when Cognito is already newer than the event that knew the value.
    expect(planUser({ ...current, version: v(1) }, merged as UserIntent, options).calls).toEqual([
      { api: 'AdminUpdateUserAttributes', username: 'u1', attributes: { email: 'b@x.io', 'custom:cdc_version': v(2) } },
    ]);
  });
  test('fallbacks chain through several unknown events', () => {
    const out = coalesce([
      up(1, user('u1', { a: '1' }, { groups: ['admin'] })),
      up(2, user('u1', {}, { unknown: ['a'] })),
      up(3, user('u1', {}, { unknown: ['a'] })),
    ]);
    expect(out[0]).toMatchObject({
      version: v(3),
      fallback: { attributes: { a: { value: '1', version: v(1) } }, groups: { value: ['admin'], version: v(1) } },
    });
  });
  test('an older event arriving after a newer one is dropped (a replay), not merged', () => {
    const newer = up(5, user('u1', { email: 'new@x.io' }, { unknown: ['custom:bio'] }));
    const replay = up(2, user('u1', { email: 'old@x.io', 'custom:bio': 'old' }));
    expect(coalesce([newer, replay])).toEqual([newer]);
  });
  test('upsert then delete is a delete; delete then create is a recreate', () => {
    expect(coalesce([up(1, user('u1', {})), del(2)])).toEqual([{ ...del(2), supersededVersion: v(1) }]);
    const recreate = coalesce([del(2), up(3, user('u1', { email: 'x@x.io' }))]);
    expect(recreate.map((i) => [i.kind, i.version])).toEqual([
      ['delete', v(2)],
      ['upsert', v(3)],
    ]);
    const again = coalesce([up(1, user('u1', {})), del(2), up(3, user('u1', {})), del(4)]);
    expect(again).toEqual([{ ...del(4), supersededVersion: v(3) }]);
  });
  test('a recreate does not take unknown values from before the delete', () => {
    const out = coalesce([up(1, user('u1', { bio: 'x' })), del(2), up(3, user('u1', {}, { unknown: ['bio'] }))]);
    expect(out[1]).not.toHaveProperty('fallback');
  });
  test('group intents: last per group wins, after the user intent', () => {
    const out = coalesce([
      grp(5, 'admin', true),
      up(3, user('u1', {})),
      grp(7, 'admin', false),
      grp(6, 'support', true),
    ]);
    expect(out.map((i) => (i.kind === 'group' ? `${i.group}:${i.member}` : i.kind))).toEqual([
      'upsert',
      'support:true',
      'admin:false',
    ]);
  });
  test('group intents fold into an upsert that carries the full set of groups', () => {
    const out = coalesce([
      up(3, user('u1', {}, { groups: ['customer'] })),
      grp(4, 'admin', true),
      grp(5, 'customer', false),
    ]);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ kind: 'upsert', version: v(3), user: { groups: ['admin'] } });
  });
  test('the highest version is preserved', () => {
    const out = coalesce([up(9, user('u1', { a: '1' })), up(4, user('u1', { a: '2' })), up(7, user('u1', { a: '3' }))]);
    expect(out).toHaveLength(1);
    expect(out[0]?.version).toBe(v(9));
  });
});
