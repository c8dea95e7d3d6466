// Bad input against a real `cognito-sync run` (the CLI as a child process, its own pool,
// group, DLQ and a topic of its own to poison): garbage records between good ones go to the
// DLQ with their original bytes and the partition keeps flowing; a row the mapping refuses goes
// there too; abuse of the ops port changes nothing; the ops port listens on localhost only; and
// neither the logs nor /metrics carry the users' e-mails, phones or names. SIGTERM still ends
// it cleanly with a half-sent request open on the ops port.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
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
import { httpGet, listenAddressOf, startSyncProcess, type SyncProcess } from '../soak/support/sync-process.js';
import { parseMetrics, sum } from '../soak/support/prometheus.js';

const id = runId();
const POISON_TOPIC = `badinput.${id}.public.users`;
const DLQ_TOPIC = `cognito-sync.dlq.badinput.${id}`;
const dir = join(REPO, '.stack', `e2e-bad-input-${id}`);

let env: StackEnv;
let db: pg.Pool;
let cognito: CognitoIdentityProviderClient;
let poolId: string;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let sync: SyncProcess;
let opsUrl: string;

interface Fixture {
  topic: string;
  partition: number;
  offset: number | string;
  key_b64: string | null;
  value_b64: string | null;
}
const fixtures = JSON.parse(readFileSync(join(REPO, 'test/fixtures/debezium/json.json'), 'utf8')) as Fixture[];
const fixture = (partition: number, offset: number): { key: Buffer; value: Buffer } => {
  const f = fixtures.find(
    (r) => r.topic === 'fx_json.public.users' && r.partition === partition && Number(r.offset) === offset,
  )!;
  return { key: Buffer.from(f.key_b64!, 'base64'), value: Buffer.from(f.value_b64!, 'base64') };
};
const DAVE = fixture(1, 2); // op c, id 10
const EVE = fixture(2, 3); // op c, id 20

/** Users with personal data worth looking for afterwards (distinctive, so a find is a leak). */
const people = [0, 1, 2].map((i) => ({
  login: `badinput.${id}.${i}`,
  email: `Pers.${id}.${i}@BadInput-${id}.example`,
  phone: `+49 170 ${String(1_000_000 + i * 7919).padStart(8, '0')}`,
  given: `Gíven${id}x${i}`,
  family: `Fämily${id}x${i}`,
}));
const refusedEmail = `not an email ${id}`;

async function insert(
  p: (typeof people)[number] | { login: string; email: string; phone: string; given: string; family: string },
): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO users (username, email, email_verified, phone, given_name, family_name, status) VALUES ($1, $2, true, $3, $4, $5, 'active') RETURNING id`,
    [p.login, p.email, p.phone, p.given, p.family],
  );
  return Number(rows[0]!.id);
}

/** Raw-socket request: the bytes go as given; resolves with what came back. */
function raw(bytes: string | Buffer, port: number, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const s = connect({ port, host: '127.0.0.1' }, () => {
      s.write(bytes);
      s.end();
    });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(out);
    }, timeoutMs);
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

const legacyIds: number[] = [];

beforeAll(async () => {
  env = stackEnv();
  db = pgPool(env);
  cognito = cognitoClient(env);
  poolId = await createPool(cognito, `e2e-bad-input-${id}`);
  kafka = new Kafka({ brokers: env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: POISON_TOPIC, numPartitions: 1 }], waitForLeaders: true });
  producer = kafka.producer();
  await producer.connect();
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, 'sync.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      kafka: {
        brokers: env.KAFKA_BROKERS.split(','),
        groupId: `e2e-bad-input-${id}`,
        topics: ['legacy.public.users', POISON_TOPIC],
        fromBeginning: false,
      },
      format: 'json',
      cognito: {
        userPoolId: poolId,
        region: env.COGNITO_REGION,
        endpoint: env.COGNITO_ENDPOINT,
        rates: { UserCreation: 200, UserUpdate: 200, UserRead: 500, UserResourceUpdate: 200 },
      },
      mapping: join(REPO, 'examples/mapping.yaml'),
      dlq: { topic: DLQ_TOPIC },
      ops: { port: 0 }, // no host: the default must be localhost
      log: { level: 'debug' }, // the most a log could say
    }),
  );
  sync = startSyncProcess({ configPath, logFile: join(dir, 'sync.log') });
  opsUrl = await sync.opsUrl;
  await waitFor(
    'the sync to be ready',
    async () => (await httpGet(`${opsUrl}/readyz`).catch(() => ({ status: 0 }))).status === 200,
    90_000,
    250,
  );
}, 120_000);

afterAll(async () => {
  if (sync?.running) await sync.stop(30_000);
  await producer?.disconnect();
  await admin?.disconnect();
  if (legacyIds.length > 0) await db?.query('DELETE FROM users WHERE id = ANY($1)', [legacyIds]).catch(() => undefined);
  await db?.end();
});

describe('cognito-sync run fed bad input', () => {
  test('the ops port listens on 127.0.0.1 only when ops.host is not set', async () => {
    const url = new URL(opsUrl);
    expect(url.hostname).toBe('127.0.0.1');
    expect(listenAddressOf(Number(url.port))).toEqual(['127.0.0.1']);
    const external = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
      .map((a) => a!.address);
    for (const address of external)
      await expect(httpGet(`http://${address}:${url.port}/healthz`, 3_000)).rejects.toThrow();
  });

  let dlqBefore = 0;
  const poison: {
    name: string;
    key: Buffer | null;
    value: Buffer | null;
    headers?: Record<string, string>;
    stage?: string;
  }[] = [
    { name: 'random bytes', key: Buffer.from([0xde, 0xad]), value: Buffer.from([0x13, 0x37, 0xff, 0x00, 0x80, 0x7f]) },
    // Any JSON object decodes as an ExtractNewRecordState row; the mapping then refuses it (no id).
    {
      name: 'JSON that is not a Debezium record',
      key: Buffer.from('{"id": 1}'),
      value: Buffer.from('{"hello": "world"}'),
      headers: { 'x-trace': 'keep-me' },
      // Read as an ExtractNewRecordState row, which lacks __op, __deleted and a position: refused
      // at decode, naming the connector settings (decode/unwrap checks).
    },
    {
      name: 'an envelope whose payload contradicts its schema',
      key: DAVE.key,
      value: Buffer.from(
        DAVE.value
          .toString()
          .replace('"op":"c"', '"op":"c","after":"x"')
          .replace(/"payload":\{/, '"payload":{"before":7,'),
      ),
    },
    {
      name: 'Avro wire format on a JSON sync',
      key: null,
      value: Buffer.from([0x00, 0x00, 0x00, 0x01, 0x2c, 0x02, 0x04]),
    },
    { name: 'an empty value', key: Buffer.from('{"id": 2}'), value: Buffer.alloc(0) },
    { name: 'a tombstone with a garbage key', key: Buffer.from('\u0001\u0002garbage'), value: null },
    { name: 'half a megabyte of junk', key: null, value: Buffer.alloc(512 * 1024, 0x7b) },
  ];

  test('garbage between good records goes to the DLQ with its original bytes; the good records after it are applied', async () => {
    const messages = [
      poison[0]!,
      { name: 'dave', key: DAVE.key, value: DAVE.value },
      ...poison.slice(1, 4),
      { name: 'eve', key: EVE.key, value: EVE.value },
      ...poison.slice(4),
    ];
    await producer.send({
      topic: POISON_TOPIC,
      messages: messages.map((m) => ({
        partition: 0,
        key: m.key,
        value: m.value,
        headers: 'headers' in m ? m.headers : undefined,
      })),
    });
    await waitFor('dave (after garbage) in Cognito', () => getUser(cognito, poolId, 'legacy_10'), 60_000);
    await waitFor('eve (between garbage) in Cognito', () => getUser(cognito, poolId, 'legacy_20'), 60_000);

    const dead = await waitFor(
      'every poison record in the DLQ',
      async () => {
        const records = await readTopic(DLQ_TOPIC);
        const ours = records
          .filter((r) => r.headers['cognito-sync.source.topic'] === POISON_TOPIC)
          .sort(
            (a, b) => Number(a.headers['cognito-sync.source.offset']) - Number(b.headers['cognito-sync.source.offset']),
          );
        return ours.length >= poison.length ? ours : null;
      },
      60_000,
      500,
    );
    expect(dead).toHaveLength(poison.length);
    for (const [i, p] of poison.entries()) {
      const d = dead[i]!;
      expect({ name: p.name, value: d.value?.toString('hex') ?? null }).toEqual({
        name: p.name,
        value: p.value?.toString('hex') ?? null,
      });
      expect(d.key?.toString('hex') ?? null).toBe(p.key?.toString('hex') ?? null);
      expect({ name: p.name, stage: d.headers['cognito-sync.error.stage'] }).toEqual({
        name: p.name,
        stage: p.stage ?? 'decode',
      });
      expect(d.headers['cognito-sync.error.message']!.length).toBeGreaterThan(10);
      for (const [k, v] of Object.entries(p.headers ?? {})) expect(d.headers[k]).toBe(v);
    }
    dlqBefore = dead.length;
    expect(sync.running).toBe(true);
    expect((await httpGet(`${opsUrl}/healthz`)).status).toBe(200);
  });

  test('a row the mapping refuses goes to the DLQ (stage map), the rows around it are synced', async () => {
    const a = await insert(people[0]!);
    const bad = await insert({
      login: `badinput.${id}.refused`,
      email: refusedEmail,
      phone: '+49 170 5550000',
      given: `Refused${id}`,
      family: `Row${id}`,
    });
    const b = await insert(people[1]!);
    legacyIds.push(a, bad, b);
    await waitFor(
      'the rows around the refused one',
      async () => (await getUser(cognito, poolId, `legacy_${a}`)) && (await getUser(cognito, poolId, `legacy_${b}`)),
      60_000,
    );
    const refused = await waitFor(
      'the refused row in the DLQ',
      async () =>
        (await readTopic(DLQ_TOPIC)).find(
          (r) =>
            r.headers['cognito-sync.source.topic'] === 'legacy.public.users' &&
            r.key?.toString().includes(`"id":${bad}`),
        ),
      60_000,
      500,
    );
    expect(refused.headers['cognito-sync.error.stage']).toBe('map');
    expect(refused.headers['cognito-sync.error.message']).toMatch(/email/);
    expect(await getUser(cognito, poolId, `legacy_${bad}`)).toBeNull();
    const metrics = parseMetrics((await httpGet(`${opsUrl}/metrics`)).body);
    expect(sum(metrics, 'cognito_sync_dlq_records_total')).toBeGreaterThanOrEqual(dlqBefore + 1);
  });

  test('abuse of the ops port leaves the sync serving and syncing', async () => {
    const port = Number(new URL(opsUrl).port);
    const answers = await Promise.all([
      raw('FROB / HTTP/1.1\r\nhost: x\r\n\r\n', port),
      raw(`GET /${'x'.repeat(200_000)} HTTP/1.1\r\nhost: x\r\n\r\n`, port),
      raw(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x00]), port),
      raw('POST /metrics HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello', port),
      ...Array.from({ length: 300 }, () =>
        raw('GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n', port, 15_000),
      ),
    ]);
    expect(answers[0]).toMatch(/^HTTP\/1\.1 400/);
    expect(answers[1]).toMatch(/^HTTP\/1\.1 431|^$/);
    expect(answers[3]).toMatch(/^HTTP\/1\.1 405/);
    expect(answers.slice(4).filter((a) => a.startsWith('HTTP/1.1 200')).length).toBeGreaterThan(100);
    expect(sync.running).toBe(true);
    for (const path of ['/metrics', '/healthz', '/readyz'])
      expect((await httpGet(`${opsUrl}${path}`)).status).toBe(200);
    const c = await insert(people[2]!);
    legacyIds.push(c);
    await waitFor('a user written after the abuse', () => getUser(cognito, poolId, `legacy_${c}`), 60_000);
  });

  test('neither the logs nor /metrics carry e-mails, phones or names; SIGTERM with a half-sent request open exits 0', async () => {
    const metricsText = (await httpGet(`${opsUrl}/metrics`)).body;
    // A slowloris-style request left open while the sync is asked to stop.
    const port = Number(new URL(opsUrl).port);
    const lingering: Socket = connect({ port, host: '127.0.0.1' });
    lingering.on('error', () => undefined);
    lingering.write('GET /metrics HTTP/1.1\r\nhost: x\r\nx-slow: ');
    await new Promise((r) => setTimeout(r, 200));
    const stop = await sync.stop(60_000);
    lingering.destroy();
    expect(stop).toMatchObject({ code: 0, killed: false });
    expect(stop.ms).toBeLessThan(30_000);

    const log = sync.log();
    expect(log).toContain('record sent to DLQ'); // the log did talk about these records
    const values = [
      ...people.flatMap((p) => [
        p.email,
        p.email.toLowerCase(),
        p.phone,
        p.phone.replace(/\s/g, ''),
        p.given,
        p.family,
      ]),
      refusedEmail,
      `Refused${id}`,
      `Row${id}`,
      // The fixture users synced through the poison topic.
      'Dave.OConnor@Example.com',
      'dave.oconnor@example.com',
      'EVE@example.org',
      'eve@example.org',
    ];
    const leaks = values.filter((v) => log.includes(v) || metricsText.includes(v));
    expect(leaks).toEqual([]);
  });
});

interface DlqRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Every record of a topic, read by a throwaway consumer up to the current end. */
async function readTopic(topic: string): Promise<DlqRecord[]> {
  if (!(await admin.listTopics()).includes(topic)) return [];
  const offsets = await admin.fetchTopicOffsets(topic);
  const total = offsets.reduce((n, p) => n + Number(BigInt(p.high) - BigInt(p.low)), 0);
  if (total === 0) return [];
  const out: (DlqRecord & { partition: number; offset: bigint })[] = [];
  const consumer = kafka.consumer({ groupId: `e2e-bad-input-read-${id}-${Date.now()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 20_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {}))
            if (v !== undefined) headers[k] = Buffer.isBuffer(v) ? v.toString() : String(v);
          out.push({ partition, offset: BigInt(message.offset), key: message.key, value: message.value, headers });
          if (out.length >= total) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return out.sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset));
}
