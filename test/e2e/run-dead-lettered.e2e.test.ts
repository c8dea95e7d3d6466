// A backfill job (`run --until-caught-up`) that dead-letters records on the way is not a clean
// success: its last line says how many went to the DLQ and how to list them, and it exits 3.
// Before, it exited 0 "caught up" and nothing told the operator.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import type { Admin } from 'kafkajs';
import { runCliProcess } from './support/cli-process.js';
import {
  REPO,
  cognitoClient,
  createPool,
  getUser,
  kafkaAdmin,
  pgPool,
  runId,
  stackEnv,
  waitFor,
  type StackEnv,
} from './support/stack.js';

const TOPIC = 'legacy.public.users';
const id = runId();
let env: StackEnv;
let db: pg.Pool;
let admin: Admin;

const endOffsets = async (): Promise<Map<number, bigint>> =>
  new Map((await admin.fetchTopicOffsets(TOPIC)).map((p) => [p.partition, BigInt(p.high)]));
const sum = (m: Map<number, bigint>): bigint => [...m.values()].reduce((a, b) => a + b, 0n);

async function insertUser(username: string, email: string): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO users (username, email, email_verified, given_name, family_name, locale, status) VALUES ($1, $2, true, 'Dee', 'Ell', 'de-DE', 'active') RETURNING id`,
    [username, email],
  );
  return Number(rows[0]!.id);
}

beforeAll(async () => {
  env = stackEnv();
  db = pgPool(env);
  admin = await kafkaAdmin(env, 'e2e-run-dlq');
});

afterAll(async () => {
  await admin?.disconnect();
  await db?.end();
});

describe('run --until-caught-up with a record Cognito would refuse', () => {
  test('ends with a last line naming the DLQ records and the command to list them, and exit 3', async () => {
    const cognito = cognitoClient(env);
    const poolId = await createPool(cognito, `e2e-run-dlq-${id}`);
    const group = `e2e-run-dlq-${id}`;
    const dlqTopic = `cognito-sync.dlq.run-dlq.${id}`;
    // The group starts at the end of the topic, as a sync that was in step: only what follows counts.
    const start = await endOffsets();
    await admin.setOffsets({
      groupId: group,
      topic: TOPIC,
      partitions: [...start].map(([partition, offset]) => ({ partition, offset: offset.toString() })),
    });
    const good = await insertUser(`good.${id}`, `good.${id}@example.com`);
    const bad = await insertUser(`bad.${id}`, `bad.${id}@@example.com`); // not an e-mail: the mapping refuses it
    await waitFor(`2 new records on ${TOPIC}`, async () => sum(await endOffsets()) >= sum(start) + 2n);

    const config = join(REPO, '.stack', `e2e-run-dlq-${id}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        kafka: { brokers: env.KAFKA_BROKERS.split(','), groupId: group, topics: [TOPIC], fromBeginning: false },
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
    const run = await runCliProcess(['run', '--config', config, '--until-caught-up', '--no-progress'], 200_000);
    expect(run.stderr.trimEnd().split('\n').pop()).toBe(
      `caught up; 1 record went to the DLQ ${dlqTopic} (see them: cognito-sync dlq list --config ${config}; exit 3)`,
    );
    expect(run.code).toBe(3);
    expect(await getUser(cognito, poolId, `legacy_${good}`)).not.toBeNull();
    expect(await getUser(cognito, poolId, `legacy_${bad}`)).toBeNull();

    // The command it names lists exactly that record, with its key.
    const list = await runCliProcess(['dlq', 'list', '--config', config, '--json'], 120_000);
    expect(list.code).toBe(0);
    const { records } = JSON.parse(list.stdout) as { records: { key: unknown; stage: string }[] };
    expect(records).toEqual([expect.objectContaining({ key: { id: bad }, stage: 'map' })]);
  });
});
