// `cutover-check` against the real stack (#14): a no-go that names each failing gate while a DLQ
// record is pending, a user drifted, and too few active users can sign in with a password; a go
// once the drift is repaired, the record acknowledged (`dlq ack`, durable) and users migrated.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import {
  AdminSetUserPasswordCommand,
  AdminUpdateUserAttributesCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { KafkaDeadLetterSink } from '../../src/adapters/kafka/dlq-producer.js';
import { SyncError } from '../../src/errors.js';
import { runCli } from './support/migration-cli.js';
import {
  REPO,
  cognitoClient,
  createPool,
  pgPool,
  runId,
  stackEnv,
  type StackEnv,
  kafkaAdmin,
  pinGroupAtEnd,
} from './support/stack.js';

const id = runId();
const TOPIC = 'legacy.public.users';
let env: StackEnv;
let db: pg.Pool;
let kafka: Kafka;
const schema = `cutover_${id}`;

beforeAll(async () => {
  env = stackEnv();
  db = pgPool(env);
  kafka = new Kafka({ clientId: 'e2e-cutover', brokers: env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
});

afterAll(async () => {
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
});

interface Gate {
  gate: string;
  verdict: string;
  figures: Record<string, number>;
}

describe('cognito-sync cutover-check', () => {
  test('no-go naming each failing gate; go after repair, acknowledgement and migrated passwords', async () => {
    // The legacy table: 4 users who signed in last week, 1 who has not for two years.
    await db.query(`CREATE SCHEMA ${schema}`);
    const table = `${schema}.users`;
    await db.query(`CREATE TABLE ${table} (LIKE public.users INCLUDING DEFAULTS)`);
    await db.query(`ALTER TABLE ${table} ADD PRIMARY KEY (id)`);
    const ids = [1, 2, 3, 4, 5].map((n) => 990_000 + n);
    for (const [i, userId] of ids.entries())
      await db.query(
        `INSERT INTO ${table} (id, username, email, email_verified, given_name, family_name, locale, status, last_login_at)
         VALUES ($1, $2, $3, true, 'Cut', 'Over', 'de-DE', 'active', now() - $4::interval)`,
        [userId, `cut.${userId}.${id}`, `cut.${userId}.${id}@example.com`, i < 4 ? '7 days' : '2 years'],
      );
    const cognito = cognitoClient(env);
    const poolId = await createPool(cognito, `e2e-cutover-${id}`);
    const group = `e2e-cutover-${id}`;
    const dlqTopic = `cognito-sync.dlq.cutover.${id}`;
    // A sync that is in step: its group committed at the end of the topic.
    const admin = await kafkaAdmin(env, 'e2e-cutover');
    await pinGroupAtEnd(admin, group, [TOPIC]);
    await admin.disconnect();
    const config = join(REPO, '.stack', `e2e-cutover-${id}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        kafka: { brokers: env.KAFKA_BROKERS.split(','), groupId: group, topics: [TOPIC] },
        cognito: {
          userPoolId: poolId,
          region: env.COGNITO_REGION,
          endpoint: env.COGNITO_ENDPOINT,
          emulatorCredentials: true,
          // Created users wait in FORCE_CHANGE_PASSWORD, so CONFIRMED means a password the user knows.
          createdUserStatus: 'FORCE_CHANGE_PASSWORD',
          rates: { UserCreation: 200, UserUpdate: 200, UserRead: 500, UserList: 100, UserResourceUpdate: 200 },
        },
        mapping: join(REPO, 'examples/mapping.yaml'),
        dlq: { topic: dlqTopic },
        legacyDatabase: { url: env.PG_URL, table, rolesTable: `${schema}.no_roles` },
        cutover: { passwords: { activeColumn: 'last_login_at', activeWithinDays: 90, minShare: 0.75 } },
        log: { level: 'warn' },
      }),
    );
    await db.query(`CREATE TABLE ${schema}.no_roles (user_id bigint, role text)`);

    // The users reach Cognito (through the sync's planner), then one drifts and a record fails.
    expect((await runCli(['reconcile', '--config', config, '--repair'])).code).toBe(0);
    await cognito.send(
      new AdminUpdateUserAttributesCommand({
        UserPoolId: poolId,
        Username: `legacy_${ids[0]}`,
        UserAttributes: [{ Name: 'given_name', Value: 'Drifted' }],
      }),
    );
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await new KafkaDeadLetterSink(producer, dlqTopic).send(
      { topic: TOPIC, partition: 0, offset: '1', key: null, value: Buffer.from('{}'), headers: {} },
      new SyncError('planted for the cutover check', { stage: 'map' }),
    );
    await producer.disconnect();

    const check = async (): Promise<{ code: number; go: boolean; gates: Record<string, Gate> }> => {
      const r = await runCli(['cutover-check', '--config', config, '--json']);
      const parsed = JSON.parse(r.out) as { go: boolean; gates: Gate[] };
      return { code: r.code, go: parsed.go, gates: Object.fromEntries(parsed.gates.map((g) => [g.gate, g])) };
    };
    const before = await check();
    expect(before.code).toBe(3);
    expect(before.go).toBe(false);
    expect(before.gates.lag?.verdict).toBe('pass');
    expect(before.gates.dlq).toMatchObject({ verdict: 'fail', figures: { pending: 1 } });
    expect(before.gates.reconcile).toMatchObject({ verdict: 'fail', figures: { drift: 1, different: 1 } });
    // Created by the sync: FORCE_CHANGE_PASSWORD, nobody can sign in with a password yet.
    expect(before.gates.passwords).toMatchObject({ verdict: 'fail', figures: { active: 4, ready: 0 } });

    // The fixes an operator makes: repair, acknowledge, and users migrated with their password
    // (as the User Migration Lambda leaves them: CONFIRMED) — 3 of the 4 active ones, 75 %.
    expect((await runCli(['reconcile', '--config', config, '--repair'])).code).toBe(0);
    expect((await runCli(['dlq', 'ack', '--config', config])).code).toBe(0);
    for (const userId of ids.slice(0, 3))
      await cognito.send(
        new AdminSetUserPasswordCommand({
          UserPoolId: poolId,
          Username: `legacy_${userId}`,
          Password: 'Correct-Horse-9',
          Permanent: true,
        }),
      );
    const after = await check();
    expect(after.gates.passwords).toMatchObject({ verdict: 'pass', figures: { active: 4, ready: 3 } });
    expect(after.gates.dlq).toMatchObject({ verdict: 'pass', figures: { pending: 0, retained: 1 } });
    expect(after.gates.reconcile?.verdict).toBe('pass');
    expect(after).toMatchObject({ code: 0, go: true });
  });
});
