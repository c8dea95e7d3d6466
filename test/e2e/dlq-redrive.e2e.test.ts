// A re-drive judges each DLQ record against its user's current state (#17): the normal fix for
// a bad email is made in the legacy row, after which the DLQ's old bytes are superseded, not a
// failure forever; a role row whose user never reached Cognito goes back at once instead of
// holding the whole re-drive; and `dlq inspect` says what the re-drive then does.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import type { Admin } from 'kafkajs';
import { AdminListGroupsForUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { runCliProcess } from './support/cli-process.js';
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
  pinGroupAtEnd,
} from './support/stack.js';

const USERS = 'legacy.public.users';
const ROLES = 'legacy.public.user_roles';
const id = runId();
let env: StackEnv;
let db: pg.Pool;
let admin: Admin;

const ends = async (topic: string): Promise<{ partition: number; offset: string }[]> =>
  (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.high }));
const total = (offsets: { offset: string }[]): bigint => offsets.reduce((a, p) => a + BigInt(p.offset), 0n);

beforeAll(async () => {
  env = stackEnv();
  db = pgPool(env);
  admin = await kafkaAdmin(env, 'e2e-dlq-redrive');
});

afterAll(async () => {
  await admin?.disconnect();
  await db?.end();
});

interface RedriveJson {
  records: number;
  succeeded: number;
  superseded: number;
  skipped: number;
  failed: number;
  stoppedEarly: string | null;
  items: { dlqPartition: number; dlqOffset: string; source: string; outcome: string; reason?: string }[];
}

describe('dlq redrive after the fix was made in the legacy row', () => {
  test('the old bytes resolve as superseded, the role row follows its user, exit 0, the DLQ does not grow', async () => {
    const cognito = cognitoClient(env);
    const poolId = await createPool(cognito, `e2e-dlq-redrive-${id}`);
    const group = `e2e-dlq-redrive-${id}`;
    const dlqTopic = `cognito-sync.dlq.redrive.${id}`;
    // The group starts at the end of both topics, as a sync that was in step.
    await pinGroupAtEnd(admin, group, [USERS, ROLES]);
    const startRoles = total(await ends(ROLES));

    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO users (username, email, email_verified, given_name, family_name, locale, status)
       VALUES ($1, $2, true, 'Ree', 'Drive', 'de-DE', 'active') RETURNING id`,
      [`redrive.${id}`, `redrive.${id}@@example.com`], // not an e-mail: the mapping refuses it
    );
    const userId = Number(rows[0]!.id);
    const username = `legacy_${userId}`;
    await db.query(`INSERT INTO user_roles (user_id, role) VALUES ($1, 'support')`, [userId]);
    await waitFor('the role row on its topic', async () => total(await ends(ROLES)) > startRoles);

    const config = join(REPO, '.stack', `e2e-dlq-redrive-${id}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        kafka: { brokers: env.KAFKA_BROKERS.split(','), groupId: group, topics: [USERS, ROLES], fromBeginning: false },
        format: 'json',
        cognito: {
          userPoolId: poolId,
          region: env.COGNITO_REGION,
          endpoint: env.COGNITO_ENDPOINT,
          rates: { UserCreation: 200, UserUpdate: 200, UserRead: 500, UserResourceUpdate: 200, UserList: 200 },
        },
        mapping: join(REPO, 'examples/mapping.yaml'),
        dlq: { topic: dlqTopic },
        ops: { port: 0 },
      }),
    );
    const sync = (): ReturnType<typeof runCliProcess> =>
      runCliProcess(['run', '--config', config, '--until-caught-up', '--no-progress'], 200_000);
    const redrive = async (): Promise<{ code: number | null; summary: RedriveJson; ms: number }> => {
      const started = Date.now();
      const r = await runCliProcess(['dlq', 'redrive', '--config', config, '--json'], 200_000);
      return { code: r.code, summary: JSON.parse(r.stdout) as RedriveJson, ms: Date.now() - started };
    };
    const dlqSize = async (): Promise<bigint> => total(await ends(dlqTopic));

    // The user's record fails at the map stage; its role row has nobody to wait for.
    expect((await sync()).code).toBe(3);
    expect(await dlqSize()).toBe(2n);
    expect(await getUser(cognito, poolId, username)).toBeNull();

    // Re-driven before any fix: both fail again, and the role row does not hold the run for
    // missingUserTimeoutMs (60 s by default) — it goes back at once, saying why.
    const early = await redrive();
    expect(early.code).toBe(3);
    expect(early.summary).toMatchObject({ records: 2, succeeded: 0, superseded: 0, failed: 2, stoppedEarly: null });
    const roleItem = early.summary.items.find((i) => i.source.startsWith(ROLES));
    expect(roleItem?.reason).toMatch(/its user is not in Cognito/);
    expect(early.ms).toBeLessThan(45_000);

    // The fix, as an operator makes it: in the legacy row. The stream brings the user over.
    await db.query('UPDATE users SET email = $1 WHERE id = $2', [`redrive.${id}@example.com`, userId]);
    await waitFor('the fixed row to reach Cognito', async () => {
      await sync();
      return (await getUser(cognito, poolId, username)) !== null;
    });
    const before = await dlqSize();

    // inspect says what the re-drive then does, record by record.
    const list = JSON.parse(
      (await runCliProcess(['dlq', 'list', '--config', config, '--json', '--limit', '100'], 120_000)).stdout,
    ) as { records: { partition: number; offset: string; source: string }[] };
    const pending = list.records.slice(-2);
    const verdicts = new Map<string, string>();
    for (const r of pending) {
      const shown = await runCliProcess(
        ['dlq', 'inspect', '--config', config, '--partition', String(r.partition), '--offset', r.offset, '--json'],
        120_000,
      );
      expect(shown.code).toBe(0);
      verdicts.set(r.source.split(':')[0]!, (JSON.parse(shown.stdout) as { now: { verdict: string } }).now.verdict);
    }
    expect(Object.fromEntries(verdicts)).toEqual({ [USERS]: 'superseded', [ROLES]: 'redrive' });

    const fixed = await redrive();
    expect(fixed.code).toBe(0);
    expect(fixed.summary).toMatchObject({ records: 2, succeeded: 1, superseded: 1, failed: 0, stoppedEarly: null });
    expect(await dlqSize()).toBe(before);
    const groups = await cognito.send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: username }));
    expect(groups.Groups?.map((g) => g.GroupName)).toEqual(['support']);
    expect(await getUser(cognito, poolId, username)).toMatchObject({ email: `redrive.${id}@example.com` });

    // Nothing is left: the next re-drive has nothing to do.
    const again = await redrive();
    expect(again.code).toBe(0);
    expect(again.summary.records).toBe(0);
  });
});
