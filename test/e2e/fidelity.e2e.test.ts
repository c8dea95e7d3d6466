// Fidelity through the real stack (issue #19, #16.3, #12.6): PostgreSQL -> Debezium -> Kafka ->
// cognito-sync (SyncService in process) -> cognito-local. Users and role rows are this file's
// own (fresh ids from the users sequence); one pool for the file; every Cognito write is logged
// so that a replay by a new consumer group can be checked call by call.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import {
  AdminListGroupsForUserCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import type pg from 'pg';
import type { CognitoGateway } from '../../src/adapters/cognito/cognito-gateway.js';
import { compileConfig } from '../../src/config/load-config.js';
import type { CognitoCall } from '../../src/core/types.js';
import { createLogger } from '../../src/ops/logger.js';
import { SyncService } from '../../src/runtime/sync-service.js';
import {
  REPO,
  cognitoClient,
  createPool,
  getUser,
  pgPool,
  runId,
  stackEnv,
  waitFor,
  type StackEnv,
} from './support/stack.js';

const USERS = 'legacy.public.users';
const ROLES = 'legacy.public.user_roles';
const TOPICS = [USERS, ROLES];

let env: StackEnv;
let db: pg.Pool;
let cognito: CognitoIdentityProviderClient;
let admin: Admin;
let poolId: string;
/** Where this file's data starts in the shared topics (the replay starts there). */
let start: Map<string, { partition: number; offset: string }[]>;
const id = runId();
const usernameOf = (legacyId: number): string => `legacy_${legacyId}`;

/** What the legacy rows of this file's users say Cognito must end with (for the replay check). */
const expected = new Map<string, { enabled: boolean; groups: string[] }>();

interface Sync {
  service: SyncService;
  calls: CognitoCall[];
  groupId: string;
  /** Records processed, by topic. */
  records: Map<string, number>;
}

/** `fetchMaxBytes`: 1024 makes batches of about one record (every batch boundary). */
async function startSync(groupId: string, fetchMaxBytes?: number): Promise<Sync> {
  const calls: CognitoCall[] = [];
  const records = new Map<string, number>();
  const config = compileConfig({
    kafka: {
      brokers: env.KAFKA_BROKERS.split(','),
      groupId,
      topics: TOPICS,
      fromBeginning: false,
      ...(fetchMaxBytes === undefined ? {} : { fetchMaxBytes }),
    },
    format: 'json',
    cognito: {
      userPoolId: poolId,
      region: env.COGNITO_REGION,
      endpoint: env.COGNITO_ENDPOINT,
      rates: { UserCreation: 200, UserUpdate: 200, UserRead: 500, UserResourceUpdate: 200 },
    },
    mapping: join(REPO, 'examples/mapping.yaml'),
    dlq: { topic: `fidelity.dlq.${id}`, tolerance: 'all' },
    ops: { port: 0 },
    log: { level: 'warn' },
  });
  const service = new SyncService({
    config,
    logger: createLogger({ level: 'warn' }),
    events: { record: (e) => void records.set(e.topic, (records.get(e.topic) ?? 0) + 1) },
    decorateGateway: (gateway: CognitoGateway): CognitoGateway => ({
      getUser: (username, withGroups) => gateway.getUser(username, withGroups),
      execute: (call) => (calls.push(call), gateway.execute(call)),
    }),
  });
  await service.start();
  await waitFor('the consumer to join and get partitions', async () => service.ready || !service.healthy, 90_000);
  return { service, calls, groupId, records };
}

/**
 * Waits until the group has committed at least `ends` on every partition (the shared topics
 * move on with other tests' rows, so "no lag" may never hold; rows waiting for users that never
 * come hold a commit back for processing.missingUserTimeoutMs).
 */
async function committedPast(
  groupId: string,
  ends: Map<string, { partition: number; offset: string }[]>,
): Promise<void> {
  await waitFor(
    `group ${groupId} to commit past this file's data`,
    async () => {
      for (const [topic, partitions] of ends) {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        for (const { partition, offset } of partitions) {
          const at = committed?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
          if (BigInt(at) < BigInt(offset)) return false;
        }
      }
      return true;
    },
    300_000,
    1000,
  );
}

async function topicEnds(): Promise<Map<string, { partition: number; offset: string }[]>> {
  const out = new Map<string, { partition: number; offset: string }[]>();
  for (const topic of TOPICS)
    out.set(
      topic,
      (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, offset: o.high })),
    );
  return out;
}

async function groupsOf(username: string): Promise<string[]> {
  const out = await cognito.send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: username }));
  return (out.Groups ?? []).map((g) => g.GroupName!).sort();
}

async function transaction(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await work(client);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

const USER_COLUMNS = `username, email, email_verified, given_name, family_name, locale, status, loyalty_tier, marketing_opt_in`;
const userValues = (name: string, status = 'active'): unknown[] => [
  `${name}.${id}`,
  `${name}.${id}@example.com`,
  true,
  'Fidel',
  'Ity',
  'de-DE',
  status,
  'gold',
  true,
];

async function insertUser(client: pg.PoolClient | pg.Pool, name: string, status = 'active'): Promise<number> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO users (${USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    userValues(name, status),
  );
  return Number(rows[0]!.id);
}

async function insertRoles(client: pg.PoolClient | pg.Pool, legacyId: number, roles: string[]): Promise<void> {
  for (const role of roles)
    await client.query('INSERT INTO user_roles (user_id, role) VALUES ($1, $2)', [legacyId, role]);
}

let live: Sync;

beforeAll(async () => {
  env = stackEnv();
  db = pgPool(env);
  cognito = cognitoClient(env);
  const kafka = new Kafka({
    brokers: env.KAFKA_BROKERS.split(','),
    clientId: `fidelity-${id}`,
    logLevel: logLevel.NOTHING,
  });
  admin = kafka.admin();
  await admin.connect();
  poolId = await createPool(cognito, `e2e-fidelity-${id}`);
  start = await topicEnds();
  live = await startSync(`e2e-fidelity-${id}`);
});

afterAll(async () => {
  await live?.service.stop();
  await admin?.disconnect();
  await db?.end();
});

describe('memberships follow the role rows that grant them', () => {
  test("two role rows map to one group ('support', ' support '): revoking one keeps the membership", async () => {
    let legacyId = 0;
    await transaction(async (c) => {
      legacyId = await insertUser(c, 'tworoles');
      await insertRoles(c, legacyId, ['support', ' support ', 'admin']);
    });
    const username = usernameOf(legacyId);
    await waitFor('admin and support', async () => (await groupsOf(username)).join(',') === 'admin,support', 90_000);

    await db.query(`DELETE FROM user_roles WHERE user_id = $1 AND role IN ('support', 'admin')`, [legacyId]);
    await waitFor('admin removed', async () => (await groupsOf(username)).join(',') === 'support', 90_000);
    // Both revokes applied (their rows may sit on different partitions): the support row's too.
    await waitFor(
      'the support row revoked',
      async () => (await getUser(cognito, poolId, username))?.['custom:cdc_groups']?.includes(';support@-'),
      90_000,
    );
    expect(await groupsOf(username)).toEqual(['support']);
    expect(live.calls.filter((c) => c.username === username && c.api === 'AdminRemoveUserFromGroup')).toEqual([
      { api: 'AdminRemoveUserFromGroup', username, group: 'admin' },
    ]);

    await db.query(`DELETE FROM user_roles WHERE user_id = $1`, [legacyId]);
    await waitFor('support removed with its last row', async () => (await groupsOf(username)).length === 0, 90_000);
    expected.set(username, { enabled: true, groups: [] });
  });

  test('delete and re-insert of the same id with its role rows in one transaction, 30 times: the new users have their groups', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 30; i++) {
      await transaction(async (c) => {
        const legacyId = await insertUser(c, `reinsert${i}`);
        await insertRoles(c, legacyId, ['admin', 'customer']);
        ids.push(legacyId);
      });
    }
    await waitFor(
      'the 30 first incarnations with their groups',
      async () => {
        for (const legacyId of ids)
          if ((await groupsOf(usernameOf(legacyId)).catch(() => [])).length !== 2) return false;
        return true;
      },
      120_000,
      1000,
    );
    for (const [i, legacyId] of ids.entries()) {
      const suspended = i % 3 === 0;
      // Some lose a role before: the old incarnation's revoke then never reaches the new user,
      // so only the delete can tell a replay that the old row's insert is not the new user's.
      if (i % 5 === 0) await db.query(`DELETE FROM user_roles WHERE user_id = $1 AND role = 'admin'`, [legacyId]);
      await transaction(async (c) => {
        await c.query('DELETE FROM users WHERE id = $1', [legacyId]); // cascades to its role rows
        const values = userValues(`reinsert${i}.again`, suspended ? 'suspended' : 'active');
        await c.query(`INSERT INTO users (id, ${USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [
          legacyId,
          ...values,
        ]);
        await insertRoles(c, legacyId, ['support', 'customer']);
      });
      expected.set(usernameOf(legacyId), { enabled: !suspended, groups: ['customer', 'support'] });
    }
    await waitFor(
      'the re-inserted users',
      async () => {
        for (const legacyId of ids) {
          const u = await getUser(cognito, poolId, usernameOf(legacyId));
          if (u?.preferred_username?.includes('.again.') !== true) return false;
        }
        return true;
      },
      180_000,
      1000,
    );
    const wrongOnes = async (): Promise<string[]> => {
      const wrong: string[] = [];
      for (const [i, legacyId] of ids.entries()) {
        const username = usernameOf(legacyId);
        const groups = (await groupsOf(username)).join(',');
        const enabled = (await getUser(cognito, poolId, username))?.enabled;
        if (groups !== 'customer,support' || enabled !== String(i % 3 !== 0))
          wrong.push(`${username}: ${groups} ${enabled}`);
      }
      return wrong;
    };
    // Role rows of other partitions may still be on their way: wait (bounded) for them to settle.
    const wrong = await waitFor(
      'the 30 users to settle',
      async () => ((await wrongOnes()).length === 0 ? [] : null),
      60_000,
      2000,
    ).catch(() => wrongOnes());
    expect(wrong).toEqual([]);
  });

  test('a suspended user and role changes, then a replay of this file’s history by a new group: no enable of a suspended user, no add of a membership the end state lacks', async () => {
    let legacyId = 0;
    await transaction(async (c) => {
      legacyId = await insertUser(c, 'flapper');
      await insertRoles(c, legacyId, ['admin']);
    });
    await db.query(`UPDATE users SET status = 'suspended' WHERE id = $1`, [legacyId]);
    await db.query(`DELETE FROM user_roles WHERE user_id = $1`, [legacyId]);
    await insertRoles(db, legacyId, ['customer']);
    await db.query(`UPDATE users SET family_name = 'Later' WHERE id = $1`, [legacyId]);
    const username = usernameOf(legacyId);
    expected.set(username, { enabled: false, groups: ['customer'] });
    await waitFor(
      'the flapper in its end state',
      async () => {
        const u = await getUser(cognito, poolId, username);
        return (
          u?.family_name === 'Later' && u.enabled === 'false' && (await groupsOf(username)).join(',') === 'customer'
        );
      },
      90_000,
    );

    // A new group from where this file's data starts (not the whole shared topics).
    const groupId = `e2e-fidelity-replay-${id}`;
    for (const [topic, partitions] of start) await admin.setOffsets({ groupId, topic, partitions });
    const ends = await topicEnds();
    // Batches of one record: a replay must not flap whatever its batch boundaries.
    const replay = await startSync(groupId, 1024);
    try {
      await committedPast(groupId, ends);
    } finally {
      await replay.service.stop();
    }
    // It did replay this file's rows (30 users created, deleted and created again; their role rows).
    expect(replay.records.get(USERS) ?? 0).toBeGreaterThanOrEqual(90);
    expect(replay.records.get(ROLES) ?? 0).toBeGreaterThanOrEqual(120);
    const mine = replay.calls.filter((c) => expected.has(c.username));
    const enables = mine.filter((c) => c.api === 'AdminEnableUser' && expected.get(c.username)?.enabled === false);
    const adds = mine.filter(
      (c) => c.api === 'AdminAddUserToGroup' && !expected.get(c.username)?.groups.includes(c.group),
    );
    expect({ enables, adds }).toEqual({ enables: [], adds: [] });
    for (const [user, want] of expected) {
      expect({ user, enabled: (await getUser(cognito, poolId, user))?.enabled, groups: await groupsOf(user) }).toEqual({
        user,
        enabled: String(want.enabled),
        groups: want.groups,
      });
    }
  });
});
