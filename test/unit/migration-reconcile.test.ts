import { beforeAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { err, type CognitoCall, type CurrentUser, type Row } from '../../src/core/types.js';
import type { CognitoDirectory, CognitoGateway, ListedUser } from '../../src/adapters/cognito/cognito-gateway.js';
import type { LegacyDatabase, UserPage } from '../../src/adapters/legacy-db/legacy-database.js';
import { compileMapping, desiredUserFromRow, loadMapping, type CompiledMapping } from '../../src/pipeline/map/index.js';
import { coalesce, planOptionsFromMapping, planUser } from '../../src/pipeline/plan/index.js';
import { UserApplier } from '../../src/pipeline/apply/user-applier.js';
import { createUserApplier, planningFromMapping } from '../../src/runtime/pipeline-factory.js';
import { CompactUserIndex } from '../../src/migration/compact-user-index.js';
import { bumpVersion, diffOwned, ownedNames, stateHash } from '../../src/migration/owned-state.js';
import { reconcile, repairVersion } from '../../src/migration/reconcile.js';
import { desiredGroups, diffGroups, groupHash, groupSetHash } from '../../src/migration/memberships.js';
import { usernamePattern } from '../../src/migration/username-pattern.js';

let mapping: CompiledMapping;
beforeAll(async () => {
  mapping = compileMapping(await loadMapping(join(import.meta.dirname, '../../examples/mapping.yaml')));
});

const v = (commit: number, lsn: number): string =>
  commit.toString(16).padStart(16, '0') + lsn.toString(16).padStart(16, '0');

describe('versions for repairs', () => {
  test('bumpVersion is the next version of the same width; nothing to bump gives none', () => {
    expect(bumpVersion(v(5, 9))).toBe(v(5, 10));
    expect(bumpVersion(undefined)).toBe('');
    expect(bumpVersion('not-hex')).toBe('');
  });
  test('a repair applies over the stored version yet stays below any later Debezium event', () => {
    const stored = v(100, 150);
    const repair = repairVersion(stored, v(0, 400));
    expect(repair > stored).toBe(true);
    // The next transaction's events start with a commit LSN above 100 (or 100 with a higher LSN).
    expect(v(120, 130) > repair).toBe(true);
    expect(v(100, 160) > repair).toBe(true);
    // No stored version (a user created outside the sync): the read's (0, lsn).
    expect(repairVersion(undefined, v(0, 400))).toBe(v(0, 400));
  });
});

describe('usernamePattern', () => {
  test('parses the key back out of a template username', () => {
    const p = usernamePattern({ kind: 'template', template: 'legacy_{id}', lowercase: false });
    expect(p.parse('legacy_42')).toEqual({ id: '42' });
    expect(p.matches('anna@example.com')).toBe(false);
    expect(p.parse('legacy_')).toBeUndefined();
  });
});

describe('diffOwned', () => {
  test('compares only owned attributes and the enabled flag; empty means absent', () => {
    const owned = ownedNames(mapping);
    expect(owned.names).not.toContain('custom:cdc_version');
    const desired = {
      username: 'legacy_1',
      attributes: { email: 'a@x.io', given_name: 'A', family_name: '', 'custom:legacy_id': '1' },
      enabled: true,
    };
    const current = {
      attributes: {
        email: 'a@x.io',
        given_name: 'B',
        nickname: 'not ours',
        sub: 'uuid',
        'custom:cdc_version': v(1, 1),
        'custom:loyalty_tier': 'gold',
      },
      enabled: false,
    };
    expect(diffOwned(owned, desired, current)).toEqual([
      { name: 'custom:legacy_id', kind: 'missing', createOnly: true },
      { name: 'custom:loyalty_tier', kind: 'unexpected' },
      { name: 'given_name', kind: 'changed' },
      { name: 'enabled', kind: 'changed' },
    ]);
    expect(stateHash(owned, { a: '1', ...desired.attributes }, true)).toEqual(
      stateHash(owned, { ...desired.attributes, nickname: 'x' }, true),
    );
  });
});

describe('CompactUserIndex', () => {
  test('matches, tells states apart, grows, and lists the unmatched usernames from disk', () => {
    const index = new CompactUserIndex(4);
    try {
      for (let i = 0; i < 5000; i++) index.add(`legacy_${i}`, [i, i * 7]);
      expect(index.size).toBe(5000);
      expect(index.match('legacy_10', [10, 70])).toEqual({ found: true, sameState: true, sameGroups: true });
      expect(index.match('legacy_11', [11, 0])).toEqual({ found: true, sameState: false, sameGroups: true });
      expect(index.match('legacy_x', [0, 0])).toEqual({ found: false });
      for (let i = 12; i < 5000; i++) index.match(`legacy_${i}`, [0, 0]);
      expect([...index.unmatched()].sort()).toEqual([
        'legacy_0',
        'legacy_1',
        'legacy_2',
        'legacy_3',
        'legacy_4',
        'legacy_5',
        'legacy_6',
        'legacy_7',
        'legacy_8',
        'legacy_9',
      ]);
      expect(index.memoryBytes / index.size).toBeLessThan(64);
    } finally {
      index.dispose();
    }
  });
});

/** In-memory pool: just enough Cognito for the applier and the listing. */
class FakePool implements CognitoGateway, CognitoDirectory {
  users = new Map<string, CurrentUser>();
  calls: CognitoCall[] = [];
  /** group -> members */
  groups = new Map<string, Set<string>>(
    ['admin', 'support', 'customer', 'not-ours'].map((g) => [g, new Set<string>()]),
  );
  reads: string[] = [];
  async *listUsersInGroup(group: string): AsyncIterable<string[]> {
    const members = [...(this.groups.get(group) ?? [])];
    for (let i = 0; i < members.length; i += 2) yield members.slice(i, i + 2);
  }
  async listPoolGroups(): Promise<string[]> {
    return [...this.groups.keys()].sort();
  }
  async *listUsers(): AsyncIterable<ListedUser[]> {
    const all = [...this.users.values()].map((u) => ({
      username: u.username,
      attributes: { ...u.attributes },
      enabled: u.enabled,
    }));
    for (let i = 0; i < all.length; i += 2) yield all.slice(i, i + 2); // pages of 2: pagination is exercised
  }
  async describeUserPool() {
    return {};
  }
  async addCustomAttributes(): Promise<void> {}
  async getUser(username: string, withGroups = false): Promise<CurrentUser | null> {
    this.reads.push(withGroups ? `${username}+groups` : username);
    const u = this.users.get(username);
    if (!u) return null;
    const user: CurrentUser = { ...u, attributes: { ...u.attributes }, version: u.attributes['custom:cdc_version'] };
    if (withGroups) user.groups = [...this.groups].filter(([, m]) => m.has(username)).map(([g]) => g);
    return user;
  }
  async execute(call: CognitoCall): Promise<void> {
    this.calls.push(call);
    const u = this.users.get(call.username);
    switch (call.api) {
      case 'AdminCreateUser':
        this.users.set(call.username, { username: call.username, attributes: { ...call.attributes }, enabled: true });
        return;
      case 'AdminUpdateUserAttributes':
        Object.assign(u!.attributes, call.attributes);
        return;
      case 'AdminDeleteUserAttributes':
        for (const n of call.names) delete u!.attributes[n];
        return;
      case 'AdminDisableUser':
        u!.enabled = false;
        return;
      case 'AdminEnableUser':
        u!.enabled = true;
        return;
      case 'AdminDeleteUser':
        this.users.delete(call.username);
        for (const members of this.groups.values()) members.delete(call.username);
        return;
      case 'AdminAddUserToGroup':
        this.groups.get(call.group)!.add(call.username);
        return;
      case 'AdminRemoveUserFromGroup':
        this.groups.get(call.group)!.delete(call.username);
        return;
      default:
        return;
    }
  }
}

const fakeDb = (rows: Row[], roles: Record<string, string[]> = {}): LegacyDatabase => ({
  keyColumns: async () => ['id'],
  columnNames: async () => new Set(Object.keys(rows[0] ?? {})),
  estimateUsers: async () => rows.length,
  async *scanUsers(o): AsyncIterable<UserPage> {
    for (let i = 0; i < rows.length; i += o.pageSize)
      yield { rows: rows.slice(i, i + o.pageSize), snapshotVersion: v(0, 1000) };
  },
  findUser: async () => err('not-found'),
  rolesOf: async (keys) =>
    new Map(
      keys
        .map(String)
        .filter((k) => roles[k])
        .map((k) => [k, roles[k]!]),
    ),
  close: async () => undefined,
});

const legacyRow = (id: number, over: Row = {}): Row => ({
  id,
  username: `u${id}`,
  email: `u${id}@example.com`,
  email_verified: true,
  phone: null,
  given_name: `G${id}`,
  family_name: 'F',
  locale: 'de-DE',
  status: 'active',
  loyalty_tier: 'gold',
  marketing_opt_in: true,
  legacy_customer_no: null,
  ...over,
});

describe('reconcile', () => {
  test('finds missing, extra and different users, leaves foreign ones alone, and --repair leaves no drift', async () => {
    const pool = new FakePool();
    const rows = [1, 2, 3, 4, 5].map((id) => legacyRow(id));
    const synced = (row: Row, version: string): CurrentUser => {
      const d = desiredUserFromRow(mapping, row);
      if (!d.ok) throw d.error;
      const attributes = Object.fromEntries(Object.entries(d.value.attributes).filter(([, x]) => x !== ''));
      return {
        username: d.value.username,
        attributes: { ...attributes, 'custom:cdc_version': version },
        enabled: true,
      };
    };
    for (const r of rows.slice(1)) pool.users.set(`legacy_${r.id}`, synced(r, v(50, Number(r.id))));
    pool.users.get('legacy_3')!.attributes.given_name = 'Drifted';
    pool.users.get('legacy_4')!.enabled = false;
    pool.users.set('legacy_99', { username: 'legacy_99', attributes: { email: 'gone@example.com' }, enabled: true });
    pool.users.set('someone@else.io', { username: 'someone@else.io', attributes: {}, enabled: true });
    const applier = createUserApplier(planningFromMapping(mapping), { gateway: pool, stateCapacity: 0 });
    const input = { db: fakeDb(rows), columns: [], pageSize: 2, directory: pool, gateway: pool, mapping, examples: 5 };

    const before = await reconcile(input);
    expect(before.missing).toEqual({ count: 1, examples: ['legacy_1'] });
    expect(before.extra).toEqual({ count: 1, examples: ['legacy_99'] });
    expect(before.cognito).toEqual({ indexed: 5, foreign: 1, foreignExamples: ['someone@else.io'] });
    expect(before.different.count).toBe(2);
    expect(before.different.byAttribute).toEqual({ given_name: 1, enabled: 1 });
    expect(before.drift).toBe(4);

    const repaired = await reconcile({ ...input, repair: { applier, deleteExtra: true, concurrency: 2 } });
    expect(repaired.repair).toEqual({ created: 1, updated: 2, deleted: 1, unchanged: 0, failed: 0, errors: [] });
    const after = await reconcile(input);
    expect(after.drift).toBe(0);
    expect(pool.users.has('someone@else.io')).toBe(true);
    // The repair's version: just above what the user held, so later Debezium events still apply.
    expect(pool.users.get('legacy_3')!.attributes['custom:cdc_version']).toBe(v(50, 4));
    expect(pool.users.get('legacy_1')!.attributes['custom:cdc_version']).toBe(v(0, 1000));
  });

  test('a user whose row the mapping now refuses (a typo in the email) is held, not extra: --delete-extra never deletes it', async () => {
    const pool = new FakePool();
    const good = legacyRow(7);
    const d = desiredUserFromRow(mapping, good);
    if (!d.ok) throw d.error;
    pool.users.set('legacy_7', { username: 'legacy_7', attributes: { ...d.value.attributes }, enabled: true });
    const rows = [legacyRow(7, { email: 'u7@@example.com' })];
    const applier = createUserApplier(planningFromMapping(mapping), { gateway: pool, stateCapacity: 0 });
    const input = { db: fakeDb(rows), columns: [], pageSize: 10, directory: pool, gateway: pool, mapping, examples: 5 };
    const report = await reconcile({ ...input, repair: { applier, deleteExtra: true, concurrency: 1 } });
    expect(report.extra.count).toBe(0);
    expect(report.held).toEqual({
      count: 1,
      examples: [{ username: 'legacy_7', reason: expect.stringMatching(/email/) }],
    });
    expect(report.legacy.unmappable).toBe(1);
    expect(pool.users.has('legacy_7')).toBe(true);
    expect(pool.calls.filter((c) => c.api === 'AdminDeleteUser')).toEqual([]);
    // The reason is redacted like every report line: no e-mail address in it.
    expect(JSON.stringify(report.held)).not.toContain('u7@@example.com');
  });

  test('users outside the cohort are neither missing nor extra; widening it makes the newly included missing, and --repair creates only them', async () => {
    const rows = [1, 2, 3, 4, 5, 6, 7, 8].map((id) => legacyRow(id));
    const narrow = compileMapping({ ...mapping.spec, cohort: { allow: ['legacy_1', 'legacy_2'] } });
    const wide = compileMapping({ ...mapping.spec, cohort: { allow: ['legacy_1', 'legacy_2', 'legacy_3'] } });
    const pool = new FakePool();
    const input = (m: typeof mapping) => ({
      db: fakeDb(rows),
      columns: [],
      pageSize: 3,
      directory: pool,
      gateway: pool,
      mapping: m,
      examples: 5,
    });
    const repair = (m: typeof mapping) => ({
      applier: createUserApplier(planningFromMapping(m), { gateway: pool, stateCapacity: 0 }),
      deleteExtra: true,
      concurrency: 1,
    });
    const first = await reconcile({ ...input(narrow), repair: repair(narrow) });
    expect(first.missing.count).toBe(2);
    expect(first.outsideCohort).toEqual({ legacy: 6, inCognito: 0 });
    expect([...pool.users.keys()].sort()).toEqual(['legacy_1', 'legacy_2']);
    pool.calls.length = 0;
    const widened = await reconcile({ ...input(wide), repair: repair(wide) });
    expect(widened.missing).toEqual({ count: 1, examples: ['legacy_3'] });
    expect(pool.calls.filter((c) => c.api === 'AdminCreateUser').map((c) => c.username)).toEqual(['legacy_3']);
    // The rollout's progress, counted on the way: the listing came before legacy_3 was created.
    expect(widened.rollout).toEqual({ legacyUsers: 3, inCognito: 2, passwordReady: 0 });
    expect((await reconcile(input(wide))).rollout).toEqual({ legacyUsers: 3, inCognito: 3, passwordReady: 0 });
    expect((await reconcile({ ...input(wide), passwordsMeasurable: false })).rollout.passwordReady).toBeNull();
    // Narrowed back: legacy_3 is in Cognito outside the cohort, left alone (not extra, not deleted).
    const narrowed = await reconcile({ ...input(narrow), repair: repair(narrow) });
    expect(narrowed.extra.count).toBe(0);
    expect(narrowed.outsideCohort).toEqual({ legacy: 6, inCognito: 1 });
    expect(narrowed.rollout).toEqual({ legacyUsers: 2, inCognito: 2, passwordReady: 0 });
    expect(pool.users.has('legacy_3')).toBe(true);
  });

  test('with createPolicy existing-only, users not in Cognito are not migrated yet, not drift, and never created', async () => {
    const m = compileMapping({ ...mapping.spec, createPolicy: 'existing-only' });
    const pool = new FakePool();
    const applier = createUserApplier(planningFromMapping(m), { gateway: pool, stateCapacity: 0 });
    const r = await reconcile({
      db: fakeDb([legacyRow(1)]),
      columns: [],
      pageSize: 10,
      directory: pool,
      gateway: pool,
      mapping: m,
      examples: 5,
      repair: { applier, deleteExtra: false, concurrency: 1 },
    });
    expect(r.notMigrated).toBe(1);
    expect(r.drift).toBe(0);
    expect(pool.calls).toEqual([]);
  });
});

describe('group memberships', () => {
  const rules = { removeGroups: true, ownsGroup: (g: string) => ['admin', 'support', 'customer'].includes(g) };

  test('diffGroups: missing and extra memberships, exactly what the planner would change', () => {
    expect(diffGroups(['customer', 'support'], ['customer', 'admin', 'not-ours'], rules)).toEqual({
      missing: ['support'],
      extra: ['admin'],
    });
    expect(diffGroups([], [], rules)).toEqual({ missing: [], extra: [] });
    // add-only mappings (groups.managed: false) never call a membership extra: the sync keeps it.
    expect(diffGroups(['customer'], ['admin'], { ...rules, removeGroups: false })).toEqual({
      missing: ['customer'],
      extra: [],
    });
  });

  test('desiredGroups: column groups plus roles through groups.map; refused roles are counted, not fatal', () => {
    expect(desiredGroups(mapping, undefined, ['support', 'customer', 'beta_tester'])).toEqual({
      groups: ['customer', 'support'],
      refusedRoles: 0,
    });
    const strict = compileMapping({ ...mapping.spec, groups: { ...mapping.spec.groups!, unmapped: 'error' } });
    expect(desiredGroups(strict, ['admin'], ['beta_tester', 'customer'])).toEqual({
      groups: ['admin', 'customer'],
      refusedRoles: 1,
    });
  });

  test('the set hash is order-free, so memberships can be folded in one group at a time', () => {
    const index = new CompactUserIndex(4, true);
    try {
      index.add('legacy_1', [1, 1]);
      expect(index.addGroup('legacy_1', groupHash('support'))).toBe(true);
      expect(index.addGroup('legacy_1', groupHash('customer'))).toBe(true);
      expect(index.addGroup('legacy_2', groupHash('customer'))).toBe(false);
      expect(index.match('legacy_1', [1, 1], groupSetHash(['customer', 'support']))).toEqual({
        found: true,
        sameState: true,
        sameGroups: true,
      });
      expect(index.match('legacy_1', [1, 1], groupSetHash(['customer']))).toEqual({
        found: true,
        sameState: true,
        sameGroups: false,
      });
      expect(groupSetHash([])).toEqual([0, 0]);
    } finally {
      index.dispose();
    }
  });

  test('reconcile reports missing and extra memberships as drift; --repair fixes them through the planner, reading groups only where they differ', async () => {
    const pool = new FakePool();
    const rows = [1, 2, 3, 4].map((id) => legacyRow(id));
    const roles = { '1': ['customer'], '2': ['customer', 'support'], '3': ['customer'], '4': ['beta_tester'] };
    const applier = createUserApplier(planningFromMapping(mapping), { gateway: pool, stateCapacity: 0 });
    const input = {
      db: fakeDb(rows, roles),
      columns: [],
      pageSize: 3,
      directory: pool,
      gateway: pool,
      mapping,
      examples: 5,
    };

    const boot = await reconcile({ ...input, repair: { applier, deleteExtra: false, concurrency: 2 } });
    expect(boot.missing.count).toBe(4);
    expect(pool.groups.get('support')).toEqual(new Set(['legacy_2']));
    expect(pool.groups.get('customer')).toEqual(new Set(['legacy_1', 'legacy_2', 'legacy_3']));
    pool.reads.length = 0;
    const clean = await reconcile(input);
    expect(clean.drift).toBe(0);
    expect(clean.memberships).toMatchObject({ compared: true, groups: ['admin', 'customer', 'support'], users: 0 });
    expect(pool.reads).toEqual([]); // in sync: nobody read one by one

    // Plant: legacy_1 lost customer; legacy_3 gained admin (ours) and not-ours (someone else's).
    pool.groups.get('customer')!.delete('legacy_1');
    pool.groups.get('admin')!.add('legacy_3');
    pool.groups.get('not-ours')!.add('legacy_3');
    const drift = await reconcile(input);
    expect(drift.drift).toBe(2);
    expect(drift.different.count).toBe(2);
    expect(drift.memberships).toMatchObject({
      users: 2,
      missing: 1,
      extra: 1,
      byGroup: { customer: { missing: 1, extra: 0 }, admin: { missing: 0, extra: 1 } },
    });
    expect(Object.fromEntries(drift.different.examples.map((e) => [e.username, e.groups]))).toEqual({
      legacy_1: { missing: ['customer'], extra: [] },
      legacy_3: { missing: [], extra: ['admin'] },
    });
    expect(pool.reads.sort()).toEqual(['legacy_1+groups', 'legacy_3+groups']);

    const repaired = await reconcile({ ...input, repair: { applier, deleteExtra: false, concurrency: 2 } });
    expect(repaired.repair).toMatchObject({ updated: 2, failed: 0 });
    expect(
      pool.calls
        .filter((c) => c.api.includes('Group'))
        .slice(-2)
        .sort((a, b) => a.api.localeCompare(b.api)),
    ).toEqual([
      { api: 'AdminAddUserToGroup', username: 'legacy_1', group: 'customer' },
      { api: 'AdminRemoveUserFromGroup', username: 'legacy_3', group: 'admin' },
    ]);
    expect((await reconcile(input)).drift).toBe(0);
    expect(pool.groups.get('not-ours')!.has('legacy_3')).toBe(true); // not the mapping's group: left alone
  });
});
