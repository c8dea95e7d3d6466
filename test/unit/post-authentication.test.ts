// The group hand-over between the two Cognito triggers, without a stack: the migration trigger
// marks users whose legacy row has groups, the Post Authentication trigger adds the memberships
// (over an in-memory LegacyDatabase and a recording Cognito writer) and never fails a sign-in.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import bcrypt from 'bcryptjs';
import { err, ok, type Row } from '../../src/core/types.js';
import type { FindOptions, LegacyDatabase, UserLookup } from '../../src/adapters/legacy-db/legacy-database.js';
import { compileMapping, loadMapping, type CompiledMapping, type MappingSpec } from '../../src/pipeline/map/index.js';
import {
  createPostAuthenticationHandler,
  type MembershipWriter,
  type PostAuthenticationEvent,
} from '../../src/lambda/post-authentication.js';
import { createMigrationHandler } from '../../src/lambda/user-migration.js';
import { lambdaConfigFromEnv } from '../../src/lambda/lambda-config.js';
import { postAuthenticationConfigFromEnv } from '../../src/lambda/trigger-config.js';

const MARKER = 'custom:cdc_jit_groups';
const HASH = bcrypt.hashSync('pw', 4);
const SNAPSHOT = `${'0'.repeat(16)}${'0'.repeat(12)}abcd`;
const EXAMPLE = join(import.meta.dirname, '../../examples/mapping.yaml');

let mapping: CompiledMapping;
let columnMapping: CompiledMapping;

const rows: Row[] = [
  {
    id: 1,
    username: 'ann',
    email: 'ann@example.com',
    email_verified: true,
    given_name: 'Ann',
    family_name: 'A',
    status: 'active',
    roles_csv: 'customer',
    password_hash: HASH,
  },
  {
    id: 2,
    username: 'bob',
    email: 'bob@example.com',
    email_verified: true,
    given_name: 'Bob',
    family_name: 'B',
    status: 'active',
    roles_csv: null,
    password_hash: HASH,
  },
];
const roles = new Map<string, string[]>([['1', ['admin', 'support', 'auditor']]]);

interface MemoryDb extends LegacyDatabase {
  reads: number;
}

/** The port over arrays; `fail`/`hang` stand in for a database that errors or never answers. */
const memoryDb = (behaviour: 'ok' | 'fail' | 'hang' = 'ok', roleRows = roles): MemoryDb => {
  const db: MemoryDb = {
    reads: 0,
    keyColumns: async () => ['id'],
    columnNames: async () => new Set(Object.keys(rows[0]!)),
    estimateUsers: async () => rows.length,
    async *scanUsers() {},
    async findUser(lookup: UserLookup, options: FindOptions) {
      db.reads++;
      if (behaviour === 'fail') throw new Error('connection refused');
      if (behaviour === 'hang') return new Promise(() => undefined);
      const hit = rows.find((r) => lookup.by === 'key' && String(r.id) === String(lookup.key.id));
      if (!hit) return err('not-found');
      const row = Object.fromEntries(Object.entries(hit).filter(([k]) => k === 'id' || options.columns.includes(k)));
      return ok({ row, secret: options.secretColumn ? HASH : null, snapshotVersion: SNAPSHOT });
    },
    async rolesOf(keys: readonly unknown[]) {
      db.reads++;
      return new Map(
        keys
          .map(String)
          .filter((k) => roleRows.has(k))
          .map((k) => [k, roleRows.get(k)!]),
      );
    },
    close: async () => undefined,
  };
  return db;
};

interface Recorder extends MembershipWriter {
  calls: string[];
}

const recorder = (failGroups: string[] = []): Recorder => {
  const calls: string[] = [];
  return {
    calls,
    async addUserToGroup(_pool, username, group) {
      calls.push(`add ${username} ${group}`);
      if (failGroups.includes(group))
        throw Object.assign(new Error(`Group ${group} not found.`), { name: 'ResourceNotFoundException' });
    },
    async deleteAttribute(_pool, username, attribute) {
      calls.push(`delete ${username} ${attribute}`);
    },
  };
};

const signedIn = (
  userName: string,
  attributes: Record<string, string> = { [MARKER]: 'pending' },
): PostAuthenticationEvent => ({
  version: '1',
  triggerSource: 'PostAuthentication_Authentication',
  userPoolId: 'pool',
  userName,
  request: { userAttributes: { sub: 'x', email: 'ann@example.com', ...attributes }, newDeviceUsed: false },
  response: {},
});

beforeAll(async () => {
  mapping = compileMapping(await loadMapping(EXAMPLE));
  const spec = mapping.spec;
  const groups = { ...spec.groups!, column: 'roles_csv', separator: ',' };
  delete groups.versionAttribute;
  columnMapping = compileMapping({ ...spec, groups } as MappingSpec);
});

describe('Post Authentication trigger', () => {
  const handler = (
    db: LegacyDatabase,
    cognito: MembershipWriter,
    logs: Record<string, unknown>[] = [],
    m = mapping,
    budgetMs?: number,
  ) =>
    createPostAuthenticationHandler({
      db,
      mapping: m,
      pendingGroupsAttribute: MARKER,
      cognito,
      log: (e) => logs.push(e),
      ...(budgetMs ? { budgetMs } : {}),
    });

  test('a user without the marker (every sign-in after the first) costs no database read and no Cognito call', async () => {
    const db = memoryDb();
    const cognito = recorder();
    const event = signedIn('legacy_1', {});
    expect(await handler(db, cognito)(event)).toBe(event);
    expect(db.reads).toBe(0);
    expect(cognito.calls).toEqual([]);
  });

  test('a marked user outside the cohort gets nothing done: no database read, no Cognito call, the marker stays', async () => {
    const inCohort = compileMapping({ ...mapping.spec, cohort: { allow: ['legacy_2'] } });
    const db = memoryDb();
    const cognito = recorder();
    const logs: Record<string, unknown>[] = [];
    const event = signedIn('legacy_1');
    expect(await handler(db, cognito, logs, inCohort)(event)).toBe(event);
    expect(db.reads).toBe(0);
    expect(cognito.calls).toEqual([]);
    expect(logs).toEqual([expect.objectContaining({ outcome: 'outside-cohort' })]);
    // The same user inside the cohort gets its groups.
    const widened = compileMapping({ ...mapping.spec, cohort: { allow: ['legacy_1', 'legacy_2'] } });
    await handler(db, cognito, [], widened)(event);
    expect(cognito.calls).toEqual(['add legacy_1 admin', 'add legacy_1 support', `delete legacy_1 ${MARKER}`]);
  });

  test('a just-migrated user gets the mapped groups of its role rows, then the marker is deleted', async () => {
    const cognito = recorder();
    const logs: Record<string, unknown>[] = [];
    const event = signedIn('legacy_1');
    expect(await handler(memoryDb(), cognito, logs)(event)).toBe(event);
    // auditor has no group in groups.map (unmapped: ignore); the marker goes last.
    expect(cognito.calls).toEqual(['add legacy_1 admin', 'add legacy_1 support', `delete legacy_1 ${MARKER}`]);
    expect(logs).toEqual([expect.objectContaining({ outcome: 'added', groups: 2, failed: 0, refusedRoles: 0 })]);
    expect(JSON.stringify(logs)).not.toMatch(/legacy_1|ann/);
  });

  test('groups from a users column and from the roles table are added together', async () => {
    const cognito = recorder();
    await handler(memoryDb(), cognito, [], columnMapping)(signedIn('legacy_1'));
    expect(cognito.calls.sort()).toEqual([
      'add legacy_1 admin',
      'add legacy_1 customer',
      'add legacy_1 support',
      `delete legacy_1 ${MARKER}`,
    ]);
  });

  test('an email-as-username pool: the legacy key comes from the key attribute, memberships go to the Cognito username', async () => {
    const emailMapping = compileMapping(
      await loadMapping(join(import.meta.dirname, '../../examples/mapping-email-username.yaml')),
    );
    const sub = '6f1c2a9e-0000-4000-8000-000000000001';
    const cognito = recorder();
    await handler(
      memoryDb(),
      cognito,
      [],
      emailMapping,
    )(signedIn(sub, { [MARKER]: 'pending', 'custom:legacy_id': '1' }));
    expect(cognito.calls).toEqual([`add ${sub} admin`, `add ${sub} support`, `delete ${sub} ${MARKER}`]);
    // Without the key attribute there is no legacy user to follow: the marker goes, nothing is added.
    const bare = recorder();
    await handler(memoryDb(), bare, [], emailMapping)(signedIn(sub));
    expect(bare.calls).toEqual([`delete ${sub} ${MARKER}`]);
  });

  test('a failed membership keeps the marker (the next sign-in retries) and never fails the sign-in', async () => {
    const cognito = recorder(['support']);
    const logs: Record<string, unknown>[] = [];
    const event = signedIn('legacy_1');
    expect(await handler(memoryDb(), cognito, logs)(event)).toBe(event);
    expect(cognito.calls).toEqual(['add legacy_1 admin', 'add legacy_1 support']);
    expect(logs).toEqual([
      expect.objectContaining({
        outcome: 'partial',
        failed: 1,
        failures: [{ group: 'support', error: 'ResourceNotFoundException' }],
      }),
    ]);
  });

  test('a database that fails or does not answer: the event comes back within the budget, with no Cognito call', async () => {
    for (const behaviour of ['fail', 'hang'] as const) {
      const cognito = recorder();
      const logs: Record<string, unknown>[] = [];
      const started = Date.now();
      const event = signedIn('legacy_1');
      expect(await handler(memoryDb(behaviour), cognito, logs, mapping, 100)(event)).toBe(event);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(cognito.calls).toEqual([]);
      expect(logs).toEqual([expect.objectContaining({ outcome: 'failed' })]);
      expect(JSON.stringify(logs)).not.toContain('connection refused'); // error names only, never messages
    }
  });

  test('a marked user with no legacy row (deleted since) or no groups left: the marker is deleted, nothing added', async () => {
    const cognito = recorder();
    const logs: Record<string, unknown>[] = [];
    await handler(memoryDb(), cognito, logs)(signedIn('legacy_404'));
    await handler(memoryDb(), cognito, logs)(signedIn('legacy_2'));
    expect(cognito.calls).toEqual([`delete legacy_404 ${MARKER}`, `delete legacy_2 ${MARKER}`]);
    expect(logs.map((l) => l.outcome)).toEqual(['no-legacy-user', 'added']);
  });

  test('other trigger sources are returned untouched', async () => {
    const cognito = recorder();
    const event = { ...signedIn('legacy_1'), triggerSource: 'PostAuthentication_Something' };
    expect(await handler(memoryDb(), cognito)(event)).toBe(event);
    expect(cognito.calls).toEqual([]);
  });
});

describe('User Migration trigger: the pending-groups marker', () => {
  const migrate = async (userName: string, db: LegacyDatabase, pendingGroupsAttribute?: string) => {
    const h = createMigrationHandler({
      db,
      mapping,
      passwordColumn: 'password_hash',
      loginColumns: [],
      log: () => undefined,
      ...(pendingGroupsAttribute ? { pendingGroupsAttribute } : {}),
    });
    return (
      await h({ triggerSource: 'UserMigration_Authentication', userName, request: { password: 'pw' }, response: {} })
    ).response.userAttributes;
  };

  test('only a user with groups is marked, and only when the attribute is configured', async () => {
    expect((await migrate('legacy_1', memoryDb(), MARKER))[MARKER]).toBe('pending');
    expect(await migrate('legacy_2', memoryDb(), MARKER)).not.toHaveProperty(MARKER);
    expect(await migrate('legacy_1', memoryDb())).not.toHaveProperty(MARKER);
  });

  test('a roles read that fails marks the user and still migrates it', async () => {
    const db = memoryDb();
    db.rolesOf = async () => {
      throw new Error('roles table unavailable');
    };
    const attributes = await migrate('legacy_1', db, MARKER);
    expect(attributes[MARKER]).toBe('pending');
    expect(attributes['custom:cdc_version']).toBe(SNAPSHOT);
  });
});

describe('trigger configuration', () => {
  const base = { LEGACY_DATABASE_URL: 'postgres://u@db/legacy', MAPPING_PATH: EXAMPLE };

  test('the Post Authentication trigger needs the marker attribute, a custom one the sync does not write', async () => {
    await expect(postAuthenticationConfigFromEnv(base)).rejects.toMatchObject({
      issues: [{ path: 'PENDING_GROUPS_ATTRIBUTE' }],
    });
    for (const bad of ['email', 'custom:cdc_version', 'custom:cdc_groups', 'custom:loyalty_tier']) {
      await expect(postAuthenticationConfigFromEnv({ ...base, PENDING_GROUPS_ATTRIBUTE: bad })).rejects.toMatchObject({
        issues: [{ path: 'PENDING_GROUPS_ATTRIBUTE' }],
      });
    }
    const config = await postAuthenticationConfigFromEnv({
      ...base,
      PENDING_GROUPS_ATTRIBUTE: MARKER,
      COGNITO_ENDPOINT: 'http://127.0.0.1:9229',
    });
    expect(config).toMatchObject({
      pendingGroupsAttribute: MARKER,
      cognitoEndpoint: 'http://127.0.0.1:9229',
      table: 'users',
    });
  });

  test('a mapping that derives no groups: the migration trigger marks nobody, the Post Authentication trigger refuses to start', async () => {
    const spec = parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
    delete spec.groups;
    delete spec.rolesTable;
    const env = {
      LEGACY_DATABASE_URL: base.LEGACY_DATABASE_URL,
      MAPPING_JSON: JSON.stringify(spec),
      PENDING_GROUPS_ATTRIBUTE: MARKER,
    };
    expect((await lambdaConfigFromEnv(env)).pendingGroupsAttribute).toBeUndefined();
    await expect(postAuthenticationConfigFromEnv(env)).rejects.toMatchObject({ issues: [{ path: 'MAPPING_PATH' }] });
  });
});
