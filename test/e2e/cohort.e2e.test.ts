// A phased rollout through the real stack (#14): with `cohort: { percent: 50 }` the sync creates
// exactly the users whose username hashes into the cohort — the same function the Lambda and
// reconcile use — and skips the others (counted as outside-cohort), role rows included.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import type { Admin } from 'kafkajs';
import { runCliProcess } from './support/cli-process.js';
import { compileCohort } from '../../src/pipeline/map/cohort.js';
import {
  REPO,
  cognitoClient,
  createPool,
  listUsernames,
  pgPool,
  runId,
  stackEnv,
  type StackEnv,
  kafkaAdmin,
  pinGroupAtEnd,
} from './support/stack.js';

const TOPICS = ['legacy.public.users', 'legacy.public.user_roles'];
const id = runId();
let env: StackEnv;
let db: pg.Pool;
let admin: Admin;

beforeAll(async () => {
  env = stackEnv();
  db = pgPool(env);
  admin = await kafkaAdmin(env, 'e2e-cohort');
});

afterAll(async () => {
  await admin?.disconnect();
  await db?.end();
});

describe('cohort', () => {
  test('a 50% cohort syncs exactly the users that hash into it; the others are skipped, not dead-lettered', async () => {
    const cognito = cognitoClient(env);
    const poolId = await createPool(cognito, `e2e-cohort-${id}`);
    const group = `e2e-cohort-${id}`;
    await pinGroupAtEnd(admin, group, TOPICS);
    const users: number[] = [];
    for (let i = 0; i < 12; i++) {
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO users (username, email, email_verified, given_name, family_name, locale, status)
         VALUES ($1, $2, true, 'Co', 'Hort', 'de-DE', 'active') RETURNING id`,
        // One invalid e-mail: outside the cohort it is skipped, inside it goes to the DLQ.
        [`cohort.${i}.${id}`, i === 0 ? `cohort.${i}.${id}@@example.com` : `cohort.${i}.${id}@example.com`],
      );
      users.push(Number(rows[0]!.id));
      await db.query(`INSERT INTO user_roles (user_id, role) VALUES ($1, 'customer')`, [rows[0]!.id]);
    }
    const mapping = join(REPO, '.stack', `e2e-cohort-mapping-${id}.yaml`);
    writeFileSync(mapping, `${readFileSync(join(REPO, 'examples/mapping.yaml'), 'utf8')}\ncohort:\n  percent: 50\n`);
    const config = join(REPO, '.stack', `e2e-cohort-${id}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        kafka: { brokers: env.KAFKA_BROKERS.split(','), groupId: group, topics: TOPICS, fromBeginning: false },
        format: 'json',
        cognito: {
          userPoolId: poolId,
          region: env.COGNITO_REGION,
          endpoint: env.COGNITO_ENDPOINT,
          emulatorCredentials: true,
        },
        mapping,
        dlq: { topic: `cognito-sync.dlq.cohort.${id}` },
        ops: { port: 0 },
      }),
    );
    const run = await runCliProcess(['run', '--config', config, '--until-caught-up', '--no-progress'], 200_000);
    const inCohort = compileCohort({ percent: 50 });
    const expected = users.map((u) => `legacy_${u}`).filter(inCohort);
    const invalidInside = inCohort(`legacy_${users[0]}`);
    // Sanity of the sample: both sides of the cohort are represented.
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(users.length);
    const synced = (await listUsernames(cognito, poolId)).sort();
    expect(synced).toEqual(expected.filter((u) => !(invalidInside && u === `legacy_${users[0]}`)).sort());
    // The invalid row reached the DLQ only if its user is in the cohort (plus its role row).
    expect(run.code).toBe(invalidInside ? 3 : 0);
  });
});
