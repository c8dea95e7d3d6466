// Alias conflicts through the real stack: PostgreSQL -> Debezium -> Kafka -> cognito-sync ->
// strict fault proxy -> cognito-local, into a pool whose sign-in aliases are email and
// preferred_username (the migration playbook's pool). cognito-local enforces no alias rule, so
// the strict proxy answers AliasExistsException as real Cognito does
// (scripts/faults/strict-cognito.mjs). The sync reads the holder's legacy row through
// legacyDatabase.url.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { compileConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/ops/logger.js';
import { SyncService } from '../../src/runtime/sync-service.js';
import { startFaultProxy, type FaultProxy } from '../../scripts/faults/fault-proxy.mjs';
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
  kafkaAdmin,
} from './support/stack.js';

let env: StackEnv;
let db: pg.Pool;
let cognito: CognitoIdentityProviderClient;
let poolId: string;
let proxy: FaultProxy;
let admin: Admin;
const id = runId();

beforeAll(async () => {
  env = stackEnv();
  db = pgPool(env);
  cognito = cognitoClient(env);
  poolId = await createPool(cognito, `e2e-alias-${id}`, { aliasAttributes: ['email', 'preferred_username'] });
  proxy = await startFaultProxy({ target: env.COGNITO_ENDPOINT, strict: true });
  admin = await kafkaAdmin(env, 'e2e-alias');
});

afterAll(async () => {
  await admin?.disconnect();
  await proxy?.close();
  await db?.end();
});

/** A SyncService in this process, writing through the strict proxy, with its own group and DLQ. */
async function startSync(
  name: string,
  mapping = join(REPO, 'examples/mapping.yaml'),
): Promise<{ service: SyncService; dlqTopic: string }> {
  const dlqTopic = `cognito-sync.dlq.alias-${name}.${id}`;
  const service = new SyncService({
    config: compileConfig({
      kafka: {
        brokers: env.KAFKA_BROKERS.split(','),
        groupId: `e2e-alias-${name}-${id}`,
        topics: ['legacy.public.users'],
        fromBeginning: false, // only this test's changes (the topic is shared)
      },
      format: 'json',
      cognito: {
        userPoolId: poolId,
        region: env.COGNITO_REGION,
        endpoint: proxy.url,
        rates: { UserCreation: 200, UserUpdate: 200, UserRead: 500, UserResourceUpdate: 200 },
      },
      mapping,
      dlq: { topic: dlqTopic },
      legacyDatabase: { url: env.PG_URL },
      processing: { aliasWaitMs: 120_000 },
      ops: { port: 0 },
      log: { level: 'warn' },
    }),
    logger: createLogger({ level: 'warn' }),
  });
  await service.start();
  await waitFor('the consumer to join and get partitions', async () => service.ready, 60_000);
  return { service, dlqTopic };
}

async function insertUser(login: string, email: string): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO users (username, email, email_verified, given_name, family_name, locale, status, loyalty_tier, marketing_opt_in)
     VALUES ($1, $2, true, 'Alias', 'Test', 'de-DE', 'active', 'gold', true) RETURNING id`,
    [login, email],
  );
  return Number(rows[0]!.id);
}

const usernameOf = (legacyId: number): string => `legacy_${legacyId}`;

/** The user once it has `email`, verified (so it holds the alias again). */
const hasEmail = (legacyId: number, email: string) => async () => {
  const user = await getUser(cognito, poolId, usernameOf(legacyId));
  return user?.email === email && user.email_verified === 'true' ? user : null;
};

async function dlqMessages(topic: string): Promise<string[]> {
  if (!(await admin.listTopics()).includes(topic)) return [];
  const offsets = await admin.fetchTopicOffsets(topic);
  const total = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  if (total === 0) return [];
  const consumer = new Kafka({ brokers: env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).consumer({
    groupId: `e2e-alias-dlq-reader-${runId()}`,
  });
  const messages: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        messages.push(String(message.headers?.['cognito-sync.error.message'] ?? ''));
      },
    });
    await waitFor('the DLQ records', async () => messages.length >= total, 30_000);
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/** Two users created and in Cognito with their emails (both verified: both hold their alias). */
async function twoUsers(tag: string): Promise<{ a: number; b: number; emailA: string; emailB: string }> {
  const emailA = `a.${tag}.${id}@example.com`;
  const emailB = `b.${tag}.${id}@example.com`;
  const a = await insertUser(`a.${tag}.${id}`, emailA);
  const b = await insertUser(`b.${tag}.${id}`, emailB);
  await waitFor('A in Cognito', hasEmail(a, emailA));
  await waitFor('B in Cognito', hasEmail(b, emailB));
  return { a, b, emailA, emailB };
}

describe('alias conflicts converge without a person (strict proxy in front of cognito-local)', () => {
  test('two users who swap emails in one transaction both end with their new email, and nothing goes to the DLQ', async () => {
    const { service, dlqTopic } = await startSync('swap');
    try {
      const { a, b, emailA, emailB } = await twoUsers('swap');
      const refusedBefore = proxy.state.strict!.refused;
      const client = await db.connect();
      try {
        await client.query('BEGIN');
        await client.query('UPDATE users SET email = $1, updated_at = now() WHERE id = $2', [emailB, a]);
        await client.query('UPDATE users SET email = $1, updated_at = now() WHERE id = $2', [emailA, b]);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
      await waitFor('A with B’s old email', hasEmail(a, emailB), 90_000);
      await waitFor('B with A’s old email', hasEmail(b, emailA), 90_000);
      // The conflict did happen (whichever applied first met the other's old value) ...
      expect(proxy.state.strict!.refused).toBeGreaterThan(refusedBefore);
      // ... and ended without the DLQ.
      expect(await dlqMessages(dlqTopic)).toEqual([]);
    } finally {
      await service.stop();
    }
  }, 240_000);

  test('A takes B’s old email and is applied before B’s change: A waits for B and ends right, without a re-drive', async () => {
    const { service, dlqTopic } = await startSync('take');
    try {
      const { a, b, emailB } = await twoUsers('take');
      const newB = `b2.take.${id}@example.com`;
      // B's write is held back 3 s by the proxy, so A's (from another partition or not) is
      // certainly judged first: it meets B's old value, which B's legacy row no longer has.
      await proxy.setFault({
        kind: 'delay',
        delayMs: 3_000,
        match: (info) => info.op === 'AdminUpdateUserAttributes' && (info.body ?? '').includes(`"${usernameOf(b)}"`),
      });
      const refusedBefore = proxy.state.strict!.refused;
      try {
        const client = await db.connect();
        try {
          await client.query('BEGIN');
          await client.query('UPDATE users SET email = $1, updated_at = now() WHERE id = $2', [newB, b]);
          await client.query('UPDATE users SET email = $1, updated_at = now() WHERE id = $2', [emailB, a]);
          await client.query('COMMIT');
        } finally {
          client.release();
        }
        await waitFor('B with its new email', hasEmail(b, newB), 90_000);
        await waitFor('A with B’s old email', hasEmail(a, emailB), 90_000);
      } finally {
        await proxy.setFault(null);
      }
      expect(proxy.state.strict!.refused).toBeGreaterThan(refusedBefore);
      expect(await dlqMessages(dlqTopic)).toEqual([]);
    } finally {
      await service.stop();
    }
  }, 240_000);

  test('a genuine legacy duplicate goes to the DLQ once, naming both legacy keys (not the email)', async () => {
    const { service, dlqTopic } = await startSync('dup');
    try {
      const email = `dup.${id}@example.com`;
      const first = await insertUser(`first.dup.${id}`, email);
      await waitFor('the first user in Cognito', hasEmail(first, email));
      const second = await insertUser(`second.dup.${id}`, email);

      const messages = await waitFor(
        'the duplicate in the DLQ',
        async () => {
          const found = await dlqMessages(dlqTopic);
          return found.length > 0 ? found : null;
        },
        90_000,
      );
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatch(new RegExp(`row id=${second} .*row id=${first} `));
      expect(messages[0]).toMatch(/legacy database has the same email for both rows/);
      expect(messages[0]).not.toContain(email);
      expect(await getUser(cognito, poolId, usernameOf(second))).toBeNull();
      expect((await getUser(cognito, poolId, usernameOf(first)))?.email).toBe(email);
    } finally {
      await service.stop();
    }
  }, 240_000);

  test("with the mapping's forceAliasCreation, a new user takes a verified email from its holder, who keeps it unverified", async () => {
    const dir = join(REPO, '.stack', `e2e-alias-${id}`);
    mkdirSync(dir, { recursive: true });
    const forced = join(dir, 'mapping-force.yaml');
    writeFileSync(forced, `${readFileSync(join(REPO, 'examples/mapping.yaml'), 'utf8')}\nforceAliasCreation: true\n`);
    const { service, dlqTopic } = await startSync('force', forced);
    try {
      const email = `force.${id}@example.com`;
      const first = await insertUser(`first.force.${id}`, email);
      await waitFor('the first user in Cognito', hasEmail(first, email));
      const second = await insertUser(`second.force.${id}`, email);
      await waitFor('the second user, with the email verified', hasEmail(second, email), 90_000);
      // Real Cognito moves the alias atomically with the creation; the strict proxy creates first
      // and then unverifies the holder, and this test reads cognito-local directly, so it can see
      // the moment in between: wait for the holder's side.
      const holder = await waitFor('the holder to keep its email, unverified', async () => {
        const user = await getUser(cognito, poolId, usernameOf(first));
        return user?.email_verified === 'false' ? user : null;
      });
      expect(holder).toMatchObject({ email, email_verified: 'false' });
      expect(await dlqMessages(dlqTopic)).toEqual([]);
    } finally {
      await service.stop();
    }
  }, 240_000);
});
