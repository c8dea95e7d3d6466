// Adversarial scenarios through the real stack (PostgreSQL -> Debezium -> Kafka -> the built CLI
// -> cognito-local): what real legacy applications and operators do that could leave the sync
// silently wrong. Each scenario ends with the reconcile module over exactly this test's rows
// (zero drift: attributes, enabled flag and memberships) and an exact account of the DLQ.
// Each has its own pool, consumer group (pinned at the topics' end), DLQ topic and rows.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import {
  AdminRemoveUserFromGroupCommand,
  ListUsersCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { runCliProcess } from './support/cli-process.js';
import {
  REPO,
  cognitoClient,
  createPool,
  kafkaAdmin,
  pgPool,
  pinGroupAtEnd,
  runId,
  stackEnv,
  waitFor,
  type StackEnv,
} from './support/stack.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createGateway, loadCompiledMapping, poolAccess } from '../../src/runtime/pipeline-factory.js';
import { openLegacySource } from '../../src/migration/legacy-source.js';
import { reconcile, type ReconcileReport } from '../../src/migration/reconcile.js';
import type { LegacyDatabase } from '../../src/adapters/legacy-db/legacy-database.js';

const USERS = 'legacy.public.users';
const ROLES = 'legacy.public.user_roles';
const TOPICS = [USERS, ROLES];
const id = runId();
let env: StackEnv;
let db: pg.Pool;
let admin: Admin;
let cognito: CognitoIdentityProviderClient;

beforeAll(async () => {
  env = stackEnv();
  db = pgPool(env);
  admin = await kafkaAdmin(env, 'e2e-adversarial');
  cognito = cognitoClient(env);
});

afterAll(async () => {
  await admin?.disconnect();
  await db?.end();
});

/** One scenario's pool, group, DLQ topic and config file. */
interface Setup {
  name: string;
  poolId: string;
  group: string;
  dlqTopic: string;
  config: string;
  /** Usernames (legacy login names) of this scenario's rows start with it. */
  prefix: string;
}

async function setup(
  name: string,
  o: { processing?: Record<string, unknown>; rates?: Record<string, number>; instances?: number } = {},
): Promise<Setup> {
  const poolId = await createPool(cognito, `e2e-adv-${name}-${id}`);
  const group = `e2e-adv-${name}-${id}`;
  await pinGroupAtEnd(admin, group, TOPICS);
  const dlqTopic = `cognito-sync.dlq.adv-${name}.${id}`;
  const config = join(REPO, '.stack', `e2e-adv-${name}-${id}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      kafka: {
        brokers: env.KAFKA_BROKERS.split(','),
        groupId: group,
        topics: TOPICS,
        fromBeginning: false,
        // A SIGKILLed member holds its partitions until its session expires.
        sessionTimeoutMs: 6000,
      },
      format: 'json',
      cognito: {
        userPoolId: poolId,
        region: env.COGNITO_REGION,
        endpoint: env.COGNITO_ENDPOINT,
        emulatorCredentials: true,
        ...(o.rates ? { rates: o.rates } : {}),
        ...(o.instances ? { instances: o.instances } : {}),
      },
      mapping: join(REPO, 'examples/mapping.yaml'),
      dlq: { topic: dlqTopic },
      ...(o.processing ? { processing: o.processing } : {}),
      legacyDatabase: { url: env.PG_URL, pageSize: 1000 },
      log: { level: 'warn' },
      ops: { port: 0 },
    }),
  );
  return { name, poolId, group, dlqTopic, config, prefix: `adv.${name}.${id}.` };
}

/** The topics' end offsets ("topic:partition" -> offset), to wait for what Debezium writes next. */
async function ends(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const topic of TOPICS)
    for (const p of await admin.fetchTopicOffsets(topic)) out.set(`${topic}:${p.partition}`, Number(p.high));
  return out;
}

/** Records written to `topic` between two ends(). */
const written = (from: Map<string, number>, to: Map<string, number>, topic: string): number =>
  [...to].reduce((n, [key, high]) => (key.startsWith(`${topic}:`) ? n + high - from.get(key)! : n), 0);

/** replay --to-offsets spec for the offsets of an ends(). */
const offsetSpec = (at: Map<string, number>): string => [...at].map(([key, offset]) => `${key}=${offset}`).join(',');

/** Waits until Debezium wrote at least `expected` records per topic since `from`. */
async function waitForRecords(from: Map<string, number>, expected: { users: number; roles: number }): Promise<void> {
  await waitFor(
    `${expected.users} users and ${expected.roles} role records in Kafka`,
    async () => {
      const now = await ends();
      return written(from, now, USERS) >= expected.users && written(from, now, ROLES) >= expected.roles;
    },
    60_000,
  );
}

interface Payload {
  op?: string;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

/** Records of `topic` written since `from` (up to its end now) whose Debezium payload matches. */
async function countSince(from: Map<string, number>, topic: string, match: (p: Payload) => boolean): Promise<number> {
  const end = await ends();
  const want = [...end].filter(([key, high]) => key.startsWith(`${topic}:`) && high > from.get(key)!);
  let left = want.reduce((n, [key, high]) => n + high - from.get(key)!, 0);
  if (left === 0) return 0;
  const consumer = new Kafka({
    clientId: 'e2e-adv-reader',
    brokers: env.KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  }).consumer({ groupId: `e2e-adv-reader-${runId()}` });
  let seen = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic });
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          if (Number(message.offset) >= end.get(`${topic}:${partition}`)!) return;
          const value = message.value ? (JSON.parse(message.value.toString()) as { payload?: Payload }) : null;
          if (value?.payload && match(value.payload)) seen++;
          if (--left === 0) resolve();
        },
      });
    });
    for (const [key] of want)
      consumer.seek({ topic, partition: Number(key.slice(key.lastIndexOf(':') + 1)), offset: String(from.get(key)!) });
    await done;
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

/** Records in the scenario's DLQ topic (0 when nothing was dead-lettered and it does not exist). */
async function dlqCount(s: Setup): Promise<number> {
  if (!(await admin.listTopics()).includes(s.dlqTopic)) return 0;
  let sum = 0;
  for (const p of await admin.fetchTopicOffsets(s.dlqTopic)) sum += Number(p.high) - Number(p.low);
  return sum;
}

/** The legacy database seen through only this scenario's users rows (every other row is another test's). */
function scoped(inner: LegacyDatabase, prefix: string): LegacyDatabase {
  return {
    keyColumns: () => inner.keyColumns(),
    columnNames: () => inner.columnNames(),
    estimateUsers: () => inner.estimateUsers(),
    findUser: (lookup, options) => inner.findUser(lookup, options),
    rolesOf: (keys) => inner.rolesOf(keys),
    close: () => inner.close(),
    async *scanUsers(options) {
      for await (const page of inner.scanUsers(options)) {
        const keep = page.rows.flatMap((row, i) => (String(row.username).startsWith(prefix) ? [i] : []));
        if (keep.length === 0) continue;
        yield {
          rows: keep.map((i) => page.rows[i]!),
          snapshotVersion: page.snapshotVersion,
          ...(page.rowVersions ? { rowVersions: keep.map((i) => page.rowVersions![i]!) } : {}),
          ...(page.secrets ? { secrets: keep.map((i) => page.secrets![i]!) } : {}),
        };
      }
    },
  };
}

/** The reconcile module over this scenario's rows and its whole pool. */
async function reconcileScenario(s: Setup): Promise<ReconcileReport> {
  const config = loadConfig(s.config);
  const mapping = await loadCompiledMapping(config.mappingPath);
  const source = await openLegacySource(config, mapping);
  try {
    const { gateway, directory } = poolAccess(mapping, createGateway(config));
    return await reconcile({
      ...source,
      db: scoped(source.db, s.prefix),
      directory,
      gateway,
      mapping,
      examples: 20,
    });
  } finally {
    await source.db.close();
  }
}

function expectNoDrift(report: ReconcileReport, legacyUsers: number): void {
  const drift = { missing: report.missing, extra: report.extra, different: report.different, held: report.held };
  expect({ drift: report.drift, ...drift }).toEqual({
    drift: 0,
    missing: { count: 0, examples: [] },
    extra: { count: 0, examples: [] },
    different: { count: 0, byAttribute: {}, examples: [] },
    held: { count: 0, examples: [] },
  });
  expect(report.legacy.users).toBe(legacyUsers);
  expect(report.cognito.foreign).toBe(0);
}

async function poolSize(poolId: string): Promise<number> {
  let n = 0;
  let token: string | undefined;
  do {
    const out = await cognito.send(new ListUsersCommand({ UserPoolId: poolId, PaginationToken: token }));
    n += out.Users?.length ?? 0;
    token = out.PaginationToken;
  } while (token);
  return n;
}

/** `cognito-sync run` (no --until-caught-up) as a child process that the test kills. */
function startRun(config: string): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, [join(REPO, 'bin/cognito-sync.js'), 'run', '--config', config], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

async function insertUser(
  client: pg.Pool | pg.PoolClient,
  s: Setup,
  n: number | string,
  o: { id?: number; email?: string; status?: string; roles?: string[] } = {},
): Promise<number> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO users (${o.id === undefined ? '' : 'id, '}username, email, email_verified, given_name, family_name, locale, status)
     VALUES (${o.id === undefined ? '' : `${o.id}, `}$1, $2, true, $3, 'Adv', 'de-DE', $4) RETURNING id`,
    [`${s.prefix}${n}`, o.email ?? `adv.${n}.${id}@example.com`, `Given${n}`, o.status ?? 'active'],
  );
  const userId = Number(rows[0]!.id);
  for (const role of o.roles ?? ['customer'])
    await client.query(`INSERT INTO user_roles (user_id, role) VALUES ($1, $2)`, [userId, role]);
  return userId;
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

describe('adversarial', () => {
  test('a legacy app churning users and roles in single transactions, the consumer SIGKILLed mid-backlog: zero drift, nothing in the DLQ', async () => {
    const s = await setup('churn', {
      // Slow enough that the kill lands in the middle of the backlog.
      rates: { UserCreation: 20, UserUpdate: 20, UserResourceUpdate: 20, UserRead: 100, UserList: 30 },
    });
    const GROUPS = 6;
    // Phase 1: the users as they are before the churn, synced.
    const origin = await ends();
    let start = origin;
    const ids: number[][] = [];
    let userRecords = 0;
    let roleRecords = 0;
    for (let g = 0; g < GROUPS; g++) {
      const row: number[] = [];
      for (let k = 0; k < 10; k++) {
        const roles = k === 4 ? ['customer', 'admin'] : ['customer'];
        row.push(await insertUser(db, s, `${g}-${k}`, { roles }));
        userRecords += 1;
        roleRecords += roles.length;
      }
      ids.push(row);
    }
    await waitForRecords(start, { users: userRecords, roles: roleRecords });
    const first = await runCliProcess(['run', '--config', s.config, '--until-caught-up', '--no-progress'], 120_000);
    expect(first.code).toBe(0);
    expect(await poolSize(s.poolId)).toBe(GROUPS * 10);

    // Phase 2: the churn, one transaction per group (plus separate ones for the status flips).
    start = await ends();
    userRecords = 0;
    roleRecords = 0;
    const moved = 900_000_000 + (Date.now() % 10_000_000);
    for (let g = 0; g < GROUPS; g++) {
      const [del, churn, swapA, swapB, mover, receiver, untouched, pk, gone, ghost] = ids[g]!;
      await transaction(async (c) => {
        // Deleted and re-inserted with the same id, another email and other roles.
        await c.query(`DELETE FROM users WHERE id = $1`, [del]); // cascades to its role row
        await insertUser(c, s, `${g}-0`, {
          id: del,
          email: `reborn.${g}.${id}@example.com`,
          roles: ['support', 'admin'],
        });
        userRecords += 2 + 1;
        roleRecords += 2 + 2;
        // Roles changed several times: ends with customer + admin.
        for (const [sql, role] of [
          ['INSERT INTO user_roles (user_id, role) VALUES ($1, $2)', 'admin'],
          ['DELETE FROM user_roles WHERE user_id = $1 AND role = $2', 'customer'],
          ['INSERT INTO user_roles (user_id, role) VALUES ($1, $2)', 'support'],
          ['DELETE FROM user_roles WHERE user_id = $1 AND role = $2', 'admin'],
          ['INSERT INTO user_roles (user_id, role) VALUES ($1, $2)', 'customer'],
          ['INSERT INTO user_roles (user_id, role) VALUES ($1, $2)', 'admin'],
          ['DELETE FROM user_roles WHERE user_id = $1 AND role = $2', 'support'],
        ] as const) {
          await c.query(sql, [churn, role]);
          roleRecords += sql.startsWith('DELETE') ? 2 : 1;
        }
        // Two users swap emails.
        await c.query(
          `UPDATE users SET email = CASE id WHEN $1 THEN (SELECT email FROM users WHERE id = $2) ELSE (SELECT email FROM users WHERE id = $1) END WHERE id IN ($1, $2)`,
          [swapA, swapB],
        );
        userRecords += 2;
        // A role renamed in place (the primary key changes: delete + create).
        await c.query(`UPDATE user_roles SET role = 'support' WHERE user_id = $1 AND role = 'customer'`, [swapA]);
        roleRecords += 3;
        // A role row moved to another user.
        await c.query(`UPDATE user_roles SET user_id = $1 WHERE user_id = $2 AND role = 'admin'`, [receiver, mover]);
        roleRecords += 3;
        // Columns the mapping does not read.
        await c.query(`UPDATE users SET bio = 'x', last_login_at = now() WHERE id = $1`, [untouched]);
        await c.query(`UPDATE users SET bio = 'y', last_login_at = now() WHERE id = $1`, [untouched]);
        userRecords += 2;
        // The primary key changes: a new Cognito user; the old one goes; role rows follow (cascade).
        await c.query(`UPDATE users SET id = $1 WHERE id = $2`, [moved + g, pk]);
        userRecords += 3;
        roleRecords += 3;
        // Deleted for good.
        await c.query(`DELETE FROM users WHERE id = $1`, [gone]);
        userRecords += 2;
        roleRecords += 2;
        // Created and deleted inside the transaction: must never be seen in Cognito.
        const tmp = await insertUser(c, s, `${g}-tmp`, { roles: ['admin'] });
        await c.query(`DELETE FROM users WHERE id = $1`, [tmp]);
        userRecords += 3;
        roleRecords += 3;
        // ghost: deleted here, re-inserted (same id, new roles) in a later transaction below.
        await c.query(`DELETE FROM users WHERE id = $1`, [ghost]);
        userRecords += 2;
        roleRecords += 2;
      });
      // Status flips in quick separate transactions: ends suspended (disabled).
      for (const status of ['suspended', 'active', 'suspended']) {
        await db.query(`UPDATE users SET status = $1 WHERE id = $2`, [status, receiver]);
        userRecords += 1;
      }
      await insertUser(db, s, `${g}-9`, { id: ghost, email: `back.${g}.${id}@example.com`, roles: ['support'] });
      userRecords += 1;
      roleRecords += 1;
    }
    await waitForRecords(start, { users: userRecords, roles: roleRecords });

    // The consumer works through the backlog and is SIGKILLed twice mid-way.
    for (let kill = 0; kill < 2; kill++) {
      const run = startRun(s.config);
      // Evidence it is mid-backlog: it has applied something of the churn (the pool changed).
      const baseline = await poolSize(s.poolId);
      await waitFor(
        'the consumer to apply part of the backlog',
        async () => (await poolSize(s.poolId)) !== baseline || run.child.exitCode !== null,
        20_000,
        50,
      ).catch(() => undefined); // killed anyway: a kill after the backlog must leave it right too
      run.child.kill('SIGKILL');
      await run.exited;
    }
    const last = await runCliProcess(['run', '--config', s.config, '--until-caught-up', '--no-progress'], 120_000);
    expect({ code: last.code, stderr: last.code === 0 ? '' : last.stderr }).toEqual({ code: 0, stderr: '' });
    expect(await dlqCount(s)).toBe(0);
    // 10 per group, less the one deleted for good; the temporary ones never existed.
    expectNoDrift(await reconcileScenario(s), GROUPS * 9);

    // An operator replays both phases into the pool that already holds the newer state: no
    // deleted user comes back, no older role or email is written over a newer one.
    const replay = await runCliProcess(
      ['replay', '--config', s.config, '--to-offsets', offsetSpec(origin), '--yes', '--run', '--no-progress'],
      120_000,
    );
    expect({ code: replay.code, stderr: replay.code === 0 ? '' : replay.stderr }).toEqual({ code: 0, stderr: '' });
    expect(await dlqCount(s)).toBe(0);
    expectNoDrift(await reconcileScenario(s), GROUPS * 9);

    // The check itself can fail: one membership taken away is drift.
    await cognito.send(
      new AdminRemoveUserFromGroupCommand({
        UserPoolId: s.poolId,
        Username: `legacy_${ids[0]![1]}`,
        GroupName: 'admin',
      }),
    );
    const planted = await reconcileScenario(s);
    expect(planted.drift).toBe(1);
    expect(planted.memberships.missing).toBe(1);
  }, 240_000);

  test('role rows far ahead of their users (a users backlog, several partitions, missingUserTimeoutMs 0): every membership lands; only the refused user and its role rows are dead-lettered', async () => {
    const s = await setup('ahead', {
      processing: { missingUserTimeoutMs: 0 },
      // Creations are the bottleneck: the users partitions stay behind while the roles run ahead.
      rates: { UserCreation: 10, UserUpdate: 50, UserResourceUpdate: 50, UserRead: 100, UserList: 30 },
    });
    const N = 40;
    const start = await ends();
    const ids: number[] = [];
    await transaction(async (c) => {
      for (let n = 0; n < N; n++)
        ids.push(await insertUser(c, s, n, { roles: [], ...(n === 0 ? { email: `bad.${id}@@example.com` } : {}) }));
    });
    // A users backlog in front of the role rows: updates the mapping reads, several rounds.
    for (let round = 0; round < 4; round++)
      await db.query(`UPDATE users SET given_name = $1 WHERE id = ANY($2::bigint[])`, [`Round${round}`, ids.slice(1)]);
    await transaction(async (c) => {
      for (const [n, userId] of ids.entries()) {
        await c.query(`INSERT INTO user_roles (user_id, role) VALUES ($1, 'customer')`, [userId]);
        if (n % 2 === 0) await c.query(`INSERT INTO user_roles (user_id, role) VALUES ($1, 'admin')`, [userId]);
      }
    });
    // One user leaves after its role rows were written (they go with it: cascade).
    const leaver = ids[N - 1]!;
    await db.query(`DELETE FROM users WHERE id = $1`, [leaver]);
    await waitForRecords(start, { users: N + 4 * (N - 1) + 2, roles: N + N / 2 + 2 });

    const run = await runCliProcess(['run', '--config', s.config, '--until-caught-up', '--no-progress'], 120_000);
    expect(run.stderr).toContain('3 records went to the DLQ');
    expect(run.code).toBe(3);
    // The refused user's row, and its two role rows, each with a reason.
    expect(await dlqCount(s)).toBe(3);
    const report = await reconcileScenario(s);
    expect(report.legacy.unmappable).toBe(1);
    expectNoDrift(report, N - 1);
  }, 120_000);

  test('role rows racing ahead of a users backlog over existing users (re-incarnations, a changed key, moved rows), two instances of one group rebalancing and one SIGKILLed: zero drift', async () => {
    const s = await setup('race', {
      instances: 2,
      // Attribute updates are the bottleneck: the users partitions stay behind the role rows.
      rates: { UserCreation: 20, UserUpdate: 8, UserResourceUpdate: 50, UserRead: 100, UserList: 30 },
    });
    const N = 24;
    let start = await ends();
    const ids: number[] = [];
    for (let n = 0; n < N; n++)
      ids.push(await insertUser(db, s, n, { roles: n % 3 === 0 ? ['customer', 'admin'] : ['customer'] }));
    await waitForRecords(start, { users: N, roles: N + N / 3 });
    const first = await runCliProcess(['run', '--config', s.config, '--until-caught-up', '--no-progress'], 120_000);
    expect(first.code).toBe(0);

    start = await ends();
    let users = 0;
    let roles = 0;
    // The users backlog in front: two rounds of changes to every user's mapped attributes.
    for (let round = 0; round < 2; round++) {
      await db.query(`UPDATE users SET family_name = $1 WHERE id = ANY($2::bigint[])`, [`Behind${round}`, ids]);
      users += N;
    }
    const moved = 910_000_000 + (Date.now() % 10_000_000);
    for (let k = 0; k < N / 6; k++) {
      const [reborn, rebornTwice, keyed, giver, taker, dropper] = ids.slice(k * 6, k * 6 + 6) as [
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      await transaction(async (c) => {
        // Re-incarnated with other roles (the old one had customer + admin).
        await c.query(`DELETE FROM users WHERE id = $1`, [reborn]);
        await insertUser(c, s, `${k * 6}`, { id: reborn, email: `reborn.${k}.${id}@example.com`, roles: ['support'] });
        users += 3;
        roles += 4 + 1;
        // The primary key changes (a new Cognito user; role rows follow by cascade).
        await c.query(`UPDATE users SET id = $1 WHERE id = $2`, [moved + k, keyed]);
        users += 3;
        roles += 3;
        // A role row moves to another user; another user's only role is renamed to an unmapped one.
        await c.query(`UPDATE user_roles SET user_id = $1 WHERE user_id = $2 AND role = 'admin'`, [taker, giver]);
        await c.query(`UPDATE user_roles SET role = 'auditor' WHERE user_id = $1`, [dropper]);
        roles += 6;
      });
      // Re-incarnated twice in separate transactions, the second time with admin granted then revoked.
      await db.query(`DELETE FROM users WHERE id = $1`, [rebornTwice]);
      await insertUser(db, s, `${k * 6 + 1}`, { id: rebornTwice, roles: ['admin', 'support'] });
      await db.query(`DELETE FROM users WHERE id = $1`, [rebornTwice]);
      await insertUser(db, s, `${k * 6 + 1}`, { id: rebornTwice, roles: ['admin'] });
      await db.query(`DELETE FROM user_roles WHERE user_id = $1 AND role = 'admin'`, [rebornTwice]);
      await db.query(`INSERT INTO user_roles (user_id, role) VALUES ($1, 'customer')`, [rebornTwice]);
      users += 2 + 1 + 2 + 1;
      roles += 2 + 2 + 4 + 1 + 2 + 1;
    }
    await waitForRecords(start, { users, roles });

    // Instance A starts on the backlog; B joins mid-way (a rebalance), then A is SIGKILLed (B
    // takes its partitions once A's session expires); B stops gracefully; the last run confirms.
    const a = startRun(s.config);
    await waitFor('A to apply part of the backlog', async () => (await poolSize(s.poolId)) !== N, 30_000, 50).catch(
      () => undefined,
    );
    const b = startRun(s.config);
    await waitFor(
      'B to join the group (a rebalance mid-backlog)',
      async () => (await admin.describeGroups([s.group])).groups[0]!.members.length === 2,
      30_000,
      100,
    );
    a.child.kill('SIGKILL');
    await a.exited;
    await waitFor(
      'B to take over and the group to catch up',
      async () => {
        const offsets = await admin.fetchOffsets({ groupId: s.group, topics: TOPICS });
        const end = await ends();
        return offsets.every((t) =>
          t.partitions.every((p) => Number(p.offset) >= end.get(`${t.topic}:${p.partition}`)!),
        );
      },
      90_000,
      500,
    ).catch(() => undefined);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    const last = await runCliProcess(['run', '--config', s.config, '--until-caught-up', '--no-progress'], 120_000);
    expect({ code: last.code, stderr: last.code === 0 ? '' : last.stderr }).toEqual({ code: 0, stderr: '' });
    expect(await dlqCount(s)).toBe(0);
    expectNoDrift(await reconcileScenario(s), N);
  }, 240_000);

  test('an incremental Debezium re-snapshot of users and role rows while the legacy app keeps writing and the sync runs: zero drift, nothing in the DLQ', async () => {
    const s = await setup('snapshot');
    const N = 12;
    const start = await ends();
    const ids: number[] = [];
    for (let n = 0; n < N; n++) ids.push(await insertUser(db, s, n, { roles: n % 2 ? ['customer'] : ['support'] }));
    await waitForRecords(start, { users: N, roles: N });
    const sync = startRun(s.config);
    try {
      await waitFor('the users in Cognito', async () => (await poolSize(s.poolId)) === N, 60_000, 200);
      const closes = async (): Promise<number> =>
        (
          await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM debezium_signal WHERE type = 'snapshot-window-close'`,
          )
        ).rows[0]!.n;
      const closedBefore = await closes();
      // The legacy app writes on: attributes, status and role rows of the same users.
      let writing = true;
      let writes = 0;
      const writer = (async () => {
        for (let i = 0; writing; i++) {
          // Half the users: the other half are surely snapshot reads (never de-duplicated away).
          const userId = ids[(2 * i) % N]!;
          await transaction(async (c) => {
            await c.query(`UPDATE users SET given_name = $1, status = $2 WHERE id = $3`, [
              `W${i}`,
              i % 3 === 0 ? 'suspended' : 'active',
              userId,
            ]);
            if (i % 2 === 0)
              await c.query(`INSERT INTO user_roles (user_id, role) VALUES ($1, 'admin') ON CONFLICT DO NOTHING`, [
                userId,
              ]);
            else await c.query(`DELETE FROM user_roles WHERE user_id = $1 AND role = 'admin'`, [userId]);
          });
          writes++;
        }
      })();
      const inList = ids.join(', ');
      await db.query(`INSERT INTO debezium_signal (id, type, data) VALUES ($1, 'execute-snapshot', $2)`, [
        `adv-${id}`,
        JSON.stringify({
          'data-collections': ['public.users', 'public.user_roles'],
          type: 'incremental',
          'additional-conditions': [
            { 'data-collection': 'public.users', filter: `id IN (${inList})` },
            { 'data-collection': 'public.user_roles', filter: `user_id IN (${inList})` },
          ],
        }),
      ]);
      // Each of the two PostgreSQL connectors closes a window per table at least.
      await waitFor('the snapshot windows to close', async () => (await closes()) >= closedBefore + 4, 60_000, 200);
      writing = false;
      await writer;
      expect(writes).toBeGreaterThan(0);
      sync.child.kill('SIGTERM');
      const code = await sync.exited;
      expect({ code, output: code === 0 ? '' : sync.output().slice(-3000) }).toEqual({ code: 0, output: '' });
    } finally {
      if (sync.child.exitCode === null) sync.child.kill('SIGKILL');
    }
    // Debezium emits a window's snapshot reads when it streams the window's close, before what
    // was written after it: one last change on each table, seen in Kafka, says they are there.
    await db.query(`UPDATE users SET given_name = 'Last' WHERE id = $1`, [ids[0]]);
    await db.query(`INSERT INTO user_roles (user_id, role) VALUES ($1, 'customer')`, [ids[0]]);
    const mine = (p: Payload): boolean => String((p.after ?? p.before)?.username ?? '').startsWith(s.prefix);
    await waitFor(
      'the last changes in Kafka',
      async () =>
        (await countSince(start, USERS, (p) => mine(p) && p.after?.given_name === 'Last')) === 1 &&
        (await countSince(start, ROLES, (p) => p.after?.user_id === ids[0] && p.after?.role === 'customer')) === 1,
      60_000,
      500,
    );
    // Rows the app wrote inside a window are dropped from its reads (Debezium's de-duplication):
    // the users it never touched are read, others may be.
    expect(await countSince(start, USERS, (p) => p.op === 'r' && mine(p))).toBeGreaterThanOrEqual(N / 2);
    const last = await runCliProcess(['run', '--config', s.config, '--until-caught-up', '--no-progress'], 120_000);
    expect({ code: last.code, stderr: last.code === 0 ? '' : last.stderr }).toEqual({ code: 0, stderr: '' });
    expect(await dlqCount(s)).toBe(0);
    expectNoDrift(await reconcileScenario(s), N);
  }, 180_000);

  test('a burst of new users with their roles in one transaction while the sync runs caught up: no membership is given up on while its user is being created', async () => {
    // The users partitions were idle (caught up) when the burst came; creating it takes longer
    // than missingUserTimeoutMs at the granted rate. Its role rows must wait for the creations.
    const s = await setup('burst', {
      // More users in a partition's batch than it applies at once: some wait to start.
      processing: { missingUserTimeoutMs: 2000, concurrency: 2 },
      rates: { UserCreation: 4, UserUpdate: 50, UserResourceUpdate: 50, UserRead: 100, UserList: 30 },
    });
    const N = 30;
    const sync = startRun(s.config);
    try {
      // In step first: one user, synced (every users partition's lag is known to be 0).
      await insertUser(db, s, 'first');
      await waitFor('the first user in Cognito', async () => (await poolSize(s.poolId)) === 1, 60_000, 200);
      const start = await ends();
      await transaction(async (c) => {
        for (let n = 0; n < N; n++) await insertUser(c, s, n, { roles: n % 2 ? ['customer'] : ['customer', 'admin'] });
      });
      await waitForRecords(start, { users: N, roles: N + N / 2 });
      await waitFor('the burst in Cognito', async () => (await poolSize(s.poolId)) === N + 1, 60_000, 500);
      sync.child.kill('SIGTERM');
      expect(await sync.exited).toBe(0);
    } finally {
      if (sync.child.exitCode === null) sync.child.kill('SIGKILL');
    }
    const last = await runCliProcess(['run', '--config', s.config, '--until-caught-up', '--no-progress'], 120_000);
    expect(await dlqCount(s)).toBe(0);
    expect({ code: last.code, stderr: last.code === 0 ? '' : last.stderr }).toEqual({ code: 0, stderr: '' });
    expectNoDrift(await reconcileScenario(s), N + 1);
  }, 120_000);
});
