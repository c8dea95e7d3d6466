// Change-event semantics end to end, through the real stack: PostgreSQL or MariaDB -> Debezium
// (Kafka Connect) -> Kafka (+ Apicurio for Avro) -> cognito-sync (SyncService in process) ->
// cognito-local, and the same scenarios against moto's Cognito, each from PostgreSQL and from
// MariaDB (support/sources.ts; the TOAST one is PostgreSQL's alone). Each test has its own user
// pool, consumer group and DLQ topic. Where a test needs a topic it controls (replays, poison
// records), it copies the records Debezium wrote, byte for byte with their headers, into a topic
// of its own.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateGroupCommand,
  CreateUserPoolCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { Kafka, logLevel, type Admin, type IHeaders, type KafkaMessage } from 'kafkajs';
import { parse, stringify } from 'yaml';
import type { CognitoGateway } from '../../src/adapters/cognito/cognito-gateway.js';
import { DLQ_HEADER } from '../../src/adapters/kafka/dlq-producer.js';
import { fetchLag, totalLag } from '../../src/adapters/kafka/lag.js';
import { compileConfig } from '../../src/config/load-config.js';
import type { CognitoCall } from '../../src/core/types.js';
import { createLogger } from '../../src/ops/logger.js';
import { PipelineStoppedError } from '../../src/runtime/batch-processor.js';
import { SyncService } from '../../src/runtime/sync-service.js';
import {
  EMULATORS,
  REPO,
  cognitoClient,
  endpointOf,
  createPool,
  getUser,
  runId,
  stackEnv,
  waitFor,
  type StackEnv,
} from './support/stack.js';
import { SOURCES, openSource, type LegacySource, type SourceName } from './support/sources.js';

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
const PLACEHOLDER = '__debezium_unavailable_value';

let env: StackEnv;
let registryUrl: string;
/** The legacy database of the running describe block, and the JSON users topic of its connector. */
let db: LegacySource;
let USERS_TOPIC: string;
let cognito: CognitoIdentityProviderClient;
let kafka: Kafka;
let admin: Admin;
let endpoint: string;
let id: string;
const usernameOf = (legacyId: number): string => `legacy_${legacyId}`;

interface SyncOptions {
  poolId: string;
  groupId: string;
  topics: string[];
  fromBeginning: boolean;
  format?: 'json' | 'avro';
  mapping?: string;
  dlqTopic?: string;
  tolerance?: 'all' | 'none';
}

/** A SyncService in this process, counting Cognito writes and reads, recording every call made. */
async function startSync(o: SyncOptions) {
  const writes: string[] = [];
  const reads: string[] = [];
  const calls: CognitoCall[] = [];
  const config = compileConfig({
    kafka: {
      brokers: env.KAFKA_BROKERS.split(','),
      groupId: o.groupId,
      topics: o.topics,
      fromBeginning: o.fromBeginning,
    },
    format: o.format ?? 'json',
    ...(o.format === 'avro' ? { schemaRegistry: { url: registryUrl } } : {}),
    cognito: {
      userPoolId: o.poolId,
      region: env.COGNITO_REGION,
      endpoint,
      rates: { UserCreation: 200, UserUpdate: 200, UserRead: 500, UserResourceUpdate: 200 },
    },
    mapping: o.mapping ?? join(REPO, 'examples/mapping.yaml'),
    dlq: { topic: o.dlqTopic ?? `semantics.dlq.${id}`, tolerance: o.tolerance ?? 'all' },
    ops: { port: 0 },
    log: { level: 'warn' },
  });
  const service = new SyncService({
    config,
    logger: createLogger({ level: 'warn' }),
    onCognitoCall: (e) => {
      if (e.outcome !== 'ok') return;
      (WRITE_APIS.has(e.api) ? writes : reads).push(e.api);
    },
    decorateGateway: (gateway: CognitoGateway): CognitoGateway => ({
      getUser: (username, withGroups) => gateway.getUser(username, withGroups),
      execute: (call) => (calls.push(call), gateway.execute(call)),
    }),
  });
  await service.start();
  await waitFor('the consumer to join and get partitions', async () => service.ready || !service.healthy, 90_000);
  return { service, writes, reads, calls };
}

async function caughtUp(groupId: string, topics: string[], timeoutMs = 120_000): Promise<void> {
  await waitFor(
    `group ${groupId} to commit every partition to its end`,
    async () => totalLag(await fetchLag(admin, groupId, topics)) === 0,
    timeoutMs,
    500,
  );
}

async function insertUser(fields: {
  username: string;
  email: string;
  given?: string;
  family?: string;
  bio?: string | null;
  status?: string;
}): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO users (username, email, email_verified, given_name, family_name, locale, status, loyalty_tier, marketing_opt_in, bio)
     VALUES ($1, $2, true, $3, $4, 'de-DE', $5, 'gold', true, $6) RETURNING id`,
    [
      fields.username,
      fields.email,
      fields.given ?? 'Semantic',
      fields.family ?? 'Test',
      fields.status ?? 'active',
      fields.bio ?? null,
    ],
  );
  return Number(rows[0]!.id);
}

interface CopiedRecord {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

/** Every record of `topic` from `from` (per partition, default the start) to its current end. */
async function readTopic(topic: string, from: Record<number, bigint> = {}): Promise<CopiedRecord[]> {
  const ends = await admin.fetchTopicOffsets(topic);
  const pending = new Map(
    ends.filter((e) => BigInt(e.high) > (from[e.partition] ?? BigInt(e.low))).map((e) => [e.partition, BigInt(e.high)]),
  );
  const out: CopiedRecord[] = [];
  if (pending.size === 0) return out;
  const consumer = kafka.consumer({ groupId: `semantics.reader.${id}.${Math.random().toString(36).slice(2)}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        eachMessage: async ({ partition, message }: { partition: number; message: KafkaMessage }) => {
          const end = pending.get(partition);
          if (end === undefined) return;
          const offset = BigInt(message.offset);
          if (offset >= (from[partition] ?? 0n) && offset < end)
            out.push({
              partition,
              offset: message.offset,
              key: message.key,
              value: message.value,
              headers: message.headers ?? {},
            });
          if (offset + 1n >= end) pending.delete(partition);
          if (pending.size === 0) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

const highWatermarks = async (topic: string): Promise<Record<number, bigint>> =>
  Object.fromEntries((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));

/** The JSON payload of a Debezium JSON record (schema + payload envelope). */
const payloadOf = (value: Buffer | null): Record<string, unknown> | null =>
  value === null
    ? null
    : ((JSON.parse(value.toString('utf8')) as { payload: Record<string, unknown> }).payload ?? null);
const keyIdOf = (key: Buffer | null): number | undefined =>
  key === null ? undefined : Number((JSON.parse(key.toString('utf8')) as { payload: { id: number } }).payload.id);

/** Waits until Debezium wrote the changes of `ids` (at least `count` records for them) after `from`. */
async function debeziumRecords(ids: number[], from: Record<number, bigint>, count: number): Promise<CopiedRecord[]> {
  return waitFor(
    `Debezium to write ${count} records for users ${ids.join(', ')}`,
    async () => {
      const records = (await readTopic(USERS_TOPIC, from)).filter((r) => ids.includes(keyIdOf(r.key) ?? -1));
      return records.length >= count ? records : null;
    },
    90_000,
    1000,
  );
}

async function produce(
  topic: string,
  records: { partition: number; key: Buffer | null; value: Buffer | null; headers?: IHeaders }[],
): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  for (const r of records)
    await producer.send({
      topic,
      acks: -1,
      messages: [{ partition: r.partition, key: r.key, value: r.value, headers: r.headers ?? {} }],
    });
  await producer.disconnect();
}

/** A pool like createPool's, plus custom attributes of this file's own (e.g. bio). */
async function createPoolWith(name: string, extra: string[]): Promise<string> {
  const out = await cognito.send(
    new CreateUserPoolCommand({
      PoolName: name,
      Schema: [
        'legacy_id',
        'cdc_version',
        'cdc_groups',
        'loyalty_tier',
        'marketing_opt_in',
        'customer_no',
        ...extra,
      ].map((n) => ({ Name: n, AttributeDataType: 'String', Mutable: true })),
    }),
  );
  const poolId = out.UserPool!.Id!;
  for (const group of ['admin', 'support', 'customer'])
    await cognito.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: group }));
  return poolId;
}

beforeAll(async () => {
  env = stackEnv();
  registryUrl = env.REGISTRY_CCOMPAT_URL;
  kafka = new Kafka({
    brokers: env.KAFKA_BROKERS.split(','),
    clientId: `semantics-${runId()}`,
    logLevel: logLevel.NOTHING,
  });
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin?.disconnect();
});

/** `db` and USERS_TOPIC for the tests of one describe block. */
function useSource(source: SourceName): void {
  beforeAll(() => {
    db = openSource(source, env);
    USERS_TOPIC = db.json.usersTopic;
  });
  afterAll(async () => {
    await db?.end();
  });
}

describe.each(EMULATORS)('change-event semantics against the real stack, Cognito emulated by %s', (emulator) => {
  beforeAll(() => {
    endpoint = endpointOf(env, emulator);
    id = `${runId()}${emulator === 'moto' ? 'm' : 'c'}`;
    cognito = cognitoClient(env, endpoint);
  });

  describe.each(SOURCES)('changes from %s', (source) => {
    useSource(source);

    test('Avro through the schema registry: inserts, updates and deletes reach Cognito', async () => {
      // Debezium writes Avro (Confluent wire format) through Apicurio; scripts/stack/up.sh
      // registers PostgreSQL's Avro connector by default, MariaDB's on demand: this makes sure of
      // it (idempotent, waits for RUNNING).
      const avro = db.avro;
      await promisify(execFile)(
        'bash',
        [join(REPO, 'scripts/stack/connector.sh'), 'register', avro.name, 'avro', ...avro.registerArgs],
        { cwd: REPO, timeout: 180_000 },
      );
      await waitFor(
        'the Avro users topic',
        async () => (await admin.listTopics()).includes(avro.usersTopic),
        120_000,
        1000,
      );
      const poolId = await createPool(cognito, `e2e-sem-avro-${source}-${id}`);
      const group = `e2e-sem-avro-${source}-${id}`;
      const { service, calls } = await startSync({
        poolId,
        groupId: group,
        topics: [avro.usersTopic],
        fromBeginning: false,
        format: 'avro',
      });
      try {
        const ana = await insertUser({
          username: `avro.ana.${id}`,
          email: ` Ana.${id}@Example.COM`,
          given: 'Ana',
          family: 'Ávila',
        });
        const bo = await insertUser({
          username: `avro.bo.${id}`,
          email: `bo.${id}@example.com`,
          given: '博',
          family: '王',
        });
        const created = await waitFor('ana in Cognito (from Avro)', () => getUser(cognito, poolId, usernameOf(ana)));
        expect(created.email).toBe(`ana.${id}@example.com`);
        expect(created.family_name).toBe('Ávila');
        expect(created['custom:customer_no']).toBeUndefined();
        expect(created['custom:cdc_version']).toMatch(/^[0-9a-f]{32}$/);
        expect((await waitFor('bo in Cognito', () => getUser(cognito, poolId, usernameOf(bo)))).given_name).toBe('博');

        await db.query(
          `UPDATE users SET email = $1, status = 'suspended', legacy_customer_no = 123456789012 WHERE id = $2`,
          [`ana.new.${id}@example.com`, ana],
        );
        const updated = await waitFor('ana updated (from Avro)', async () => {
          const u = await getUser(cognito, poolId, usernameOf(ana));
          return u?.email === `ana.new.${id}@example.com` && u.enabled === 'false' ? u : null;
        });
        expect(updated['custom:customer_no']).toBe('123456789012'); // a Connect Decimal, exact
        expect(updated['custom:cdc_version']! > created['custom:cdc_version']!).toBe(true);

        await db.query('DELETE FROM users WHERE id = $1', [bo]);
        await waitFor('bo deleted (from Avro)', async () => (await getUser(cognito, poolId, usernameOf(bo))) === null);
        // Other rows may change meanwhile (the table is shared); these two users: one create each, one delete.
        const mine = calls.filter((c) => c.username === usernameOf(ana) || c.username === usernameOf(bo));
        expect(
          mine
            .filter((c) => c.api === 'AdminCreateUser')
            .map((c) => c.username)
            .sort(),
        ).toEqual([usernameOf(ana), usernameOf(bo)].sort());
        expect(mine.filter((c) => c.api === 'AdminDeleteUser').map((c) => c.username)).toEqual([usernameOf(bo)]);
      } finally {
        await service.stop();
      }
    });

    test('a replay from the earliest offset makes no Cognito writes once in sync', async () => {
      // This test's users' records exactly as Debezium wrote them, copied into a topic this test
      // owns (so nobody else's changes land between the two groups), in two rounds, so the first
      // group applies them as they happen: creates first, the later updates and the delete after.
      const from = await highWatermarks(USERS_TOPIC);
      const keep = await insertUser({ username: `replay.keep.${id}`, email: `replay.keep.${id}@example.com` });
      const flip = await insertUser({
        username: `replay.flip.${id}`,
        email: `replay.flip.${id}@example.com`,
        status: 'suspended',
      });
      const gone = await insertUser({ username: `replay.gone.${id}`, email: `replay.gone.${id}@example.com` });
      await db.query(`UPDATE users SET last_login_at = now() WHERE id = $1`, [keep]); // unmapped column only
      await db.query(`UPDATE users SET status = 'active' WHERE id = $1`, [flip]);
      await db.query(`UPDATE users SET status = 'locked' WHERE id = $1`, [gone]);
      await db.query(`UPDATE users SET email = $1, given_name = 'Renamed' WHERE id = $2`, [
        `replay.keep.new.${id}@example.com`,
        keep,
      ]);
      await db.query(`UPDATE users SET last_login_at = now(), phone = '0151 2345678' WHERE id = $1`, [flip]);
      await db.query('DELETE FROM users WHERE id = $1', [gone]);
      const records = await debeziumRecords([keep, flip, gone], from, 10); // 3 c, 5 u, 1 d + its tombstone
      const seen = new Map<number, number>();
      const round = records.map((r) => {
        const n = (seen.get(keyIdOf(r.key)!) ?? 0) + 1;
        seen.set(keyIdOf(r.key)!, n);
        return n <= 2 ? 1 : 2;
      });
      const topic = `semantics.replay.${source}.${id}`;
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: Math.max(...records.map((r) => r.partition)) + 1 }],
      });

      const poolId = await createPool(cognito, `e2e-sem-replay-${source}-${id}`);
      const groupA = `e2e-sem-replay-a-${source}-${id}`;
      const first = await startSync({ poolId, groupId: groupA, topics: [topic], fromBeginning: true });
      try {
        await produce(
          topic,
          records.filter((_, i) => round[i] === 1),
        );
        await caughtUp(groupA, [topic]);
        await produce(
          topic,
          records.filter((_, i) => round[i] === 2),
        );
        await caughtUp(groupA, [topic]);
        expect((await getUser(cognito, poolId, usernameOf(keep)))?.email).toBe(`replay.keep.new.${id}@example.com`);
        expect((await getUser(cognito, poolId, usernameOf(flip)))?.phone_number).toBe('+491512345678');
        expect((await getUser(cognito, poolId, usernameOf(flip)))?.enabled).toBe('true');
        expect(await getUser(cognito, poolId, usernameOf(gone))).toBeNull();
        expect(first.writes).toContain('AdminDeleteUser');
      } finally {
        await first.service.stop();
      }

      // A new group (a new process: empty version cache) reads the same topic from offset 0.
      const groupB = `e2e-sem-replay-b-${source}-${id}`;
      const replay = await startSync({ poolId, groupId: groupB, topics: [topic], fromBeginning: true });
      try {
        await caughtUp(groupB, [topic]);
      } finally {
        await replay.service.stop();
      }
      expect({ records: records.length, writes: replay.writes }).toEqual({ records: records.length, writes: [] });
      expect(replay.reads.length).toBeGreaterThan(0); // reads are allowed: that is how it knows
      expect(await getUser(cognito, poolId, usernameOf(gone))).toBeNull();
    });

    test('poison records land in the DLQ once, with their bytes and error headers, and the records around them apply', async () => {
      const from = await highWatermarks(USERS_TOPIC);
      const before = await insertUser({ username: `poison.before.${id}`, email: `poison.before.${id}@example.com` });
      // Valid for the database, not for Cognito: the mapping rejects it (a MappingError, stage map).
      const broken = await insertUser({ username: `poison.broken.${id}`, email: `not an email ${id}` });
      const after = await insertUser({ username: `poison.after.${id}`, email: `poison.after.${id}@example.com` });
      const written = await debeziumRecords([before, broken, after], from, 3);
      const recordOf = (legacyId: number): CopiedRecord => written.find((r) => keyIdOf(r.key) === legacyId)!;
      const garbage = {
        partition: 0,
        key: Buffer.from(`garbage-${id}`),
        value: Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22, 0x01, 0x02]),
        headers: { origin: 'semantics-test' },
      };
      // One partition, in this order: good, garbage bytes, invalid user, good.
      const topic = `semantics.poison.${source}.${id}`;
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
      const copied = [
        { ...recordOf(before), partition: 0 },
        garbage,
        { ...recordOf(broken), partition: 0 },
        { ...recordOf(after), partition: 0 },
      ];
      await produce(topic, copied);

      const poolId = await createPool(cognito, `e2e-sem-poison-${source}-${id}`);
      const dlqTopic = `semantics.dlq.poison.${source}.${id}`;
      const group = `e2e-sem-poison-${source}-${id}`;
      const sync = await startSync({ poolId, groupId: group, topics: [topic], fromBeginning: true, dlqTopic });
      try {
        await caughtUp(group, [topic]);
        expect(await getUser(cognito, poolId, usernameOf(before))).not.toBeNull();
        expect(await getUser(cognito, poolId, usernameOf(after))).not.toBeNull();
        expect(await getUser(cognito, poolId, usernameOf(broken))).toBeNull();
      } finally {
        await sync.service.stop();
      }

      const dlq = await readTopic(dlqTopic);
      expect(dlq).toHaveLength(2);
      const header = (r: CopiedRecord, name: string): string | undefined => r.headers[name]?.toString();
      // The DLQ topic may have several partitions: tell the records apart by their source offset.
      expect(dlq.map((r) => header(r, DLQ_HEADER.offset)).sort()).toEqual(['1', '2']);
      const first = dlq.find((r) => header(r, DLQ_HEADER.offset) === '1')!;
      const second = dlq.find((r) => header(r, DLQ_HEADER.offset) === '2')!;
      expect(first.key).toEqual(garbage.key);
      expect(first.value).toEqual(garbage.value);
      expect(header(first, 'origin')).toBe('semantics-test');
      expect(header(first, DLQ_HEADER.stage)).toBe('decode');
      expect(header(first, DLQ_HEADER.errorClass)).toBe('DecodeError');
      expect(header(first, DLQ_HEADER.offset)).toBe('1');
      expect(second.key).toEqual(recordOf(broken).key);
      expect(second.value).toEqual(recordOf(broken).value);
      for (const [name, value] of Object.entries(recordOf(broken).headers))
        expect(header(second, name)).toBe(value?.toString());
      expect(header(second, DLQ_HEADER.stage)).toBe('map');
      expect(header(second, DLQ_HEADER.errorClass)).toBe('MappingError');
      expect(header(second, DLQ_HEADER.message)).toMatch(/email/);
      expect(header(second, DLQ_HEADER.offset)).toBe('2');
      for (const r of dlq) {
        expect(header(r, DLQ_HEADER.topic)).toBe(topic);
        expect(header(r, DLQ_HEADER.partition)).toBe('0');
        expect(header(r, DLQ_HEADER.failedAt)).toMatch(/^\d{4}-\d\d-\d\dT/);
      }

      // dlq.tolerance none: the same topic stops a new group at the garbage, nothing committed past it.
      const strictPool = await createPool(cognito, `e2e-sem-poison-none-${source}-${id}`);
      const strictGroup = `e2e-sem-poison-none-${source}-${id}`;
      const strictDlq = `semantics.dlq.none.${source}.${id}`;
      const strict = await startSync({
        poolId: strictPool,
        groupId: strictGroup,
        topics: [topic],
        fromBeginning: true,
        dlqTopic: strictDlq,
        tolerance: 'none',
      });
      let stopped: unknown;
      await strict.service.done().catch((error: unknown) => (stopped = error));
      expect(stopped).toBeInstanceOf(PipelineStoppedError);
      expect(strict.service.state).toBe('crashed');
      const committed = (await admin.fetchOffsets({ groupId: strictGroup, topics: [topic] }))[0]!.partitions[0]!.offset;
      expect(BigInt(committed)).toBeLessThanOrEqual(1n); // -1 (nothing) or up to the garbage, never past it
      expect(await getUser(cognito, strictPool, usernameOf(after))).toBeNull();
      expect((await admin.listTopics()).includes(strictDlq) ? await readTopic(strictDlq) : []).toEqual([]);
    });
  });

  // PostgreSQL's alone: MariaDB's binlog carries full row images, there is no placeholder.
  describe('TOASTed columns (PostgreSQL)', () => {
    useSource('postgres');

    test('a TOASTed column left unchanged by an update never reaches Cognito as the placeholder', async () => {
      // A test-local mapping: examples/mapping.yaml + custom:bio from the bio column. A bio of
      // 1,500 CJK characters is 4.5 KB of UTF-8 (stored out of line: schema.sql sets STORAGE
      // EXTERNAL) but within Cognito's 2,048-character limit.
      const mapping = parse(readFileSync(join(REPO, 'examples/mapping.yaml'), 'utf8')) as Record<
        string,
        Record<string, unknown>
      >;
      mapping['attributes']!['custom:bio'] = { column: 'bio' };
      const mappingPath = join(REPO, '.stack', `semantics-toast-mapping-${id}.yaml`);
      writeFileSync(mappingPath, stringify(mapping));
      const bio = (seed: string): string =>
        Array.from({ length: 1500 }, (_, i) => String.fromCodePoint(0x4e00 + ((i * 7 + seed.length * 31) % 2000))).join(
          '',
        );
      const poolId = await createPoolWith(`e2e-sem-toast-${id}`, ['bio']);
      const from = await highWatermarks(USERS_TOPIC);

      // Written before the sync starts (it starts at the end of the topic): its first event the
      // sync sees is an update whose bio is the placeholder.
      const early = await insertUser({
        username: `toast.early.${id}`,
        email: `toast.early.${id}@example.com`,
        bio: bio('early'),
      });
      await debeziumRecords([early], from, 1);
      const group = `e2e-sem-toast-${id}`;
      const sync = await startSync({
        poolId,
        groupId: group,
        topics: [USERS_TOPIC],
        fromBeginning: false,
        mapping: mappingPath,
      });
      try {
        const ada = await insertUser({
          username: `toast.ada.${id}`,
          email: `toast.ada.${id}@example.com`,
          bio: bio('first'),
        });
        const created = await waitFor('ada with her bio', () => getUser(cognito, poolId, usernameOf(ada)));
        expect(created['custom:bio']).toBe(bio('first'));

        // Only email and last_login_at change: Debezium cannot read the unchanged TOASTed bio.
        await db.query(`UPDATE users SET email = $1, last_login_at = now() WHERE id = $2`, [
          `toast.ada.new.${id}@example.com`,
          ada,
        ]);
        await db.query(`UPDATE users SET given_name = 'Early', last_login_at = now() WHERE id = $1`, [early]);
        const updated = await waitFor('ada updated', async () => {
          const u = await getUser(cognito, poolId, usernameOf(ada));
          return u?.email === `toast.ada.new.${id}@example.com` ? u : null;
        });
        expect(updated['custom:bio']).toBe(bio('first')); // kept, not the placeholder
        const earlyUser = await waitFor('early created from an update with a TOAST placeholder', () =>
          getUser(cognito, poolId, usernameOf(early)),
        );
        expect(earlyUser.given_name).toBe('Early');
        expect(earlyUser['custom:bio']).toBeUndefined(); // unknown: left out, never the placeholder

        // The scenario really happened: Debezium wrote the placeholder for both updates.
        const records = await debeziumRecords([ada, early], from, 4);
        const placeholders = records
          .map((r) => payloadOf(r.value))
          .filter((p) => p?.['op'] === 'u' && (p['after'] as Record<string, unknown>)['bio'] === PLACEHOLDER);
        expect(placeholders).toHaveLength(2);

        // A changed bio arrives in full and is written.
        await db.query(`UPDATE users SET bio = $1 WHERE id = $2`, [bio('second, longer'), ada]);
        await waitFor(
          'ada with her new bio',
          async () => (await getUser(cognito, poolId, usernameOf(ada)))?.['custom:bio'] === bio('second, longer'),
        );
        expect(sync.calls.filter((c) => JSON.stringify(c).includes(PLACEHOLDER))).toEqual([]);
        expect(sync.writes.length).toBeGreaterThan(0);
      } finally {
        await sync.service.stop();
      }
    });
  });
});
