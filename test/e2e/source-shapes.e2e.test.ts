// Shapes of legacy schemas and connector settings that used to be misread silently (issue #16),
// end to end through the real stack: PostgreSQL -> Debezium (a connector of this file's own,
// registered through the Connect REST API, with its own slot, publication and topic prefix)
// -> Kafka -> cognito-sync -> cognito-local. Tables are this file's own too.
//   - a roles table with a surrogate key: refused at start (check-source, run) naming the
//     ALTER TABLE; once REPLICA IDENTITY FULL, a revoked and a changed role leave Cognito
//   - the ExtractNewRecordState form under its default settings: refused record by record
//     (DLQ naming the setting), never applied half-way
//   - a primary-key change when the username comes from a non-key column: the user is kept
//   - a user the sync creates can reset its password (ForgotPassword + ConfirmForgotPassword)
//     and sign in: it is left CONFIRMED, not FORCE_CHANGE_PASSWORD
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  ConfirmForgotPasswordCommand,
  CreateUserPoolClientCommand,
  ForgotPasswordCommand,
  InitiateAuthCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import type pg from 'pg';
import { stringify } from 'yaml';
import { fetchLag, totalLag } from '../../src/adapters/kafka/lag.js';
import { compileConfig } from '../../src/config/load-config.js';
import type { SyncError } from '../../src/errors.js';
import { createLogger } from '../../src/ops/logger.js';
import { SyncService } from '../../src/runtime/sync-service.js';
import { runCliProcess } from './support/cli-process.js';
import {
  cognitoClient,
  createPool,
  pgPool,
  runId,
  stackEnv,
  waitFor,
  type StackEnv,
  stackDir,
} from './support/stack.js';
import { AdminListGroupsForUserCommand } from '@aws-sdk/client-cognito-identity-provider';

const id = runId();
const USERS = `shp_users_${id}`;
const ROLES = `shp_roles_${id}`;
const LOGINS = `shp_logins_${id}`;
const dir = mkdtempSync(join(tmpdir(), 'source-shapes-'));

let env: StackEnv;
let db: pg.Pool;
let cognito: CognitoIdentityProviderClient;
let kafka: Kafka;
let admin: Admin;
const connectors: { name: string; slot: string; publication: string; prefix: string }[] = [];
const services: SyncService[] = [];

/** A Debezium PostgreSQL connector of this file's own; its topics made first with one partition. */
async function registerConnector(
  name: string,
  tables: string[],
  extra: Record<string, string> = {},
  partitions = 1,
): Promise<{ prefix: string }> {
  const prefix = name;
  const slot = `dbz_${name}`;
  const publication = `dbz_pub_${name}`;
  connectors.push({ name, slot, publication, prefix });
  const url = new URL(env.PG_URL);
  await admin.createTopics({
    topics: tables.map((t) => ({ topic: `${prefix}.public.${t}`, numPartitions: partitions, replicationFactor: 1 })),
    waitForLeaders: true,
  });
  const config = {
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'tasks.max': '1',
    'plugin.name': 'pgoutput',
    'database.hostname': url.hostname,
    'database.port': url.port,
    'database.user': decodeURIComponent(url.username),
    'database.password': decodeURIComponent(url.password),
    'database.dbname': url.pathname.slice(1),
    'topic.prefix': prefix,
    'table.include.list': tables.map((t) => `public.${t}`).join(','),
    'slot.name': slot,
    'publication.name': publication,
    'publication.autocreate.mode': 'filtered',
    'snapshot.mode': 'initial',
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'key.converter.schemas.enable': 'true',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable': 'true',
    'poll.interval.ms': '200',
    ...extra,
  };
  const put = await fetch(`${env.CONNECT_URL}/connectors/${name}/config`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(config),
  });
  if (!put.ok) throw new Error(`register ${name}: HTTP ${put.status} ${await put.text()}`);
  await waitFor(
    `connector ${name} RUNNING`,
    async () => {
      const r = await fetch(`${env.CONNECT_URL}/connectors/${name}/status`);
      if (!r.ok) return false;
      const s = (await r.json()) as { connector: { state: string }; tasks: { state: string; trace?: string }[] };
      const failed = s.tasks.find((t) => t.state === 'FAILED');
      if (failed) throw new Error(`connector ${name} FAILED: ${failed.trace?.slice(0, 500)}`);
      return s.connector.state === 'RUNNING' && s.tasks.length > 0 && s.tasks.every((t) => t.state === 'RUNNING');
    },
    120_000,
    250,
  );
  return { prefix };
}

async function deleteConnector(c: (typeof connectors)[number]): Promise<void> {
  const base = `${env.CONNECT_URL}/connectors/${c.name}`;
  if ((await fetch(base)).status !== 404) {
    await fetch(`${base}/stop`, { method: 'PUT' });
    await waitFor(
      `connector ${c.name} STOPPED`,
      async () =>
        ((await (await fetch(`${base}/status`)).json()) as { connector: { state: string } }).connector.state ===
        'STOPPED',
      60_000,
    ).catch(() => undefined);
    await fetch(`${base}/offsets`, { method: 'DELETE' });
    await fetch(base, { method: 'DELETE' });
    await waitFor(`connector ${c.name} gone`, async () => (await fetch(base)).status === 404, 60_000);
  }
  await waitFor(
    `slot ${c.slot} released`,
    async () =>
      (await db.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active', [c.slot])).rowCount === 0,
    60_000,
  ).catch(() => undefined);
  await db.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [c.slot]);
  await db.query(`DROP PUBLICATION IF EXISTS ${c.publication}`);
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${c.prefix}.`));
  if (topics.length > 0) await admin.deleteTopics({ topics });
}

function mappingFile(name: string, spec: Record<string, unknown>): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, stringify(spec));
  return path;
}

let rolesConnectorUp: Promise<unknown> | undefined;
/** The connector over USERS and ROLES, registered once (the sign-in test reads its users topic too). */
const rolesConnector = (): Promise<unknown> => (rolesConnectorUp ??= registerConnector(`shpr${id}`, [USERS, ROLES]));

const rolesMapping = (): string =>
  mappingFile('roles', {
    usersTable: USERS,
    rolesTable: { table: ROLES, userColumn: 'user_id', roleColumn: 'role', usersKeyColumn: 'id' },
    username: { template: 'shp_{id}' },
    attributes: { email: { column: 'email' } },
    groups: { managed: true, map: { admin: 'admin', support: 'support', customer: 'customer' }, unmapped: 'ignore' },
  });

function configFile(name: string, o: { mapping: string; topics: string[]; poolId: string; legacy: boolean }): string {
  const path = join(dir, `${name}.config.yaml`);
  writeFileSync(
    path,
    stringify({
      kafka: {
        brokers: env.KAFKA_BROKERS.split(','),
        groupId: `shapes-${name}-${id}`,
        topics: o.topics,
        fromBeginning: true,
      },
      cognito: { userPoolId: o.poolId, region: env.COGNITO_REGION, endpoint: env.COGNITO_ENDPOINT },
      mapping: o.mapping,
      dlq: { topic: `shapes.dlq.${name}.${id}` },
      ops: { port: 0 },
      log: { level: 'warn' },
      ...(o.legacy ? { legacyDatabase: { url: env.PG_URL } } : {}),
    }),
  );
  return path;
}

/** A SyncService in this process over `topics`; its dead letters are collected. */
async function startSync(o: { name: string; mapping: string; topics: string[]; poolId: string }) {
  const deadLetters: Error[] = [];
  const groupId = `shapes-${o.name}-${id}`;
  const config = compileConfig({
    kafka: { brokers: env.KAFKA_BROKERS.split(','), groupId, topics: o.topics, fromBeginning: true },
    cognito: {
      userPoolId: o.poolId,
      region: env.COGNITO_REGION,
      endpoint: env.COGNITO_ENDPOINT,
      rates: { UserCreation: 200, UserUpdate: 200, UserRead: 500, UserResourceUpdate: 200 },
    },
    mapping: o.mapping,
    dlq: { topic: `shapes.dlq.${o.name}.${id}`, tolerance: 'all' },
    ops: { port: 0 },
    log: { level: 'warn' },
  });
  const service = new SyncService({
    config,
    logger: createLogger({ level: 'warn' }),
    events: { dlq: (e) => deadLetters.push(e.error) },
  });
  services.push(service);
  await service.start();
  await waitFor('the consumer to get partitions', async () => service.ready || !service.healthy, 90_000);
  const caughtUp = (timeoutMs = 120_000): Promise<boolean> =>
    waitFor(
      `group ${groupId} caught up`,
      async () => totalLag(await fetchLag(admin, groupId, o.topics)) === 0,
      timeoutMs,
      300,
    );
  return { service, deadLetters, caughtUp };
}

async function groupsOf(poolId: string, username: string): Promise<string[] | null> {
  try {
    const out = await cognito.send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: username }));
    return (out.Groups ?? []).map((g) => g.GroupName!).sort();
  } catch (error) {
    if ((error as { name?: string }).name === 'UserNotFoundException') return null;
    throw error;
  }
}

async function subOf(poolId: string, username: string): Promise<string | null> {
  try {
    const out = await cognito.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: username }));
    return out.UserAttributes?.find((a) => a.Name === 'sub')?.Value ?? null;
  } catch (error) {
    if ((error as { name?: string }).name === 'UserNotFoundException') return null;
    throw error;
  }
}

beforeAll(async () => {
  env = stackEnv();
  db = pgPool(env);
  cognito = cognitoClient(env);
  kafka = new Kafka({
    clientId: `source-shapes-${id}`,
    brokers: env.KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  admin = kafka.admin();
  await admin.connect();
  await db.query(`CREATE TABLE ${USERS} (id bigint PRIMARY KEY, email text NOT NULL)`);
  await db.query(`CREATE TABLE ${ROLES} (id bigserial PRIMARY KEY, user_id bigint NOT NULL, role text NOT NULL)`);
  await db.query(`CREATE TABLE ${LOGINS} (id bigint PRIMARY KEY, login text NOT NULL, email text NOT NULL)`);
}, 60_000);

afterAll(async () => {
  for (const s of services) await s.stop().catch(() => undefined);
  for (const c of connectors)
    await deleteConnector(c).catch((e: unknown) => console.warn(`cleanup ${c.name}: ${String(e)}`));
  for (const t of [USERS, ROLES, LOGINS]) await db.query(`DROP TABLE IF EXISTS ${t}`).catch(() => undefined);
  await admin.disconnect();
  await db.end();
}, 180_000);

describe('a roles table with a surrogate key', () => {
  test('is refused at start with the ALTER TABLE named; with REPLICA IDENTITY FULL a revoked and a changed role leave Cognito', async () => {
    const poolId = await createPool(cognito, `shapes-roles-${id}`);
    const mapping = rolesMapping();
    const topics = [`shpr${id}.public.${USERS}`, `shpr${id}.public.${ROLES}`];
    const cfg = configFile('roles', { mapping, topics, poolId, legacy: true });
    const fix = `ALTER TABLE ${ROLES} REPLICA IDENTITY FULL;`;

    const check = await runCliProcess(['check-source', '--config', cfg], 60_000);
    expect(check.code).toBe(2);
    expect(check.stderr).toContain(fix);
    expect(check.stderr).toMatch(/revocation is lost/);
    const validate = await runCliProcess(['validate-config', '--config', cfg], 60_000);
    expect(validate.code).toBe(2);
    expect(validate.stderr).toContain(fix);

    const run = await runCliProcess(['run', '--config', cfg], 120_000);
    expect(run.code).toBe(2); // refused before consuming anything
    expect(run.stderr).toContain(fix);

    await db.query(fix);
    const fixed = await runCliProcess(['check-source', '--config', cfg], 60_000);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toMatch(/^ok: /);

    await db.query(`INSERT INTO ${USERS} (id, email) VALUES (1, 'r1@example.com')`);
    await db.query(`INSERT INTO ${ROLES} (user_id, role) VALUES (1, 'admin'), (1, 'customer')`);
    await rolesConnector();
    const sync = await startSync({ name: 'roles', mapping, topics, poolId });
    await waitFor(
      'user shp_1 in admin and customer',
      async () => JSON.stringify(await groupsOf(poolId, 'shp_1')) === JSON.stringify(['admin', 'customer']),
    );

    await db.query(`DELETE FROM ${ROLES} WHERE user_id = 1 AND role = 'admin'`); // revoke
    await db.query(`UPDATE ${ROLES} SET role = 'support' WHERE user_id = 1 AND role = 'customer'`); // change
    await waitFor(
      'admin revoked and customer changed to support',
      async () => JSON.stringify(await groupsOf(poolId, 'shp_1')) === JSON.stringify(['support']),
      90_000,
    );
    await sync.caughtUp();
    expect(await groupsOf(poolId, 'shp_1')).toEqual(['support']);
    expect(sync.deadLetters).toEqual([]);
  }, 400_000);
});

describe('the ExtractNewRecordState form under its default settings', () => {
  test('every row is refused to the DLQ naming the connector setting; nothing is half-applied', async () => {
    const poolId = await createPool(cognito, `shapes-unwrap-${id}`);
    const prefix = `shpu${id}`;
    await registerConnector(prefix, [LOGINS], {
      transforms: 'unwrap',
      'transforms.unwrap.type': 'io.debezium.transforms.ExtractNewRecordState',
    });
    await db.query(`INSERT INTO ${LOGINS} (id, login, email) VALUES (500, 'unwrap_${id}', 'u@example.com')`);
    await db.query(`UPDATE ${LOGINS} SET email = 'u2@example.com' WHERE id = 500`);
    await db.query(`DELETE FROM ${LOGINS} WHERE id = 500`);
    const mapping = mappingFile('unwrap', {
      usersTable: LOGINS,
      username: { template: 'shpu_{id}' },
      attributes: { email: { column: 'email' } },
    });
    const sync = await startSync({ name: 'unwrap', mapping, topics: [`${prefix}.public.${LOGINS}`], poolId });
    await waitFor('the rows refused', async () => sync.deadLetters.length >= 2, 90_000);
    await sync.caughtUp();
    // the create and the update are refused (the delete never reached the topic but as a tombstone)
    expect(sync.deadLetters.length).toBe(2);
    for (const error of sync.deadLetters) {
      expect((error as SyncError).stage).toBe('decode');
      expect(error.message).toContain('delete.tombstone.handling.mode=rewrite');
      expect(error.message).toContain('add.fields=op,lsn,source.ts_ms');
    }
    expect(await subOf(poolId, 'shpu_500')).toBeNull();
    // check-source reads the newest records and names the same settings
    const cfg = configFile('unwrap', { mapping, topics: [`${prefix}.public.${LOGINS}`], poolId, legacy: false });
    const check = await runCliProcess(['check-source', '--config', cfg], 120_000);
    expect(check.code).toBe(2);
    expect(check.stderr).toMatch(
      /problem: shpu\w+\.public\.shp_logins_\w+: ExtractNewRecordState row lacks .*Fix: in the Debezium connector: transforms\.<unwrap>\.delete\.tombstone\.handling\.mode=rewrite/,
    );
  }, 300_000);
});

describe('a primary-key change when the username comes from a non-key column', () => {
  test('keeps the user (REPLICA IDENTITY FULL; delete and create share one source position)', async () => {
    const poolId = await createPool(cognito, `shapes-keychange-${id}`);
    await db.query(`ALTER TABLE ${LOGINS} REPLICA IDENTITY FULL`);
    const prefix = `shpk${id}`;
    const login = `kc_${id}`;
    await db.query(`INSERT INTO ${LOGINS} (id, login, email) VALUES (7, $1, 'kc@example.com')`, [login]);
    // three partitions: the delete of key 7 and the create of key 1007 may land on different
    // ones and be applied in either order
    await registerConnector(prefix, [LOGINS], {}, 3);
    const mapping = mappingFile('keychange', {
      usersTable: LOGINS,
      username: { column: 'login' },
      attributes: { email: { column: 'email' } },
    });
    const topics = [`${prefix}.public.${LOGINS}`];
    const sync = await startSync({ name: 'keychange', mapping, topics, poolId });
    const sub = await waitFor('the user created', () => subOf(poolId, login));

    await db.query(`UPDATE ${LOGINS} SET id = 1007, email = 'kc2@example.com' WHERE id = 7`);
    await sync.caughtUp();
    await waitFor('the new email', async () => {
      const out = await cognito.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: login }));
      return out.UserAttributes?.find((a) => a.Name === 'email')?.Value === 'kc2@example.com';
    });
    expect(await subOf(poolId, login)).toBe(sub); // the same user, not deleted (nor re-created)
    expect(sync.deadLetters).toEqual([]);
  }, 300_000);
});

describe('a user created by the sync', () => {
  /** What cognito-local "delivered": it keeps the code of a ForgotPassword with the user. */
  const deliveredCode = (poolId: string, username: string): string | undefined => {
    const file = join(stackDir(), 'data/cognito/.cognito/db', `${poolId}.json`);
    const db = JSON.parse(readFileSync(file, 'utf8')) as { Users: Record<string, { ConfirmationCode?: string }> };
    return db.Users[username]?.ConfirmationCode;
  };

  test('is CONFIRMED and completes the documented reset flow: ForgotPassword, ConfirmForgotPassword, sign-in', async () => {
    const poolId = await createPool(cognito, `shapes-signin-${id}`);
    const client = await cognito.send(
      new CreateUserPoolClientCommand({
        UserPoolId: poolId,
        ClientName: 'app',
        ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      }),
    );
    const clientId = client.UserPoolClient!.ClientId!;
    await db.query(`INSERT INTO ${USERS} (id, email) VALUES (2, $1)`, [`signin.${id}@example.com`]);
    await rolesConnector();
    await startSync({ name: 'signin', mapping: rolesMapping(), topics: [`shpr${id}.public.${USERS}`], poolId });
    const user = await waitFor('shp_2 created by the sync', async () => {
      try {
        return await cognito.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'shp_2' }));
      } catch {
        return undefined;
      }
    });
    expect(user.UserStatus).toBe('CONFIRMED');
    // what AdminCreateUser alone leaves: the state in which real Cognito refuses ForgotPassword
    await cognito.send(
      new AdminCreateUserCommand({ UserPoolId: poolId, Username: 'by-hand', MessageAction: 'SUPPRESS' }),
    );
    const byHand = await cognito.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'by-hand' }));
    expect(byHand.UserStatus).toBe('FORCE_CHANGE_PASSWORD');

    await cognito.send(new ForgotPasswordCommand({ ClientId: clientId, Username: 'shp_2' }));
    const code = await waitFor('the reset code', async () => deliveredCode(poolId, 'shp_2'));
    const password = `New-passw0rd-${id}`;
    await cognito.send(
      new ConfirmForgotPasswordCommand({
        ClientId: clientId,
        Username: 'shp_2',
        ConfirmationCode: code,
        Password: password,
      }),
    );
    const signIn = await cognito.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: 'shp_2', PASSWORD: password },
      }),
    );
    expect(signIn.ChallengeName).toBeUndefined();
    expect(signIn.AuthenticationResult?.AccessToken).toBeDefined();
  }, 300_000);
});
