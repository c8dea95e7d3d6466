// Backfills through the real stack: users and their role rows written together (one large
// transaction, as a bulk import or a first Debezium snapshot produces them), synced into empty
// pools by a live group and by `replay --run`, with kafkajs' fetch limits at their defaults and
// tiny. The roles topic runs ahead of the users topic then; no membership may be lost, nothing
// may go to the DLQ, and a replay of the synced topics must cost listing calls, not per-user reads.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import {
  ListUsersInGroupCommand,
  ListUsersCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { Kafka, logLevel } from 'kafkajs';
import { compileConfig } from '../../src/config/load-config.js';
import type { QuotaCategory } from '../../src/core/types.js';
import { createLogger } from '../../src/ops/logger.js';
import { SyncService } from '../../src/runtime/sync-service.js';
import { fetchLag, totalLag } from '../../src/adapters/kafka/lag.js';
import { runCliProcess } from './support/cli-process.js';
import { REPO, cognitoClient, createPool, pgPool, runId, stackEnv, waitFor, type StackEnv } from './support/stack.js';

const TOPICS = ['legacy.public.users', 'legacy.public.user_roles'];
const USERS = 600;

let env: StackEnv;
let db: pg.Pool;
let cognito: CognitoIdentityProviderClient;
let kafka: Kafka;
const id = runId();

function rawConfig(poolId: string, groupId: string, dlqTopic: string, fetchMaxBytes?: number) {
  return {
    kafka: {
      brokers: env.KAFKA_BROKERS.split(','),
      groupId,
      topics: TOPICS,
      fromBeginning: false,
      ...(fetchMaxBytes ? { fetchMaxBytes } : {}),
    },
    format: 'json',
    cognito: {
      userPoolId: poolId,
      region: env.COGNITO_REGION,
      endpoint: env.COGNITO_ENDPOINT,
      rates: { UserCreation: 300, UserUpdate: 300, UserRead: 300, UserResourceUpdate: 300, UserList: 50 },
    },
    mapping: join(REPO, 'examples/mapping.yaml'),
    dlq: { topic: dlqTopic },
    // A membership that waited for a user who never comes would go to the DLQ after this: far
    // beyond the test's patience, so a stalled partition shows as a timeout, not as a pass.
    processing: { missingUserTimeoutMs: 600_000 },
    ops: { port: 0 },
    log: { level: 'warn' },
  } as const;
}

/** Users and one role row each, in one transaction; returns their legacy ids. */
async function insertTogether(count: number, tag: string, role: string, badEmailAt?: number): Promise<number[]> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const email = i === badEmailAt ? `broken@@${tag}.example.com` : `u${i}.${tag}@example.com`;
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO users (username, email, email_verified, given_name, family_name, locale, status) VALUES ($1, $2, true, $3, 'Backfill', 'de-DE', 'active') RETURNING id`,
        [`u${i}.${tag}`, email, `U${i}`],
      );
      const legacyId = Number(rows[0]!.id);
      ids.push(legacyId);
      await client.query('INSERT INTO user_roles (user_id, role) VALUES ($1, $2)', [legacyId, role]);
    }
    await client.query('COMMIT');
    return ids;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

async function members(poolId: string, group: string): Promise<Set<string>> {
  const names = new Set<string>();
  let token: string | undefined;
  do {
    const page = await cognito.send(
      new ListUsersInGroupCommand({ UserPoolId: poolId, GroupName: group, NextToken: token }),
    );
    for (const u of page.Users ?? []) names.add(u.Username!);
    token = page.NextToken;
  } while (token);
  return names;
}

async function usernames(poolId: string): Promise<Set<string>> {
  const names = new Set<string>();
  let token: string | undefined;
  do {
    const page = await cognito.send(new ListUsersCommand({ UserPoolId: poolId, PaginationToken: token }));
    for (const u of page.Users ?? []) names.add(u.Username!);
    token = page.PaginationToken;
  } while (token);
  return names;
}

/** The legacy ids the DLQ's records are about (users' id, role rows' user_id). */
async function dlqIds(topic: string): Promise<Set<number>> {
  const ids = new Set<number>();
  for (const m of await dlqMessages(topic)) if (m.id !== undefined) ids.add(m.id);
  return ids;
}

/** Records in a DLQ topic (0 when it was never created). */
async function dlqRecords(topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return 0;
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

async function groupLag(groupId: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return totalLag(await fetchLag(admin, groupId, TOPICS));
  } finally {
    await admin.disconnect();
  }
}

type Offsets = { topic: string; partition: number; offset: string }[];

/** The end offset of every partition of the topics: where records written from now on start. */
async function endOffsets(): Promise<Offsets> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const out: Offsets = [];
    for (const topic of TOPICS)
      for (const p of await admin.fetchTopicOffsets(topic)) out.push({ topic, partition: p.partition, offset: p.high });
    return out;
  } finally {
    await admin.disconnect();
  }
}

/** Commits `groupId` at `offsets`: a new group that replays from there. */
async function startGroupAt(groupId: string, offsets: Offsets): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const topic of TOPICS) {
      await admin.setOffsets({
        groupId,
        topic,
        partitions: offsets.filter((o) => o.topic === topic).map((o) => ({ partition: o.partition, offset: o.offset })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}

async function liveSync(poolId: string, groupId: string, dlqTopic: string, fetchMaxBytes?: number, awaitPrime = false) {
  const calls = new Map<QuotaCategory | 'none', number>();
  /** Per-user calls (reads and writes) by username: what the pipeline asked of Cognito for whom. */
  const perUser = new Map<string, string[]>();
  const note = (username: string, api: string): void =>
    void perUser.set(username, [...(perUser.get(username) ?? []), api]);
  const service = new SyncService({
    config: compileConfig(rawConfig(poolId, groupId, dlqTopic, fetchMaxBytes)),
    logger: createLogger({ level: 'warn' }),
    onCognitoCall: (e) => {
      if (e.outcome === 'ok') calls.set(e.category ?? 'none', (calls.get(e.category ?? 'none') ?? 0) + 1);
    },
    awaitPrime,
    decorateGateway: (gateway) => ({
      getUser: (username, withGroups) => (note(username, 'AdminGetUser'), gateway.getUser(username, withGroups)),
      execute: (call) => (note(call.username, call.api), gateway.execute(call)),
    }),
  });
  await service.start();
  await waitFor('the consumer to join and get partitions', async () => service.ready, 60_000);
  return { service, calls, perUser };
}

beforeAll(async () => {
  env = stackEnv();
  db = pgPool(env);
  cognito = cognitoClient(env);
  kafka = new Kafka({ brokers: env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
});

afterAll(async () => {
  await db?.end();
});

describe('backfills: users and their role rows written together', () => {
  // The pool of the first (default fetch size) run, and where its transaction starts in the
  // topics: the replay tests below read the same records again.
  let synced: { poolId: string; from: Offsets; names: string[] } | undefined;

  // The live group fetches with kafkajs' defaults, `replay --run` below with tiny fetches (2 KiB:
  // a handful of records a batch), so each setting meets the roles topic running ahead. (Every
  // user written here is re-created by the other files' replays from the earliest offset into
  // cognito-local, whose writes slow down with the pool's size: one transaction more would cost
  // them minutes.)
  for (const fetchMaxBytes of [undefined]) {
    const label = fetchMaxBytes === undefined ? 'default fetch limits' : `fetchMaxBytes ${fetchMaxBytes}`;
    test(`a live group syncs ${USERS} users and their role rows from one transaction into an empty pool: every user, every membership, no DLQ record (${label})`, async () => {
      const tag = `bf${fetchMaxBytes ?? 0}.${id}`;
      const poolId = await createPool(cognito, `e2e-backfill-${tag}`);
      const group = `e2e-backfill-${tag}`;
      const dlqTopic = `cognito-sync.dlq.${tag}`;
      const { service } = await liveSync(poolId, group, dlqTopic, fetchMaxBytes);
      try {
        const from = await endOffsets();
        const ids = await insertTogether(USERS, tag, 'support');
        const names = ids.map((n) => `legacy_${n}`);
        const ours = async (): Promise<string[]> =>
          [...(await members(poolId, 'support'))].filter((n) => names.includes(n));
        await waitFor(
          `${USERS} memberships in support`,
          async () => ((await ours()).length >= USERS ? true : null),
          240_000,
          1000,
        );
        const all = await usernames(poolId);
        expect(names.filter((n) => !all.has(n))).toEqual([]);
        // Everything is committed (no membership still holds its partition back) ...
        await waitFor('the group to be committed to the end', async () => (await groupLag(group)) === 0, 60_000, 500);
        // ... and nothing of these users went to the DLQ.
        expect([...(await dlqIds(dlqTopic))].filter((n) => ids.includes(n))).toEqual([]);
        if (fetchMaxBytes === undefined) synced = { poolId, from, names };
      } finally {
        await service.stop();
      }
    });
  }

  test('a replay of the synced topics by a new group makes no write and reads no user one by one: it lists the pool', async () => {
    if (!synced) throw new Error('needs the first test of this file (the synced pool)');
    const group = `e2e-backfill-replay-${id}`;
    await startGroupAt(group, synced.from);
    // As `replay --run` does: the pool is listed before anything is consumed.
    const { service, calls, perUser } = await liveSync(
      synced.poolId,
      group,
      `cognito-sync.dlq.replay.${id}`,
      undefined,
      true,
    );
    try {
      await waitFor('the replay to catch up', async () => (await groupLag(group)) === 0, 240_000, 500);
    } finally {
      await service.stop();
    }
    // The pool state came from ListUsers / ListUsersInGroup pages; every record of these users
    // was judged from it: no read, no write.
    expect(calls.get('UserList') ?? 0).toBeGreaterThan(0);
    expect(synced.names.flatMap((n) => (perUser.get(n) ?? []).map((api) => `${n} ${api}`))).toEqual([]);
    const support = await members(synced.poolId, 'support');
    expect(synced.names.filter((n) => !support.has(n))).toEqual([]);
  });

  test(`replay --run by a new group into an empty pool, with tiny fetches: ${USERS} users, ${USERS} memberships, no DLQ record`, async () => {
    if (!synced) throw new Error('needs the first test of this file (the topics with the transaction)');
    const poolId = await createPool(cognito, `e2e-backfill-cli-${id}`);
    const dlqTopic = `cognito-sync.dlq.cli.${id}`;
    const dir = mkdtempSync(join(tmpdir(), 'backfill-'));
    const config = join(dir, 'sync.json');
    writeFileSync(config, JSON.stringify(rawConfig(poolId, `e2e-backfill-cli-${id}`, dlqTopic, 2048)));
    const offsets = synced.from.map((o) => `${o.topic}:${o.partition}=${o.offset}`).join(',');
    const replay = await runCliProcess([
      'replay',
      '--config',
      config,
      '--to-offsets',
      offsets,
      '--run',
      '--yes',
      '--no-progress',
    ]);
    expect([replay.code, replay.stderr.split('\n').filter((l) => /"level":(50|60)/.test(l))]).toEqual([0, []]);
    const support = await members(poolId, 'support');
    expect(synced.names.filter((name) => !support.has(name))).toEqual([]);
    expect(await dlqRecords(dlqTopic)).toBe(0);
  });

  test('role rows of a user whose own record went to the DLQ are dead-lettered once, naming it, and hold nothing else back', async () => {
    const tag = `dl.${id}`;
    const poolId = await createPool(cognito, `e2e-backfill-${tag}`);
    const group = `e2e-backfill-${tag}`;
    const dlqTopic = `cognito-sync.dlq.${tag}`;
    const { service } = await liveSync(poolId, group, dlqTopic);
    try {
      // User 3 of 40 has an invalid email: its users record goes to the DLQ, and its role row
      // can never be applied. With missingUserTimeoutMs at 10 minutes, a partition held by that
      // row would keep the others' memberships (and the commit) waiting far past this test.
      const ids = await insertTogether(40, tag, 'admin', 3);
      const good = ids.filter((_, i) => i !== 3).map((n) => `legacy_${n}`);
      await waitFor(
        '39 memberships in admin',
        async () => ((await members(poolId, 'admin')).size >= 39 ? true : null),
        120_000,
        500,
      );
      expect([...(await members(poolId, 'admin'))].sort()).toEqual([...good].sort());
      await waitFor('the group to be committed to the end', async () => (await groupLag(group)) === 0, 120_000, 500);
      // Two records in the DLQ: the user's row and its role row (once each).
      expect(await dlqRecords(dlqTopic)).toBe(2);
    } finally {
      await service.stop();
    }
    const messages = await dlqMessages(dlqTopic);
    const roleRow = messages.find((m) => m.topic === 'legacy.public.user_roles');
    expect(roleRow?.message).toMatch(/user's own record went to the DLQ \(legacy\.public\.users:\d+:\d+\)/);
  });
});

/** The DLQ's records: source topic and error message headers, and the legacy id of the key. */
async function dlqMessages(topic: string): Promise<{ topic: string; message: string; id?: number }[]> {
  if ((await dlqRecords(topic)) === 0) return [];
  const consumer = kafka.consumer({ groupId: `e2e-dlq-read-${runId()}` });
  const out: { topic: string; message: string; id?: number }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const total = await dlqRecords(topic);
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            const header = (name: string): string => message.headers?.[name]?.toString() ?? '';
            const key = JSON.parse(message.key?.toString() ?? 'null') as
              | ({ payload?: Record<string, unknown> } & Record<string, unknown>)
              | null;
            const fields = key?.payload ?? key ?? {};
            const legacyId = Number(fields.id ?? fields.user_id);
            out.push({
              topic: header('cognito-sync.source.topic'),
              message: header('cognito-sync.error.message'),
              ...(Number.isFinite(legacyId) ? { id: legacyId } : {}),
            });
            if (out.length >= total) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}
