// The ops port of a real `cognito-sync run`: /readyz, /healthz and /metrics with the
// documented series moving as the sync works, and no personal data in them.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type pg from 'pg';
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

let env: StackEnv;
let db: pg.Pool;
let child: ChildProcess | undefined;
const id = runId();

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Sum of a metric's samples whose labels contain every `labels` pair. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const set = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

beforeAll(() => {
  env = stackEnv();
  db = pgPool(env);
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await db?.end();
});

describe('ops port of cognito-sync run', () => {
  test('/readyz and /healthz answer, /metrics series move with the work and carry no personal data', async () => {
    const cognito = cognitoClient(env);
    const poolId = await createPool(cognito, `e2e-metrics-${id}`);
    const port = await freePort();
    const configPath = join(REPO, '.stack', `e2e-metrics-${id}.json`);
    writeFileSync(
      configPath,
      JSON.stringify({
        kafka: {
          brokers: env.KAFKA_BROKERS.split(','),
          groupId: `e2e-metrics-${id}`,
          topics: ['legacy.public.users'],
          fromBeginning: false,
        },
        format: 'json',
        cognito: {
          userPoolId: poolId,
          region: env.COGNITO_REGION,
          endpoint: env.COGNITO_ENDPOINT,
          rates: { UserCreation: 200, UserUpdate: 200, UserRead: 500 },
        },
        mapping: join(REPO, 'examples/mapping.yaml'),
        ops: { port },
        log: { level: 'warn' },
      }),
    );
    child = spawn(process.execPath, [join(REPO, 'bin/cognito-sync.js'), 'run', '--config', configPath], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' },
      stdio: 'ignore',
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      '/readyz 200',
      async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200,
      60_000,
    );
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const before = await (await fetch(`${base}/metrics`)).text();

    const emails = [`Metric.One.${id}@Example.com`, `metric.two.${id}@example.com`];
    const ids: number[] = [];
    for (const [i, email] of emails.entries()) {
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO users (username, email, email_verified, phone, given_name, family_name, status) VALUES ($1, $2, true, '+4917612345678', 'Zoë${i}', 'Metricson', 'active') RETURNING id`,
        [`metric${i}.${id}`, email],
      );
      ids.push(Number(rows[0]!.id));
    }
    for (const legacyId of ids)
      await waitFor(`user ${legacyId} synced`, () => getUser(cognito, poolId, `legacy_${legacyId}`));

    const after = await waitFor(
      'the lag gauges to be published',
      async () => {
        const text = await (await fetch(`${base}/metrics`)).text();
        return text.includes('cognito_sync_consumer_lag_messages{') ? text : undefined;
      },
      30_000,
    );
    const moved = (name: string, labels: Record<string, string> = {}) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(moved('cognito_sync_events_total', { outcome: 'applied' })).toBeGreaterThanOrEqual(2);
    expect(moved('cognito_sync_cognito_calls_total', { api: 'AdminCreateUser', outcome: 'ok' })).toBeGreaterThanOrEqual(
      2,
    );
    // The pool state was primed from ListUsers at start (long before the group was joined and
    // /readyz said ready): the new users were known to be absent and created without a read.
    expect(
      sample(after, 'cognito_sync_cognito_calls_total', { api: 'ListUsers', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(1);
    expect(moved('cognito_sync_cognito_calls_total', { api: 'AdminGetUser' })).toBe(0);
    expect(moved('cognito_sync_end_to_end_latency_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(moved('cognito_sync_batch_size_count')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'cognito_sync_committed_offset')).toBeGreaterThan(0);
    for (const name of [
      'cognito_sync_cognito_throttles_total',
      'cognito_sync_dlq_records_total',
      'cognito_sync_retries_total',
      'cognito_sync_consumer_lag_seconds',
    ]) {
      expect(after).toContain(`# TYPE ${name}`);
    }
    for (const secret of [
      ...emails,
      ...emails.map((e) => e.toLowerCase()),
      '+4917612345678',
      'Zoë0',
      'Metricson',
      `metric0.${id}`,
    ]) {
      expect(after).not.toContain(secret);
    }

    child.kill('SIGTERM');
    await waitFor(
      'the ops port to close after SIGTERM',
      async () => (await fetch(`${base}/healthz`).catch(() => 'closed')) === 'closed',
      60_000,
    );
  });
});
