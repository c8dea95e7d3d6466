// Versions that survive the source's history (issue #12), through the real stack:
// PostgreSQL -> Debezium (a connector of this file's own: own schema, slot, publication and
// topic prefix, deleted at the end) -> Kafka -> cognito-sync (SyncService in process) ->
// cognito-local, with this file's own user pool.
//   1. a re-snapshot after changes made while the connector was stopped and its slot dropped
//      ends with Cognito equal to the rows;
//   2. after a simulated restore (Debezium records of the same rows with lower LSNs), new
//      changes are skipped in epoch 0 and apply once the operator adds an epoch to the mapping;
//   3. a user created by the User Migration Lambda and then changed in the legacy database
//      replays without re-applying its history, and the later change applies: from PostgreSQL,
//      and from MariaDB through the stack's binlog connector (legacymaria).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminCreateUserCommand, type CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { Kafka, logLevel, type Admin, type KafkaMessage } from 'kafkajs';
import type pg from 'pg';
import { KafkaDeletedUsersLog } from '../../src/adapters/kafka/deleted-users-log.js';
import { PgLegacyDatabase } from '../../src/adapters/legacy-db/postgres/pg-legacy-database.js';
import { MysqlLegacyDatabase } from '../../src/adapters/legacy-db/mysql/mysql-legacy-database.js';
import type { LegacyDatabase } from '../../src/adapters/legacy-db/legacy-database.js';
import type { CognitoGateway } from '../../src/adapters/cognito/cognito-gateway.js';
import { fetchLag, totalLag } from '../../src/adapters/kafka/lag.js';
import { compileConfig } from '../../src/config/load-config.js';
import type { CognitoCall } from '../../src/core/types.js';
import { createMigrationHandler } from '../../src/lambda/user-migration.js';
import { createLogger } from '../../src/ops/logger.js';
import { compileMapping, loadMapping } from '../../src/pipeline/map/index.js';
import { epochOf } from '../../src/pipeline/decode/version.js';
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
import { openSource, type LegacySource } from './support/sources.js';

const id = runId();
const SCHEMA = `versions_${id}`;
const PREFIX = `versions${id}`;
const USERS_TOPIC = `${PREFIX}.${SCHEMA}.users`;
const RESTORED_TOPIC = `${PREFIX}.restored.users`;
const PUBLICATION = `dbz_pub_versions_${id}`;
const LOG_USERS_TOPIC = `versions.${id}.log-users`;
const LOG_TOPIC = `versions.${id}.deleted-users`;
const MAPPING = join(REPO, 'examples/mapping.yaml');
const VERSION = 'custom:cdc_version';
const WRITE_APIS = new Set([
  'AdminCreateUser',
  'AdminUpdateUserAttributes',
  'AdminDeleteUserAttributes',
  'AdminDisableUser',
  'AdminEnableUser',
  'AdminDeleteUser',
  'AdminAddUserToGroup',
  'AdminRemoveUserFromGroup',
]);

let env: StackEnv;
let db: pg.Pool;
let maria: LegacySource;
let cognito: CognitoIdentityProviderClient;
let kafka: Kafka;
let admin: Admin;
let poolId: string;
const connectors: string[] = [];
const slots: string[] = [];
const services: SyncService[] = [];

const connect = async (path: string, init?: RequestInit): Promise<Response> =>
  fetch(`${env.CONNECT_URL}${path}`, { ...init, headers: { 'Content-Type': 'application/json' } });

/** A Debezium PostgreSQL connector for this file's schema only (JSON with schemas). */
async function createConnector(name: string, slot: string): Promise<void> {
  const url = new URL(env.PG_URL);
  const response = await connect(`/connectors/${name}/config`, {
    method: 'PUT',
    body: JSON.stringify({
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'tasks.max': '1',
      'plugin.name': 'pgoutput',
      'database.hostname': url.hostname,
      'database.port': url.port,
      'database.user': decodeURIComponent(url.username),
      'database.password': decodeURIComponent(url.password),
      'database.dbname': url.pathname.slice(1),
      'topic.prefix': PREFIX,
      'slot.name': slot,
      'publication.name': PUBLICATION,
      'publication.autocreate.mode': 'filtered',
      'table.include.list': `${SCHEMA}.users`,
      'snapshot.mode': 'initial',
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'topic.creation.default.partitions': '1',
      'topic.creation.default.replication.factor': '1',
      'poll.interval.ms': '200',
    }),
  });
  if (!response.ok) throw new Error(`creating connector ${name}: ${response.status} ${await response.text()}`);
  connectors.push(name);
  slots.push(slot);
  await waitFor(
    `connector ${name} to run`,
    async () => {
      const status = (await (await connect(`/connectors/${name}/status`)).json()) as {
        tasks?: { state: string }[];
      };
      return status.tasks?.[0]?.state === 'RUNNING';
    },
    90_000,
    500,
  );
}

async function deleteConnector(name: string): Promise<void> {
  const response = await connect(`/connectors/${name}`, { method: 'DELETE' });
  if (!response.ok && response.status !== 404) throw new Error(`deleting ${name}: ${response.status}`);
  const index = connectors.indexOf(name);
  if (index >= 0) connectors.splice(index, 1);
}

/** Drops a replication slot once its connector has let go of it. */
async function dropSlot(slot: string): Promise<void> {
  await waitFor(
    `slot ${slot} to be released and dropped`,
    async () => {
      const { rows } = await db.query<{ active: boolean }>(
        'SELECT active FROM pg_replication_slots WHERE slot_name = $1',
        [slot],
      );
      if (rows.length === 0) return true;
      if (rows[0]!.active) return false;
      await db.query('SELECT pg_drop_replication_slot($1)', [slot]);
      return true;
    },
    60_000,
    500,
  );
  const index = slots.indexOf(slot);
  if (index >= 0) slots.splice(index, 1);
}

interface SyncRun {
  service: SyncService;
  calls: CognitoCall[];
  groupId: string;
  topics: string[];
}

/** A SyncService in this process with its own consumer group, recording every Cognito write. */
async function startSync(
  name: string,
  topics: string[],
  mapping = MAPPING,
  startAt?: readonly TopicOffset[],
): Promise<SyncRun> {
  const calls: CognitoCall[] = [];
  const groupId = `versions.${id}.${name}`;
  // (a group with committed offsets starts there, not at the beginning: one topic only)
  if (startAt) await admin.setOffsets({ groupId, topic: topics[0]!, partitions: [...startAt] });
  const config = compileConfig({
    kafka: { brokers: env.KAFKA_BROKERS.split(','), groupId, topics, fromBeginning: true },
    format: 'json',
    cognito: {
      userPoolId: poolId,
      region: env.COGNITO_REGION,
      endpoint: env.COGNITO_ENDPOINT,
      rates: { UserCreation: 200, UserUpdate: 200, UserRead: 500, UserResourceUpdate: 200 },
    },
    mapping,
    dlq: { topic: `versions.dlq.${id}` },
    ops: { port: 0 },
    log: { level: 'warn' },
  });
  const service = new SyncService({
    config,
    logger: createLogger({ level: 'warn' }),
    decorateGateway: (gateway: CognitoGateway): CognitoGateway => ({
      getUser: (username, withGroups) => gateway.getUser(username, withGroups),
      execute: (call) => {
        if (WRITE_APIS.has(call.api)) calls.push(call);
        return gateway.execute(call);
      },
    }),
  });
  services.push(service);
  await service.start();
  await waitFor('the consumer to join and get partitions', async () => service.ready || !service.healthy, 90_000);
  return { service, calls, groupId, topics };
}

async function stopSync(run: SyncRun): Promise<void> {
  await run.service.stop();
  services.splice(services.indexOf(run.service), 1);
}

async function caughtUp(run: SyncRun, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    `group ${run.groupId} to commit every partition to its end`,
    async () => totalLag(await fetchLag(admin, run.groupId, run.topics)) === 0,
    timeoutMs,
    500,
  );
}

interface TopicOffset {
  partition: number;
  offset: string;
}

/** A legacy database the Lambda reads, and the topic its changes stream into. */
interface LambdaSource {
  name: string;
  usersTopic: () => string;
  /** Replay the whole topic (this file's own), or from where it ended before the user (a shared one). */
  replayFromStart: boolean;
  /** Inserts the person's row; its id. */
  insert: (p: Person) => Promise<number>;
  update: (legacyId: number, given: string, family: string) => Promise<void>;
  row: (legacyId: number) => Promise<{ given_name: string; family_name: string; email: string }>;
  open: () => LegacyDatabase;
}

interface Person {
  id: number;
  given: string;
  family: string;
  email: string;
}

const username = (legacyId: number): string => `legacy_${legacyId}`;

async function insertUser(p: Person): Promise<void> {
  await db.query(
    `INSERT INTO ${SCHEMA}.users (id, username, email, email_verified, given_name, family_name, locale, status, loyalty_tier, marketing_opt_in)
     VALUES ($1, $2, $3, true, $4, $5, 'de-DE', 'active', 'gold', true)`,
    [p.id, `versions.${id}.${p.id}`, p.email, p.given, p.family],
  );
}

async function updateUser(legacyId: number, given: string, family: string): Promise<void> {
  await db.query(`UPDATE ${SCHEMA}.users SET given_name = $2, family_name = $3 WHERE id = $1`, [
    legacyId,
    given,
    family,
  ]);
}

/** What the row says Cognito must hold for the compared attributes. */
async function rowOf(legacyId: number): Promise<{ given_name: string; family_name: string; email: string }> {
  const { rows } = await db.query<{ given_name: string; family_name: string; email: string }>(
    `SELECT given_name, family_name, email FROM ${SCHEMA}.users WHERE id = $1`,
    [legacyId],
  );
  return rows[0]!;
}

/** Cognito holds the row's names and email for every given id. */
async function cognitoEqualsRows(ids: number[]): Promise<boolean> {
  for (const legacyId of ids) {
    const [row, user] = await Promise.all([rowOf(legacyId), getUser(cognito, poolId, username(legacyId))]);
    if (
      user === null ||
      user['given_name'] !== row.given_name ||
      user['family_name'] !== row.family_name ||
      user['email'] !== row.email
    )
      return false;
  }
  return true;
}

/** Every record of `topic` (this file's own topics are small), or those from `from` on (a shared one). */
async function readTopic(topic: string, from?: readonly TopicOffset[]): Promise<KafkaMessage[]> {
  const ends = await admin.fetchTopicOffsets(topic);
  const start = (partition: number, low: string): bigint =>
    BigInt(from?.find((f) => f.partition === partition)?.offset ?? low);
  const pending = new Map(
    ends.filter((e) => BigInt(e.high) > start(e.partition, e.low)).map((e) => [e.partition, BigInt(e.high)]),
  );
  const out: KafkaMessage[] = [];
  if (pending.size === 0) return out;
  const groupId = `versions.reader.${id}.${Math.random().toString(36).slice(2)}`;
  if (from) await admin.setOffsets({ groupId, topic, partitions: [...from] });
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          out.push(message);
          const end = pending.get(partition);
          if (end !== undefined && BigInt(message.offset) + 1n >= end) pending.delete(partition);
          if (pending.size === 0) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return out;
}

beforeAll(async () => {
  env = stackEnv();
  db = pgPool(env);
  maria = openSource('mariadb', env);
  cognito = cognitoClient(env);
  kafka = new Kafka({
    clientId: `versions-e2e-${id}`,
    brokers: env.KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  admin = kafka.admin();
  await admin.connect();
  poolId = await createPool(cognito, `versions-${id}`);
  await db.query(`CREATE SCHEMA ${SCHEMA}`);
  // The legacy users table's columns, constraints and defaults; its own rows.
  await db.query(`CREATE TABLE ${SCHEMA}.users (LIKE public.users INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
  await db.query(`ALTER TABLE ${SCHEMA}.users ADD PRIMARY KEY (id)`);
}, 120_000);

afterAll(async () => {
  for (const service of [...services]) await service.stop().catch(() => undefined);
  for (const name of [...connectors]) await deleteConnector(name).catch(() => undefined);
  for (const slot of [...slots]) await dropSlot(slot).catch(() => undefined);
  await db?.query(`DROP PUBLICATION IF EXISTS ${PUBLICATION}`).catch(() => undefined);
  await db?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => undefined);
  await admin
    ?.deleteTopics({ topics: [USERS_TOPIC, RESTORED_TOPIC, LOG_USERS_TOPIC, LOG_TOPIC] })
    .catch(() => undefined);
  await admin?.disconnect();
  await db?.end();
  await maria?.end();
}, 120_000);

describe('versions survive the source history', () => {
  const people: Person[] = [1, 2, 3].map((n) => ({
    id: n,
    given: `Given${n}`,
    family: `Family${n}`,
    email: `v${n}.${id}@example.com`,
  }));
  let stream: SyncRun;

  test('a re-snapshot after changes made while the connector was stopped and its slot dropped ends with Cognito equal to the rows', async () => {
    for (const p of people) await insertUser(p);
    await createConnector(`versions-${id}-a`, `dbz_versions_${id}_a`);
    stream = await startSync('stream', [USERS_TOPIC]);
    await waitFor('the snapshot to reach Cognito', () => cognitoEqualsRows([1, 2, 3]), 120_000, 500);
    await updateUser(1, 'Streamed', 'One');
    await updateUser(2, 'Streamed', 'Two');
    await waitFor('the streamed changes to reach Cognito', () => cognitoEqualsRows([1, 2, 3]), 120_000, 500);
    const streamedVersion = (await getUser(cognito, poolId, username(2)))![VERSION]!;

    // The connector stops and its slot is lost: these changes never reach the topic.
    await deleteConnector(`versions-${id}-a`);
    await dropSlot(`dbz_versions_${id}_a`);
    await updateUser(1, 'Lost', 'One');
    await updateUser(3, 'Lost', 'Three');
    await caughtUp(stream);
    expect(await cognitoEqualsRows([1, 3])).toBe(false);

    // Re-created under a new name (no stored offsets): a new slot and a full snapshot into the
    // same topic. The snapshot reads sort at the new slot's position, above what was streamed.
    const writesBefore = stream.calls.length;
    await createConnector(`versions-${id}-b`, `dbz_versions_${id}_b`);
    await waitFor('the re-snapshot to repair Cognito', () => cognitoEqualsRows([1, 2, 3]), 120_000, 500);
    await caughtUp(stream);
    const repairs = stream.calls.slice(writesBefore);
    // users 1 and 3 were repaired; user 2 was unchanged: its snapshot read cost nothing
    expect(new Set(repairs.map((c) => c.username))).toEqual(new Set([username(1), username(3)]));
    // ...and the stored version moved on, never back
    const after = (await getUser(cognito, poolId, username(1)))![VERSION]!;
    expect(after > streamedVersion).toBe(true);
  }, 300_000);

  test('after a simulated restore new changes are stale in epoch 0 and apply once the operator adds an epoch', async () => {
    // The restored cluster: Debezium records of user 2 with LSNs far below what Cognito holds.
    const real = (await readTopic(USERS_TOPIC)).filter((m) => m.key?.toString().includes('"id":2'));
    expect(real.length).toBeGreaterThan(0);
    const template = JSON.parse(real[real.length - 1]!.value!.toString('utf8')) as {
      payload: { op: string; after: Record<string, unknown>; source: Record<string, unknown> };
    };
    const since = new Date().toISOString();
    const restored = (given: string, lsn: number) => {
      const record = structuredClone(template);
      record.payload.op = 'u';
      record.payload.after = { ...record.payload.after, given_name: given, family_name: 'Restored' };
      record.payload.source = {
        ...record.payload.source,
        lsn,
        sequence: `[null,"${lsn}"]`,
        snapshot: 'false',
        ts_ms: Date.parse(since) + 1,
      };
      return { key: real[0]!.key, value: JSON.stringify(record) };
    };
    await admin.createTopics({ topics: [{ topic: RESTORED_TOPIC, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: RESTORED_TOPIC,
      messages: [restored('AfterRestore', 4096), restored('AfterRestore2', 8192)],
    });
    await producer.disconnect();

    // Epoch 0: the stored version is above every position of the restored history.
    const before = await getUser(cognito, poolId, username(2));
    const stale = await startSync('restored-epoch0', [RESTORED_TOPIC]);
    await caughtUp(stale);
    await stopSync(stale);
    expect(stale.calls).toEqual([]);
    expect(await getUser(cognito, poolId, username(2))).toEqual(before);

    // The operator's word: epoch 1 from the instant the restored database took writes.
    const mapping = join(tmpdir(), `versions-${id}-epoch1.yaml`);
    writeFileSync(mapping, `${readFileSync(MAPPING, 'utf8')}\nversionEpochs:\n  - epoch: 1\n    since: "${since}"\n`);
    const bumped = await startSync('restored-epoch1', [RESTORED_TOPIC], mapping);
    await caughtUp(bumped);
    await stopSync(bumped);
    const user = (await getUser(cognito, poolId, username(2)))!;
    expect(user['given_name']).toBe('AfterRestore2');
    expect(user['family_name']).toBe('Restored');
    expect(epochOf(user[VERSION]!)).toBe(1);
    // both restored events applied in order (coalesced or one by one), never the older over the newer
    expect(bumped.calls.every((c) => c.username === username(2))).toBe(true);
  }, 300_000);

  // Both databases: PostgreSQL through this file's connector (replayed from the topic's first
  // record), MariaDB through the stack's binlog connector (its topic is shared: replayed from
  // where it ended before the user was inserted), read by the MySQL adapter both ways it learns
  // the binlog position (MariaDB's snapshot position; the locking read MySQL needs).
  const lambdaSources: readonly LambdaSource[] = [
    {
      name: 'postgres',
      usersTopic: () => USERS_TOPIC,
      replayFromStart: true,
      insert: async (p) => {
        await insertUser({ ...p, id: 10 });
        return 10;
      },
      update: updateUser,
      row: rowOf,
      open: () => new PgLegacyDatabase({ url: env.PG_URL, table: `${SCHEMA}.users` }),
    },
    ...(['auto', 'locking-read'] as const).map(
      (readPosition): LambdaSource => ({
        name: `mariadb (${readPosition === 'auto' ? 'snapshot position' : 'locking read'})`,
        usersTopic: () => maria.json.usersTopic,
        replayFromStart: false,
        insert: async (p) => {
          const { rows } = await maria.query<{ id: string }>(
            `INSERT INTO users (username, email, email_verified, given_name, family_name, locale, status, loyalty_tier, marketing_opt_in)
             VALUES ($1, $2, true, $3, $4, 'de-DE', 'active', 'gold', true) RETURNING id`,
            [`versions.${id}.${readPosition}`, p.email.replace('@', `.${readPosition}@`), p.given, p.family],
          );
          return Number(rows[0]!.id);
        },
        update: async (legacyId, given, family) => {
          await maria.query('UPDATE users SET given_name = $2, family_name = $3 WHERE id = $1', [
            legacyId,
            given,
            family,
          ]);
        },
        row: async (legacyId) =>
          (
            await maria.query<{ given_name: string; family_name: string; email: string }>(
              'SELECT given_name, family_name, email FROM users WHERE id = $1',
              [legacyId],
            )
          ).rows[0]!,
        open: () => new MysqlLegacyDatabase({ url: maria.url, table: 'users', readPosition }),
      }),
    ),
  ];

  test.each(lambdaSources)(
    'a user created by the migration Lambda from $name and then changed replays without re-applying its history',
    async (source) => {
      // Epoch 1 holds user 2 now; the stream of epoch 0 must not touch it again.
      if (stream !== undefined && services.includes(stream.service)) await stopSync(stream);
      const topic = source.usersTopic();
      const before = source.replayFromStart
        ? (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.low }))
        : (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.high }));
      const legacyId = await source.insert({ id: 0, given: 'First', family: 'Ten', email: `v10.${id}@example.com` });
      const name = username(legacyId);
      await source.update(legacyId, 'Second', 'Ten');
      await source.update(legacyId, 'Third', 'Ten');
      // The history is in the topic before the Lambda reads the row.
      const keyOf = `"id":${legacyId}}`;
      await waitFor(
        `the three events of user ${legacyId} in the topic`,
        async () => (await readTopic(topic, before)).filter((m) => m.key?.toString().includes(keyOf)).length >= 3,
        60_000,
        500,
      );

      const legacy = source.open();
      try {
        const handler = createMigrationHandler({
          db: legacy,
          mapping: compileMapping(await loadMapping(MAPPING)),
          passwordColumn: 'password_hash',
          loginColumns: ['username', 'email'],
        });
        const answer = await handler({
          triggerSource: 'UserMigration_ForgotPassword',
          userName: name,
          request: {},
          response: {},
        });
        // What Cognito does with the trigger's answer.
        await cognito.send(
          new AdminCreateUserCommand({
            UserPoolId: poolId,
            Username: name,
            MessageAction: 'SUPPRESS',
            UserAttributes: Object.entries(answer.response.userAttributes).map(([Name, Value]) => ({ Name, Value })),
          }),
        );
      } finally {
        await legacy.close();
      }
      expect((await getUser(cognito, poolId, name))!['given_name']).toBe('Third');

      // A new consumer group replays the topic: the history of the user is older than the
      // Lambda's read and makes no call (nor do the users already in sync).
      const replay = await startSync(`replay-${lambdaSources.indexOf(source)}`, [topic], MAPPING, before);
      await caughtUp(replay);
      expect(replay.calls.filter((c) => c.username === name)).toEqual([]);
      expect((await getUser(cognito, poolId, name))!['given_name']).toBe('Third');

      // A change after the read applies.
      await source.update(legacyId, 'Fourth', 'Ten');
      await waitFor(
        'the change after the read to reach Cognito',
        async () => (await getUser(cognito, poolId, name))?.['given_name'] === (await source.row(legacyId)).given_name,
        120_000,
        500,
      );
      await caughtUp(replay);
      await stopSync(replay);
      expect(replay.calls.filter((c) => c.username === name).map((c) => c.api)).toEqual(['AdminUpdateUserAttributes']);
    },
    300_000,
  );

  test('the deleted-users log forgets deletes the users topic no longer holds, and those beyond the horizon', async () => {
    // A users topic whose retention has removed its first three records.
    await admin.createTopics({ topics: [{ topic: LOG_USERS_TOPIC, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic: LOG_USERS_TOPIC,
        messages: [0, 1, 2, 3, 4].map((n) => ({ key: String(n), value: String(n) })),
      });
      // (retried: right after the topic's creation the broker may not take it yet)
      await waitFor(
        'the users topic to start at offset 3',
        async () => {
          await admin.deleteTopicRecords({ topic: LOG_USERS_TOPIC, partitions: [{ partition: 0, offset: '3' }] });
          return (await admin.fetchTopicOffsets(LOG_USERS_TOPIC))[0]!.low === '3';
        },
        30_000,
        500,
      );
      const options = { usersTopics: [LOG_USERS_TOPIC] };
      const first = await KafkaDeletedUsersLog.open(kafka, producer, LOG_TOPIC, options);
      await first.record('gone', 'v1', { topic: LOG_USERS_TOPIC, partition: 0, offset: '1' });
      await first.record('held', 'v2', { topic: LOG_USERS_TOPIC, partition: 0, offset: '4' });
      await first.record('no-origin', 'v3');

      const second = await KafkaDeletedUsersLog.open(kafka, producer, LOG_TOPIC, options);
      expect(second.get('gone')).toBeUndefined();
      expect(second.get('held')).toBe('v2');
      expect(second.get('no-origin')).toBe('v3');
      expect(second.loadReport).toMatchObject({ records: 3, live: 2, dropped: 1 });
      // dlq inspect's look-up of one user: the same answer without loading the log
      expect(await KafkaDeletedUsersLog.lookup(kafka, LOG_TOPIC, 'held')).toBe('v2');
      expect(await KafkaDeletedUsersLog.lookup(kafka, LOG_TOPIC, 'gone')).toBeUndefined(); // tombstoned
      expect(await KafkaDeletedUsersLog.lookup(kafka, LOG_TOPIC, 'never-deleted')).toBeUndefined();
      expect(await KafkaDeletedUsersLog.lookup(kafka, `${LOG_TOPIC}.absent`, 'held')).toBeUndefined();
      // the dropped entry was tombstoned, so the next start does not even drop it again
      const third = await KafkaDeletedUsersLog.open(kafka, producer, LOG_TOPIC, options);
      expect(third.loadReport).toMatchObject({ records: 4, live: 2, dropped: 0 });

      // A horizon: everything older is forgotten (here: every entry, seen from two minutes on),
      // and the log topic itself keeps no more than the horizon.
      const later = await KafkaDeletedUsersLog.open(kafka, producer, LOG_TOPIC, {
        ...options,
        horizonMs: 60_000,
        now: () => Date.now() + 120_000,
      });
      expect(later.size).toBe(0);
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: LOG_TOPIC, configNames: ['cleanup.policy', 'retention.ms'] }],
      });
      const entries = Object.fromEntries(
        described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue] as const),
      );
      expect(entries).toEqual({ 'cleanup.policy': 'compact,delete', 'retention.ms': '60000' });
    } finally {
      await producer.disconnect();
    }
  }, 120_000);
});
