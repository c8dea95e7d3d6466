// Pools whose users sign in with their email or their phone number as username
// (UsernameAttributes), through the real stack: PostgreSQL -> Debezium -> Kafka -> cognito-sync
// -> moto's Cognito (cognito-local does not implement phone-as-username pools, and lets two users
// share an email: docs/cognito-emulators.md). Cognito names each user itself; the sync finds
// them by the immutable custom:legacy_id (src/adapters/cognito/pool-usernames.ts).
// Each shape: users and roles created while the sync runs; the sync stops; updates (an email
// change, a phone change), a role added and one removed, a user deleted while it is down; a new
// process (empty index: it lists the pool) applies them; then `reconcile` finds the pool equal to
// the legacy rows, and `check-pool` has no problem with the pool's shape.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AdminListGroupsForUserCommand,
  CreateGroupCommand,
  CreateUserPoolCommand,
  ListUsersCommand,
  type CognitoIdentityProviderClient,
  type UserType,
} from '@aws-sdk/client-cognito-identity-provider';
import type { Admin } from 'kafkajs';
import type pg from 'pg';
import { parse, stringify } from 'yaml';
import { fetchLag, totalLag } from '../../src/adapters/kafka/lag.js';
import { compileConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/ops/logger.js';
import { SyncService } from '../../src/runtime/sync-service.js';
import { runCli, writeMigrationConfig } from './support/migration-cli.js';
import {
  REPO,
  cognitoClient,
  endpointOf,
  pgPool,
  runId,
  stackEnv,
  waitFor,
  type StackEnv,
  kafkaAdmin,
  pinGroupAtEnd,
} from './support/stack.js';

const TOPICS = ['legacy.public.users', 'legacy.public.user_roles'];

let env: StackEnv;
let db: pg.Pool;
let moto: CognitoIdentityProviderClient;
let admin: Admin;
let endpoint: string;
const id = runId();
const schemas: string[] = [];

type Shape = 'email' | 'phone_number';

/** A pool of that shape with the example mapping's custom attributes (legacy_id immutable) and groups. */
async function createShapedPool(shape: Shape): Promise<string> {
  const out = await moto.send(
    new CreateUserPoolCommand({
      PoolName: `e2e-shape-${shape}-${id}`,
      UsernameAttributes: [shape],
      Schema: [
        { Name: 'legacy_id', AttributeDataType: 'String', Mutable: false },
        ...['cdc_version', 'cdc_groups', 'loyalty_tier', 'marketing_opt_in', 'customer_no'].map((n) => ({
          Name: n,
          AttributeDataType: 'String' as const,
          Mutable: true,
          StringAttributeConstraints: { MinLength: '0', MaxLength: '2048' },
        })),
      ],
    }),
  );
  const poolId = out.UserPool!.Id!;
  for (const group of ['admin', 'support', 'customer'])
    await moto.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: group }));
  return poolId;
}

/** examples/mapping-email-username.yaml, with the phone number as username for that shape. */
function mappingFor(shape: Shape): string {
  const example = join(REPO, 'examples/mapping-email-username.yaml');
  if (shape === 'email') return example;
  const mapping = parse(readFileSync(example, 'utf8')) as { username: Record<string, unknown> };
  mapping.username['signInAttribute'] = 'phone_number';
  const path = join(REPO, '.stack', `shape-phone-mapping-${id}.yaml`);
  writeFileSync(path, stringify(mapping));
  return path;
}

/** What went wrong in this file's syncs (retries, dead letters), for the assertions and for a timeout's message. */
const trouble: string[] = [];

async function startSync(poolId: string, mapping: string, groupId: string) {
  const service = new SyncService({
    events: {
      retry: (e) => trouble.push(`retry ${e.stage}: ${e.error.message}`),
      dlq: (e) => trouble.push(`dlq ${e.topic}:${e.partition}@${e.offset} ${e.stage}: ${e.error.message}`),
    },
    config: compileConfig({
      kafka: { brokers: env.KAFKA_BROKERS.split(','), groupId, topics: TOPICS, fromBeginning: false },
      format: 'json',
      cognito: {
        userPoolId: poolId,
        region: env.COGNITO_REGION,
        endpoint,
        rates: { UserCreation: 200, UserUpdate: 200, UserRead: 500, UserList: 100, UserResourceUpdate: 200 },
      },
      mapping,
      dlq: { topic: `shapes.dlq.${id}` },
      ops: { port: 0 },
      log: { level: 'warn' },
    }),
    logger: createLogger({ level: 'warn' }),
  });
  await service.start();
  await waitFor('the consumer to join and get partitions', async () => service.ready || !service.healthy, 90_000);
  return service;
}

async function caughtUp(groupId: string): Promise<void> {
  await waitFor(
    `group ${groupId} to commit every partition to its end`,
    async () => {
      const lags = await fetchLag(admin, groupId, TOPICS);
      if (totalLag(lags) === 0) return true;
      throw new Error(
        `${trouble.slice(-3).join('; ')} lag ${lags
          .filter((l) => l.lag > 0)
          .map((l) => `${l.topic}:${l.partition}=${l.lag}`)
          .join(' ')}`,
      );
    },
    120_000,
    500,
  );
}

const attributesOf = (u: UserType): Record<string, string> =>
  Object.fromEntries((u.Attributes ?? []).map((a) => [a.Name!, a.Value ?? '']));

/** Every user of the pool by its legacy key (the immutable custom:legacy_id). */
async function poolByKey(
  poolId: string,
): Promise<Map<string, { username: string; attributes: Record<string, string> }>> {
  const out = new Map<string, { username: string; attributes: Record<string, string> }>();
  let token: string | undefined;
  do {
    const page = await moto.send(new ListUsersCommand({ UserPoolId: poolId, Limit: 60, PaginationToken: token }));
    for (const u of page.Users ?? []) {
      const attributes = attributesOf(u);
      out.set(attributes['custom:legacy_id'] ?? `?${u.Username}`, { username: u.Username!, attributes });
    }
    token = page.PaginationToken;
  } while (token);
  return out;
}

async function groupsOf(poolId: string, username: string): Promise<string[]> {
  const out = await moto.send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: username }));
  return (out.Groups ?? []).map((g) => g.GroupName!).sort();
}

/** The legacy rows of this test (users and their roles), copied into a schema of their own for `reconcile`. */
async function legacySnapshot(name: string, prefix: string): Promise<{ users: string; roles: string }> {
  const schema = `${name}_${id}`;
  await db.query(`CREATE SCHEMA ${schema}`);
  schemas.push(schema);
  await db.query(`CREATE TABLE ${schema}.users (LIKE public.users INCLUDING DEFAULTS)`);
  await db.query(`ALTER TABLE ${schema}.users ADD PRIMARY KEY (id)`);
  await db.query(`INSERT INTO ${schema}.users SELECT * FROM public.users WHERE username LIKE $1`, [`${prefix}%`]);
  await db.query(`CREATE TABLE ${schema}.user_roles (LIKE public.user_roles INCLUDING DEFAULTS)`);
  await db.query(
    `INSERT INTO ${schema}.user_roles SELECT r.* FROM public.user_roles r JOIN ${schema}.users u ON u.id = r.user_id`,
  );
  return { users: `${schema}.users`, roles: `${schema}.user_roles` };
}

beforeAll(async () => {
  env = stackEnv();
  endpoint = endpointOf(env, 'moto');
  db = pgPool(env);
  moto = cognitoClient(env, endpoint);
  admin = await kafkaAdmin(env, 'e2e-pool-shapes');
  // The roles topic exists once Debezium saw a role row; the consumer needs it from the start.
  await admin.createTopics({ topics: [{ topic: 'legacy.public.user_roles', numPartitions: 3 }] });
});

afterAll(async () => {
  await admin?.disconnect();
  for (const schema of schemas) await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
});

describe.each<Shape>(['email', 'phone_number'])('a pool whose users sign in with their %s as username', (shape) => {
  test('created, updated while the sync is down, a role changed, a user deleted: reconcile finds it equal to the legacy rows', async () => {
    const poolId = await createShapedPool(shape);
    const mapping = mappingFor(shape);
    const tag = shape === 'email' ? 'e' : 'p';
    const prefix = `shape.${tag}.${id}.`;
    const group = `e2e-shape-${tag}-${id}`;
    const phoneOf = (i: number, n = 0) =>
      `+4915${String(Number.parseInt(id.slice(-5), 36) % 1_000_000).padStart(6, '0')}${n}${i}`;
    const emailOf = (i: number, variant = '') => `shape.${tag}${variant}.${id}.${i}@example.com`;

    await pinGroupAtEnd(admin, group, TOPICS);
    const first = await startSync(poolId, mapping, group);
    const ids: number[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const { rows } = await db.query<{ id: string }>(
          `INSERT INTO users (username, email, email_verified, phone, given_name, family_name, locale, status, loyalty_tier, marketing_opt_in)
           VALUES ($1, $2, $3, $4, $5, 'Shape', 'de-DE', 'active', 'silver', true) RETURNING id`,
          [`${prefix}${i}`, emailOf(i), i !== 2, phoneOf(i), `Given${i}`],
        );
        ids.push(Number(rows[0]!.id));
      }
      await db.query(`INSERT INTO user_roles (user_id, role) VALUES ($1, 'admin'), ($2, 'support'), ($2, 'customer')`, [
        ids[0],
        ids[1],
      ]);
      await waitFor(
        `the five users in the ${shape} pool`,
        async () => (await poolByKey(poolId)).size === 5,
        90_000,
        500,
      );
      await caughtUp(group);
    } finally {
      await first.stop();
    }

    const before = await poolByKey(poolId);
    const subOf = (i: number): string => before.get(String(ids[i]))!.username;
    // Cognito named them: UUIDs, not the legacy keys, not the emails.
    for (let i = 0; i < 5; i++) expect(subOf(i)).toMatch(/^[0-9a-f-]{36}$/);
    expect(before.get(String(ids[1]))!.attributes.email).toBe(emailOf(1));

    // While the sync is down: an email change (the username, in an email pool), a phone change
    // (the username, in a phone pool), a rename, a role added and one removed, a user deleted.
    await db.query(`UPDATE users SET email = $1 WHERE id = $2`, [emailOf(1, 'new'), ids[1]]);
    await db.query(`UPDATE users SET phone = $1, given_name = 'Renamed' WHERE id = $2`, [phoneOf(3, 9), ids[3]]);
    await db.query(`INSERT INTO user_roles (user_id, role) VALUES ($1, 'admin')`, [ids[2]]);
    await db.query(`DELETE FROM user_roles WHERE user_id = $1 AND role = 'customer'`, [ids[1]]);
    await db.query('DELETE FROM users WHERE id = $1', [ids[4]]);

    const second = await startSync(poolId, mapping, group);
    try {
      await waitFor('the changes made while the sync was down', async () => {
        const now = await poolByKey(poolId);
        return (
          now.size === 4 &&
          now.get(String(ids[1]))?.attributes.email === emailOf(1, 'new') &&
          now.get(String(ids[3]))?.attributes.given_name === 'Renamed'
        );
      });
      await caughtUp(group);
    } finally {
      await second.stop();
    }

    expect(trouble.filter((t) => t.startsWith('dlq'))).toEqual([]);
    const after = await poolByKey(poolId);
    // The same Cognito users, not new ones: an email or phone change keeps the person.
    expect(after.get(String(ids[1]))!.username).toBe(subOf(1));
    expect(after.get(String(ids[1]))!.attributes.email_verified).toBe('true'); // as the legacy row says
    expect(after.get(String(ids[3]))!.username).toBe(subOf(3));
    expect(after.get(String(ids[3]))!.attributes.phone_number).toBe(phoneOf(3, 9));
    expect(after.get(String(ids[2]))!.attributes.email_verified).toBe('false');
    expect(after.has(String(ids[4]))).toBe(false);
    expect(await groupsOf(poolId, subOf(0))).toEqual(['admin']);
    expect(await groupsOf(poolId, subOf(1))).toEqual(['support']);
    expect(await groupsOf(poolId, subOf(2))).toEqual(['admin']);

    // reconcile: the legacy rows of this test against the pool, by legacy key.
    const legacy = await legacySnapshot(`shape_${tag}`, prefix);
    const config = writeMigrationConfig(env, `shape-reconcile-${tag}-${id}`, {
      poolId,
      table: legacy.users,
      rolesTable: legacy.roles,
      mapping,
      endpoint,
    });
    const reconciled = await runCli(['reconcile', '--config', config, '--json']);
    const report = (
      JSON.parse(reconciled.out) as {
        before: {
          legacy: { users: number };
          cognito: { indexed: number; foreign: number };
          drift: number;
          memberships: { compared: boolean };
        };
      }
    ).before;
    expect(report).toMatchObject({ legacy: { users: 4 }, cognito: { indexed: 4, foreign: 0 }, drift: 0 });
    expect(report.memberships.compared).toBe(true);
    expect(reconciled.code).toBe(0);

    // check-pool: the pool's shape is what the mapping says; the key attribute is there, immutable.
    const checked = await runCli(['check-pool', '--config', config, '--json']);
    const findings = (JSON.parse(checked.out) as { findings: { code: string; severity: string }[] }).findings;
    expect(findings.filter((f) => f.severity === 'problem')).toEqual([]);
    expect(checked.code).toBe(0);
  });
});
