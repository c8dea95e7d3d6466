// The first hour of a new user (#18): the CLI as the README and the demo print it
// (`./cognito-sync …`) runs on the project's Node 22 from a shell whose `node` is the machine's
// older one, needs no AWS keys against the emulator (cognito.emulatorCredentials), and a
// foreground `run` on a terminal shows that it is alive.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import type { Admin } from 'kafkajs';
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

const TOPIC = 'legacy.public.users';
const id = runId();
let env: StackEnv;
let db: pg.Pool;
let admin: Admin;

/** A shell environment with no AWS credentials anywhere and the system's `node` first on PATH. */
const freshShell = (): NodeJS.ProcessEnv => ({
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: process.env.HOME,
  TERM: 'xterm',
  AWS_SHARED_CREDENTIALS_FILE: join(REPO, '.stack', `first-hour-${id}`, 'none'),
  AWS_CONFIG_FILE: join(REPO, '.stack', `first-hour-${id}`, 'none'),
  AWS_EC2_METADATA_DISABLED: 'true',
});

beforeAll(async () => {
  env = stackEnv();
  db = pgPool(env);
  admin = await kafkaAdmin(env, 'e2e-first-hour');
});

afterAll(async () => {
  await admin?.disconnect();
  await db?.end();
});

describe('./cognito-sync from a fresh shell', () => {
  test('runs on Node 22 without AWS keys, and a foreground run on a terminal shows a live status line', async () => {
    const cognito = cognitoClient(env);
    const poolId = await createPool(cognito, `e2e-first-hour-${id}`);
    const group = `e2e-first-hour-${id}`;
    await pinGroupAtEnd(admin, group, [TOPIC]);
    const config = join(REPO, '.stack', `e2e-first-hour-${id}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        kafka: { brokers: env.KAFKA_BROKERS.split(','), groupId: group, topics: [TOPIC], fromBeginning: false },
        format: 'json',
        cognito: {
          userPoolId: poolId,
          region: env.COGNITO_REGION,
          endpoint: env.COGNITO_ENDPOINT,
          emulatorCredentials: true,
        },
        mapping: join(REPO, 'examples/mapping.yaml'),
        dlq: { topic: `cognito-sync.dlq.first-hour.${id}` },
        ops: { port: 0 },
        log: { level: 'error' }, // the demo's level: before, such a run printed nothing at all
      }),
    );

    // `script` gives the CLI a terminal, as a person's shell would.
    const child = spawn('script', ['-qfec', `${join(REPO, 'cognito-sync')} run --config ${config}`, '/dev/null'], {
      env: freshShell(),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await waitFor('the status line', async () => /msgs \(\d+%\) \| [\d.]+ ev\/s/.test(out), 60_000);
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO users (username, email, email_verified, given_name, family_name, locale, status)
         VALUES ($1, $2, true, 'First', 'Hour', 'de-DE', 'active') RETURNING id`,
        [`first.hour.${id}`, `first.hour.${id}@example.com`],
      );
      const username = `legacy_${rows[0]!.id}`;
      await waitFor('the new user in Cognito', async () => (await getUser(cognito, poolId, username)) !== null, 60_000);
      // The status line counts what happened (the lag gauges' poll, every 10 s, moves its position).
      await waitFor(
        'the status line to count the record',
        async () => /[1-9]\d*\/[1-9]\d* msgs \(100%\) .* \| 0 DLQ \| caught up/.test(out.slice(-600)),
        60_000,
      );
    } finally {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    }
    await exited;
    // Node 22 ran it (the SDK warns on older Nodes, over the status line), and nothing asked for credentials.
    expect(out).not.toMatch(/NodeVersionSupportWarning|credentials/i);
  });
});
