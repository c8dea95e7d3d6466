// Attributes whose columns Debezium sends as its unavailable-value placeholder (TOAST, REPLICA
// IDENTITY DEFAULT) are never left out or stale (issue #19, #12.6), through the real stack:
// PostgreSQL -> Debezium -> Kafka -> cognito-sync (in process, legacyDatabase.url set, so the
// unknown values are read from the row) -> cognito-local. The users are this file's own.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type pg from 'pg';
import { compileConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/ops/logger.js';
import { SyncService } from '../../src/runtime/sync-service.js';
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
let cognito: CognitoIdentityProviderClient;
let poolId: string;
let service: SyncService;
const id = runId();
const usernameOf = (legacyId: number): string => `legacy_${legacyId}`;

/**
 * A given_name PostgreSQL stores out of line: 1,200 random CJK characters are 3,600 bytes that
 * do not compress, over the 2 kB row threshold (and within Cognito's 2,048 characters).
 */
const toastedName = (): string => {
  let out = '';
  for (let i = 0; i < 1200; i++) out += String.fromCodePoint(0x4e00 + randomInt(0x5000));
  return out;
};

async function insertUser(name: string, given: string, email = `${name}.${id}@example.com`): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO users (username, email, email_verified, given_name, family_name, locale, status)
     VALUES ($1, $2, true, $3, 'Before', 'de-DE', 'active') RETURNING id`,
    [`${name}.${id}`, email, given],
  );
  return Number(rows[0]!.id);
}

/** Big enough that PostgreSQL stores it out of line (over the 2 kB row threshold, incompressible). */
async function isBig(legacyId: number): Promise<boolean> {
  const { rows } = await db.query<{ raw: number }>('SELECT octet_length(given_name) AS raw FROM users WHERE id = $1', [
    legacyId,
  ]);
  return rows[0] !== undefined && rows[0].raw > 2000;
}

/** Compares a long value without printing it whole on failure. */
const same = (actual: string | undefined, wanted: string): string =>
  actual === wanted
    ? 'same'
    : actual === undefined
      ? 'missing'
      : `differs (${actual.slice(-12)} vs ${wanted.slice(-12)})`;

beforeAll(async () => {
  env = stackEnv();
  db = pgPool(env);
  cognito = cognitoClient(env);
  poolId = await createPool(cognito, `e2e-fidelity-toast-${id}`);
  const config = compileConfig({
    kafka: {
      brokers: env.KAFKA_BROKERS.split(','),
      groupId: `e2e-fidelity-toast-${id}`,
      topics: ['legacy.public.users'],
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
    dlq: { topic: `fidelity.toast.dlq.${id}`, tolerance: 'all' },
    legacyDatabase: { url: env.PG_URL },
    ops: { port: 0 },
    log: { level: 'warn' },
  });
  service = new SyncService({ config, logger: createLogger({ level: 'warn' }) });
  await service.start();
  await waitFor('the consumer to join and get partitions', async () => service.ready || !service.healthy, 90_000);
});

afterAll(async () => {
  await service?.stop();
  await db?.end();
});

describe('attributes over TOASTed columns', () => {
  test('a primary-key change of a user with a TOASTed given_name: the new user has it (and name)', async () => {
    const given = toastedName();
    const old = await insertUser('pkchange', given);
    expect(await isBig(old)).toBe(true);
    await waitFor('the user before the key change', () => getUser(cognito, poolId, usernameOf(old)), 90_000);
    const { rows } = await db.query<{ id: string }>(
      `UPDATE users SET id = nextval('users_id_seq') WHERE id = $1 RETURNING id`,
      [old],
    );
    const renamed = Number(rows[0]!.id);
    const user = await waitFor(
      'the user under its new key',
      () => getUser(cognito, poolId, usernameOf(renamed)),
      90_000,
    );
    await waitFor(
      'the old key deleted',
      async () => (await getUser(cognito, poolId, usernameOf(old))) === null,
      90_000,
    );
    expect(same(user.given_name, given)).toBe('same');
    expect(same(user.name, `${given} Before`)).toBe('same');
    expect(user.family_name).toBe('Before');
  });

  test('the first valid update after an insert that went to the DLQ creates the user with every attribute', async () => {
    const given = toastedName();
    const legacyId = await insertUser('deadinsert', given, `not an email ${id}`);
    await db.query('UPDATE users SET email = $1 WHERE id = $2', [`deadinsert.${id}@example.com`, legacyId]);
    const user = await waitFor(
      'the user, created from the update',
      () => getUser(cognito, poolId, usernameOf(legacyId)),
      90_000,
    );
    expect(user.email).toBe(`deadinsert.${id}@example.com`);
    expect(same(user.given_name, given)).toBe('same');
    expect(same(user.name, `${given} Before`)).toBe('same');
    expect(user.locale).toBe('de-DE');
  });

  test('an update of family_name under the template "{given_name} {family_name}" with a TOASTed given_name ends with the right name', async () => {
    const given = toastedName();
    const legacyId = await insertUser('template', given);
    await waitFor('the user', () => getUser(cognito, poolId, usernameOf(legacyId)), 90_000);
    await db.query(`UPDATE users SET family_name = 'After' WHERE id = $1`, [legacyId]);
    const user = await waitFor(
      'family_name updated',
      async () => {
        const u = await getUser(cognito, poolId, usernameOf(legacyId));
        return u?.family_name === 'After' ? u : null;
      },
      90_000,
    );
    expect(same(user.name, `${given} After`)).toBe('same');
    expect(same(user.given_name, given)).toBe('same');
  });
});
