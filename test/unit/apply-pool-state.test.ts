// The pool state decides which events need a Cognito read. Its decisions must be the planner's:
// a fingerprint match must mean "the planner plans no change", and what the state claims must
// come from Cognito (a listing, a read, our own calls), never from a guess.
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { join } from 'node:path';
import type { CognitoCall, CurrentUser, DesiredUser, UserIntent } from '../../src/core/types.js';
import { PoolState } from '../../src/pipeline/apply/pool-state.js';
import { afterCalls } from '../../src/pipeline/apply/cognito-effects.js';
import { cognitoDigest, comparedAttributes, desiredDigest } from '../../src/pipeline/plan/state-digest.js';
import { planOptionsFromMapping } from '../../src/pipeline/plan/plan-options.js';
import { planUser } from '../../src/pipeline/plan/plan-user.js';
import { createUserApplier, loadCompiledMapping, planningFromMapping } from '../../src/runtime/pipeline-factory.js';
import { InMemoryCognito } from '../../bench/support/in-memory-cognito.js';

const mapping = await loadCompiledMapping(join(import.meta.dirname, '../../examples/mapping.yaml'));
const options = planOptionsFromMapping(mapping);
const names = comparedAttributes(
  mapping.attributes.map((a) => a.name),
  options,
);
const v = (n: number): string => n.toString(16).padStart(32, '0');

const value = fc.constantFrom('', 'a', 'b', 'a b', 'Zoë', '+4915123456789', 'true', 'false');
const attributesArb = fc.dictionary(fc.constantFrom(...names, 'custom:legacy_id', 'sub'), value);
const upsert = (user: DesiredUser, version: number): Extract<UserIntent, { kind: 'upsert' }> => ({
  kind: 'upsert',
  user,
  version: v(version),
  origin: { topic: 't', partition: 0, offset: '0' },
  sourceTsMs: null,
});

describe('the state fingerprint', () => {
  test('equal fingerprints exactly when the planner plans no change for a newer upsert', () => {
    fc.assert(
      fc.property(
        attributesArb,
        fc.boolean(),
        attributesArb,
        fc.boolean(),
        fc.boolean(),
        (have, haveEnabled, want, wantEnabled, complete) => {
          // A desired user names every mapped attribute ('' = absent), as the mapping builds it;
          // `complete` false leaves one out (an event that does not say).
          const wanted: Record<string, string> = {};
          for (const name of names) wanted[name] = want[name] ?? '';
          if (!complete) delete wanted[names[0]!];
          const current: CurrentUser = {
            username: 'u',
            attributes: { ...have, [options.versionAttribute]: v(1) },
            enabled: haveEnabled,
          };
          const desired: DesiredUser = { username: 'u', attributes: wanted, enabled: wantEnabled };
          const plan = planUser(current, upsert(desired, 2), options);
          const same = desiredDigest(desired, names) === cognitoDigest(current.attributes, current.enabled, names);
          // Equal fingerprints must never hide a change; a change-free plan may still differ when
          // the event leaves an attribute out (the applier then reads: a read too many, never a write too few).
          if (same) expect(plan.skip).toBe('no-change');
          if (complete && plan.skip === 'no-change') expect(same).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('a desired user with an unknown attribute (a TOASTed column) is never judged from the fingerprint', () => {
    const user: DesiredUser = {
      username: 'u',
      attributes: { given_name: 'A' },
      enabled: true,
      unknown: ['family_name'],
    };
    expect(desiredDigest(user, names)).toBeUndefined();
  });
});

describe('PoolState', () => {
  const state = (capacity = 100) =>
    new PoolState({ capacity, comparedAttributes: names, versionAttribute: options.versionAttribute });
  const listing = (
    users: { username: string; attributes: Record<string, string> }[],
    groups: Record<string, string[]> = {},
  ) => ({
    async *listUsers() {
      yield users.map((u) => ({ ...u, enabled: true }));
    },
    async *listUsersInGroup(group: string) {
      yield groups[group] ?? [];
    },
  });

  test('knows absence only once the whole pool was listed, and not after it dropped a user', async () => {
    const s = state(2);
    expect(s.knowsAbsent('legacy_9')).toBe(false);
    await s.prime(listing([{ username: 'legacy_1', attributes: { [options.versionAttribute]: v(5) } }]), undefined);
    expect(s.knowsAbsent('legacy_9')).toBe(true);
    expect(s.knowsAbsent('legacy_1')).toBe(false);
    expect(s.get('legacy_1')?.version).toBe(v(5));
    s.observe('legacy_2', null);
    s.observe('legacy_3', null); // the third entry: the oldest is dropped
    expect(s.knowsAbsent('legacy_9')).toBe(false);
  });

  test('a listing never overwrites what the applier saw itself, and memberships count once every group was listed', async () => {
    const s = new PoolState({
      capacity: 100,
      comparedAttributes: names,
      versionAttribute: options.versionAttribute,
      groupsVersionAttribute: 'custom:cdc_groups',
    });
    s.observe('legacy_1', {
      username: 'legacy_1',
      attributes: { [options.versionAttribute]: v(9) },
      enabled: true,
      groups: ['admin'],
    });
    let listed = false;
    const slow = {
      async *listUsers() {
        yield [
          { username: 'legacy_1', attributes: { [options.versionAttribute]: v(3) }, enabled: true },
          {
            username: 'legacy_2',
            attributes: { [options.versionAttribute]: v(4), 'custom:cdc_groups': `support=${v(4)}` },
            enabled: true,
          },
        ];
      },
      async *listUsersInGroup(group: string) {
        // While the groups are listed, the primed memberships are not to be relied on yet.
        expect(s.knownGroups(s.get('legacy_2')!)).toBeUndefined();
        listed = true;
        yield group === 'support' ? ['legacy_1', 'legacy_2'] : [];
      },
    };
    const report = await s.prime(slow, ['admin', 'support']);
    expect(listed).toBe(true);
    expect(report).toMatchObject({ users: 2, memberships: 1 });
    expect(s.get('legacy_1')).toMatchObject({ version: v(9), groups: ['admin'] });
    expect(s.knownGroups(s.get('legacy_2')!)).toEqual(['support']);
    expect(s.get('legacy_2')?.groupVersions).toBe(`support=${v(4)}`);
  });

  test('forgetting a user after the listing makes it unknown (read next time), not absent', async () => {
    const s = state();
    await s.prime(listing([]), undefined);
    s.forget('legacy_5');
    expect(s.knowsAbsent('legacy_5')).toBe(false);
    expect(s.knowsAbsent('legacy_6')).toBe(true);
  });
});

describe('afterCalls (what the state learns from its own calls)', () => {
  test('is what the bench model of Cognito holds after the same calls', () => {
    fc.assert(
      fc.property(
        attributesArb,
        fc.boolean(),
        fc.array(
          fc.oneof(
            attributesArb.map(
              (attributes): CognitoCall => ({ api: 'AdminUpdateUserAttributes', username: 'u', attributes }),
            ),
            fc
              .subarray([...names])
              .map((list): CognitoCall => ({ api: 'AdminDeleteUserAttributes', username: 'u', names: list })),
            fc.constantFrom<CognitoCall>(
              { api: 'AdminEnableUser', username: 'u' },
              { api: 'AdminDisableUser', username: 'u' },
              { api: 'AdminAddUserToGroup', username: 'u', group: 'admin' },
              { api: 'AdminRemoveUserFromGroup', username: 'u', group: 'admin' },
            ),
          ),
          { maxLength: 6 },
        ),
        (attributes, enabled, calls) => {
          const model = new InMemoryCognito();
          const flagless = Object.fromEntries(
            Object.entries(attributes).filter(([k]) => k !== 'email_verified' && k !== 'phone_number_verified'),
          );
          model.users.set('u', { attributes: { ...flagless }, enabled, groups: new Set() });
          for (const call of calls) model.apply(call);
          const derived = afterCalls({ username: 'u', attributes: { ...flagless }, enabled, groups: [] }, calls);
          const truth = model.peek('u')!;
          expect(cognitoDigest(derived!.attributes, derived!.enabled, names)).toBe(
            cognitoDigest(truth.attributes, truth.enabled, names),
          );
          expect([...(derived!.groups ?? [])].sort()).toEqual(truth.groups);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('UserApplier with a primed pool state', () => {
  const planning = planningFromMapping(mapping);
  const desired = (id: number, email: string): DesiredUser => ({
    username: `legacy_${id}`,
    attributes: Object.fromEntries(names.map((n) => [n, n === 'email' ? email : ''])),
    enabled: true,
  });

  test('an event that changes nothing costs no call; one that changes something reads once and writes', async () => {
    const cognito = new InMemoryCognito();
    const first = createUserApplier(planning, { gateway: cognito, stateCapacity: 100, stream: { jitGraceMs: 0 } });
    await first.state.prime(cognito, undefined);
    await first.apply('legacy_1', [upsert(desired(1, 'a@example.com'), 10)]);
    // A new consumer: its state comes from the listing only.
    const second = createUserApplier(planning, { gateway: cognito, stateCapacity: 100, stream: { jitGraceMs: 0 } });
    await second.state.prime(cognito, undefined);
    cognito.resetCounts();
    const same = await second.apply('legacy_1', [upsert(desired(1, 'a@example.com'), 20)]);
    expect({ reads: same.reads, calls: same.calls, skips: same.skips }).toEqual({
      reads: 0,
      calls: [],
      skips: ['no-change'],
    });
    const changed = await second.apply('legacy_1', [upsert(desired(1, 'b@example.com'), 30)]);
    expect({ reads: changed.reads, calls: changed.calls }).toEqual({ reads: 1, calls: ['AdminUpdateUserAttributes'] });
    expect(cognito.peek('legacy_1')?.attributes.email).toBe('b@example.com');
    // The stale replay of the first event after that: judged from the state, no call.
    const stale = await second.apply('legacy_1', [upsert(desired(1, 'a@example.com'), 20)]);
    expect({ reads: stale.reads, calls: stale.calls, skips: stale.skips }).toEqual({
      reads: 0,
      calls: [],
      skips: ['stale-version'],
    });
  });

  test("a user created behind the state's back (the migration trigger) is read and updated, not lost", async () => {
    const cognito = new InMemoryCognito();
    const applier = createUserApplier(planning, { gateway: cognito, stateCapacity: 100, stream: { jitGraceMs: 0 } });
    await applier.state.prime(cognito, undefined); // empty pool: every user known absent
    cognito.users.set('legacy_7', {
      attributes: { email: 'old@example.com', [options.versionAttribute]: v(1) },
      enabled: true,
      groups: new Set(),
    });
    const report = await applier.apply('legacy_7', [upsert(desired(7, 'new@example.com'), 5)]);
    expect(report.calls).toEqual(['AdminUpdateUserAttributes']);
    expect(cognito.peek('legacy_7')?.attributes.email).toBe('new@example.com');
  });
});

describe('an event at exactly the version Cognito holds', () => {
  const planning = planningFromMapping(mapping);
  test("completes a creation's disable cut short by a crash, even when the version was learnt from a read (fast-check found it)", async () => {
    const cognito = new InMemoryCognito();
    const locked: DesiredUser = {
      username: 'legacy_1',
      attributes: Object.fromEntries(names.map((n) => [n, n === 'email' ? 'a@example.com' : ''])),
      enabled: false,
    };
    // The crash: AdminCreateUser (with the version) went through, AdminDisableUser did not.
    cognito.users.set('legacy_1', {
      attributes: { email: 'a@example.com', [options.versionAttribute]: v(9) },
      enabled: true,
      groups: new Set(),
    });
    const applier = createUserApplier(planning, { gateway: cognito, stateCapacity: 100, stream: { jitGraceMs: 0 } });
    // An older event first: read, stale; the state now knows version 9.
    expect((await applier.apply('legacy_1', [upsert({ ...locked, enabled: true }, 3)])).skips).toEqual([
      'stale-version',
    ]);
    // The same event again: the disable is completed.
    const again = await applier.apply('legacy_1', [upsert(locked, 9)]);
    expect(again.calls).toEqual(['AdminDisableUser']);
    expect(cognito.peek('legacy_1')?.enabled).toBe(false);
    // Once more: nothing is missing any more, no call and no read.
    const third = await applier.apply('legacy_1', [upsert(locked, 9)]);
    expect({ calls: third.calls, reads: third.reads }).toEqual({ calls: [], reads: 0 });
  });
});

describe('absence from the listing', () => {
  const planning = planningFromMapping(mapping);
  test('a delete reads the user: created by another instance after the listing, it is deleted, not skipped as already gone (two-consumers fault scenario)', async () => {
    const cognito = new InMemoryCognito();
    const applier = createUserApplier(planning, { gateway: cognito, stateCapacity: 100, stream: { jitGraceMs: 0 } });
    await applier.state.prime(cognito, undefined); // empty pool: every user known absent
    // The other instance, which owned the partition then, created the user.
    cognito.users.set('legacy_8', {
      attributes: { [options.versionAttribute]: v(2) },
      enabled: true,
      groups: new Set(),
    });
    const del: UserIntent = {
      kind: 'delete',
      username: 'legacy_8',
      version: v(5),
      origin: { topic: 't', partition: 0, offset: '0' },
      sourceTsMs: null,
    };
    const report = await applier.apply('legacy_8', [del]);
    expect(report.calls).toEqual(['AdminDeleteUser']);
    expect(cognito.peek('legacy_8')).toBeNull();
  });
});

describe('what other instances write is not known here', () => {
  const planning = planningFromMapping(mapping);
  const desired = (email: string): DesiredUser => ({
    username: 'legacy_4',
    attributes: Object.fromEntries(names.map((n) => [n, n === 'email' ? email : ''])),
    enabled: true,
  });

  test('after partitions moved here (distrust), an event is judged unchanged only after a read', async () => {
    const cognito = new InMemoryCognito();
    const applier = createUserApplier(planning, { gateway: cognito, stateCapacity: 100, stream: { jitGraceMs: 0 } });
    await applier.apply('legacy_4', [upsert(desired('a@example.com'), 10)]);
    // Another instance, owning the partition meanwhile, changed the user; then it came back here.
    cognito.users.get('legacy_4')!.attributes.email = 'b@example.com';
    applier.state.distrust();
    const report = await applier.apply('legacy_4', [upsert(desired('a@example.com'), 20)]);
    expect({ reads: report.reads, calls: report.calls }).toEqual({ reads: 1, calls: ['AdminUpdateUserAttributes'] });
    expect(cognito.peek('legacy_4')?.attributes.email).toBe('a@example.com');
    // Versions were kept: an older event is still stale without a read.
    const stale = await applier.apply('legacy_4', [upsert(desired('c@example.com'), 15)]);
    expect({ reads: stale.reads, skips: stale.skips }).toEqual({ reads: 0, skips: ['stale-version'] });
  });

  test('with several instances in the group (shared), the state keeps versions only', async () => {
    const cognito = new InMemoryCognito();
    const applier = createUserApplier(planning, {
      gateway: cognito,
      stateCapacity: 100,
      sharedPool: true,
      stream: { jitGraceMs: 0 },
    });
    await applier.apply('legacy_4', [upsert(desired('a@example.com'), 10)]);
    expect(applier.state.get('legacy_4')).toMatchObject({ version: v(10), digest: undefined, groups: undefined });
    cognito.users.get('legacy_4')!.attributes.email = 'b@example.com';
    const report = await applier.apply('legacy_4', [upsert(desired('a@example.com'), 20)]);
    expect(report.calls).toEqual(['AdminUpdateUserAttributes']);
  });
});
