import { beforeAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { err, type CognitoCall, type CurrentUser, type Row } from '../../src/core/types.js';
import type { CognitoDirectory, CognitoGateway, ListedUser } from '../../src/adapters/cognito/cognito-gateway.js';
import type { LegacyDatabase, UserPage } from '../../src/adapters/postgres/legacy-database.js';
import { compileMapping, desiredUserFromRow, loadMapping, type CompiledMapping } from '../../src/pipeline/map/index.js';
import { coalesce, planOptionsFromMapping, planUser } from '../../src/pipeline/plan/index.js';
import { UserApplier } from '../../src/pipeline/apply/user-applier.js';
import { VersionCache } from '../../src/pipeline/apply/version-cache.js';
import { CompactUserIndex } from '../../src/migration/compact-user-index.js';
import { bumpVersion, diffOwned, ownedNames, stateHash } from '../../src/migration/owned-state.js';
import { reconcile, repairVersion } from '../../src/migration/reconcile.js';
import { usernamePattern } from '../../src/migration/username-pattern.js';

let mapping: CompiledMapping;
beforeAll(async () => {
  mapping = compileMapping(await loadMapping(join(import.meta.dirname, '../../examples/mapping.yaml')));
});

const v = (commit: number, lsn: number): string => commit.toString(16).padStart(16, '0') + lsn.toString(16).padStart(16, '0');

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
    const desired = { username: 'legacy_1', attributes: { email: 'a@x.io', given_name: 'A', family_name: '', 'custom:legacy_id': '1' }, enabled: true };
    const current = { attributes: { email: 'a@x.io', given_name: 'B', nickname: 'not ours', sub: 'uuid', 'custom:cdc_version': v(1, 1), 'custom:loyalty_tier': 'gold' }, enabled: false };
    expect(diffOwned(owned, desired, current)).toEqual([
      { name: 'custom:legacy_id', kind: 'missing', createOnly: true },
      { name: 'custom:loyalty_tier', kind: 'unexpected' },
      { name: 'given_name', kind: 'changed' },
      { name: 'enabled', kind: 'changed' },
    ]);
    expect(stateHash(owned, { a: '1', ...desired.attributes }, true)).toEqual(stateHash(owned, { ...desired.attributes, nickname: 'x' }, true));
  });
});

describe('CompactUserIndex', () => {
  test('matches, tells states apart, grows, and lists the unmatched usernames from disk', () => {
    const index = new CompactUserIndex(4);
    try {
      for (let i = 0; i < 5000; i++) index.add(`legacy_${i}`, [i, i * 7]);
      expect(index.size).toBe(5000);
      expect(index.match('legacy_10', [10, 70])).toEqual({ found: true, sameState: true });
      expect(index.match('legacy_11', [11, 0])).toEqual({ found: true, sameState: false });
      expect(index.match('legacy_x', [0, 0])).toEqual({ found: false });
      for (let i = 12; i < 5000; i++) index.match(`legacy_${i}`, [0, 0]);
      expect([...index.unmatched()].sort()).toEqual(['legacy_0', 'legacy_1', 'legacy_2', 'legacy_3', 'legacy_4', 'legacy_5', 'legacy_6', 'legacy_7', 'legacy_8', 'legacy_9']);
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
  async *listUsers(): AsyncIterable<ListedUser[]> {
    const all = [...this.users.values()].map((u) => ({ username: u.username, attributes: { ...u.attributes }, enabled: u.enabled }));
    for (let i = 0; i < all.length; i += 2) yield all.slice(i, i + 2); // pages of 2: pagination is exercised
  }
  async describeUserPool() {
    return {};
  }
  async addCustomAttributes(): Promise<void> {}
  async getUser(username: string): Promise<CurrentUser | null> {
    const u = this.users.get(username);
    return u ? { ...u, attributes: { ...u.attributes }, version: u.attributes['custom:cdc_version'] } : null;
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
        return;
      default:
        return;
    }
  }
}

const fakeDb = (rows: Row[]): LegacyDatabase => ({
  keyColumns: async () => ['id'],
  columnNames: async () => new Set(Object.keys(rows[0] ?? {})),
  estimateUsers: async () => rows.length,
  async *scanUsers(o): AsyncIterable<UserPage> {
    for (let i = 0; i < rows.length; i += o.pageSize) yield { rows: rows.slice(i, i + o.pageSize), snapshotVersion: v(0, 1000) };
  },
  findUser: async () => err('not-found'),
  rolesOf: async () => new Map(),
  close: async () => undefined,
});

const legacyRow = (id: number, over: Row = {}): Row => ({
  id, username: `u${id}`, email: `u${id}@example.com`, email_verified: true, phone: null, given_name: `G${id}`, family_name: 'F',
  locale: 'de-DE', status: 'active', loyalty_tier: 'gold', marketing_opt_in: true, legacy_customer_no: null, ...over,
});

describe('reconcile', () => {
  test('finds missing, extra and different users, leaves foreign ones alone, and --repair leaves no drift', async () => {
    const pool = new FakePool();
    const rows = [1, 2, 3, 4, 5].map((id) => legacyRow(id));
    const synced = (row: Row, version: string): CurrentUser => {
      const d = desiredUserFromRow(mapping, row);
      if (!d.ok) throw d.error;
      const attributes = Object.fromEntries(Object.entries(d.value.attributes).filter(([, x]) => x !== ''));
      return { username: d.value.username, attributes: { ...attributes, 'custom:cdc_version': version }, enabled: true };
    };
    for (const r of rows.slice(1)) pool.users.set(`legacy_${r.id}`, synced(r, v(50, Number(r.id))));
    pool.users.get('legacy_3')!.attributes.given_name = 'Drifted';
    pool.users.get('legacy_4')!.enabled = false;
    pool.users.set('legacy_99', { username: 'legacy_99', attributes: { email: 'gone@example.com' }, enabled: true });
    pool.users.set('someone@else.io', { username: 'someone@else.io', attributes: {}, enabled: true });
    const planOptions = planOptionsFromMapping(mapping);
    const applier = new UserApplier(pool, (c, i, d) => planUser(c, i, planOptions, d), coalesce, new VersionCache(0), false);
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

  test('with createPolicy existing-only, users not in Cognito are not migrated yet, not drift, and never created', async () => {
    const m = compileMapping({ ...mapping.spec, createPolicy: 'existing-only' });
    const pool = new FakePool();
    const planOptions = planOptionsFromMapping(m);
    const applier = new UserApplier(pool, (c, i, d) => planUser(c, i, planOptions, d), coalesce, new VersionCache(0), false);
    const r = await reconcile({ db: fakeDb([legacyRow(1)]), columns: [], pageSize: 10, directory: pool, gateway: pool, mapping: m, examples: 5, repair: { applier, deleteExtra: false, concurrency: 1 } });
    expect(r.notMigrated).toBe(1);
    expect(r.drift).toBe(0);
    expect(pool.calls).toEqual([]);
  });
});

