// The first real sync, end to end: PostgreSQL or MariaDB -> Debezium (Kafka Connect) -> Kafka ->
// cognito-sync -> cognito-local, and the same scenarios against moto's Cognito. No mocks:
// every component is the real program. Every scenario runs for each Cognito emulator and, within
// it, for each legacy database (support/sources.ts), each pair with its own user pool (the two
// databases number their rows independently, and usernames come from the primary key).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/ops/logger.js';
import { SyncService } from '../../src/runtime/sync-service.js';
import { SOURCES, openSource, type LegacySource } from './support/sources.js';
import {
  EMULATORS,
  REPO,
  cognitoClient,
  endpointOf,
  createPool,
  getUser,
  runId,
  stackEnv,
  waitFor,
  type StackEnv,
} from './support/stack.js';
import {
  AdminListGroupsForUserCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { Kafka, logLevel } from 'kafkajs';
import { fetchLag, totalLag } from '../../src/adapters/kafka/lag.js';

const WRITE_APIS = new Set([
  'AdminCreateUser',
  'AdminUpdateUserAttributes',
  'AdminDeleteUserAttributes',
  'AdminDisableUser',
  'AdminEnableUser',
  'AdminDeleteUser',
  'AdminAddUserToGroup',
  'AdminRemoveUserFromGroup',
]);

let env: StackEnv;
let db: LegacySource;
let cognito: CognitoIdentityProviderClient;
let poolId: string;
let endpoint: string;
let id: string;

function configFor(groupId: string, topics = [db.json.usersTopic], fromBeginning = false) {
  return compileConfig({
    kafka: { brokers: env.KAFKA_BROKERS.split(','), groupId, topics, fromBeginning },
    format: 'json',
    cognito: {
      userPoolId: poolId,
      region: env.COGNITO_REGION,
      endpoint,
      rates: { UserCreation: 200, UserUpdate: 200, UserRead: 500, UserResourceUpdate: 200 },
    },
    mapping: join(REPO, 'examples/mapping.yaml'),
    dlq: { topic: `cognito-sync.dlq.${id}` },
    ops: { port: 0 },
    log: { level: 'warn' },
  });
}

/** A SyncService in this process, counting the Cognito write calls it makes. */
async function startSync(groupId: string, topics?: string[], fromBeginning = false) {
  const writes: string[] = [];
  const applied = new Map<string, string[]>();
  const service = new SyncService({
    config: configFor(groupId, topics, fromBeginning),
    events: { applied: (e) => applied.set(e.username, [...(applied.get(e.username) ?? []), ...e.calls]) },
    logger: createLogger({ level: 'warn' }),
    onCognitoCall: (e) => {
      if (WRITE_APIS.has(e.api) && e.outcome === 'ok') writes.push(e.api);
    },
  });
  await service.start();
  await waitFor('the consumer to join and get partitions', async () => service.ready, 60_000);
  return { service, writes, applied };
}

async function insertUser(fields: {
  username: string;
  email: string;
  given: string;
  family: string;
  phone?: string | null;
  status?: string;
}): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO users (username, email, email_verified, phone, given_name, family_name, locale, status, loyalty_tier, marketing_opt_in)
     VALUES ($1, $2, true, $3, $4, $5, 'de-DE', $6, 'gold', true) RETURNING id`,
    [fields.username, fields.email, fields.phone ?? null, fields.given, fields.family, fields.status ?? 'active'],
  );
  return Number(rows[0]!.id);
}

const usernameOf = (legacyId: number): string => `legacy_${legacyId}`;

async function groupsOf(username: string): Promise<string[]> {
  const out = await cognito.send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: username }));
  return (out.Groups ?? []).map((g) => g.GroupName!).sort();
}

beforeAll(() => {
  env = stackEnv();
});

describe.each(EMULATORS)('cognito-sync run against the real stack, Cognito emulated by %s', (emulator) => {
  beforeAll(() => {
    endpoint = endpointOf(env, emulator);
    cognito = cognitoClient(env, endpoint);
  });

  describe.each(SOURCES)('changes from %s', (source) => {
    beforeAll(async () => {
      id = `${runId()}${emulator === 'moto' ? 'm' : 'c'}${source === 'mariadb' ? 'm' : 'p'}`;
      db = openSource(source, env);
      poolId = await createPool(cognito, `e2e-sync-${id}`);
    });

    afterAll(async () => {
      await db?.end();
    });

    test('rows inserted, updated and deleted in the database appear, change and disappear in Cognito', async () => {
      const { service } = await startSync(`e2e-crud-${id}`);
      try {
        const anna = await insertUser({
          username: `anna.${id}`,
          email: `Anna.Muller.${id}@Example.COM`,
          given: 'Änna',
          family: 'Müller',
          phone: '+49 151 2345 6789',
        });
        const bo = await insertUser({
          username: `bo.${id}`,
          email: `bo.${id}@example.com`,
          given: '博',
          family: '王',
          phone: null,
        });

        const created = await waitFor('anna in Cognito', () => getUser(cognito, poolId, usernameOf(anna)));
        expect(created.email).toBe(`anna.muller.${id}@example.com`);
        expect(created.given_name).toBe('Änna');
        expect(created.family_name).toBe('Müller');
        expect(created.phone_number).toBe('+4915123456789');
        expect(created['custom:legacy_id']).toBe(String(anna));
        expect(created['custom:cdc_version']).toMatch(/^[0-9a-f]+$/);
        const boUser = await waitFor('bo in Cognito', () => getUser(cognito, poolId, usernameOf(bo)));
        expect(boUser.given_name).toBe('博');
        expect(boUser.phone_number).toBeUndefined();

        await db.query(`UPDATE users SET email = $1, status = 'suspended', updated_at = now() WHERE id = $2`, [
          `anna.new.${id}@example.com`,
          anna,
        ]);
        const updated = await waitFor('anna updated', async () => {
          const u = await getUser(cognito, poolId, usernameOf(anna));
          return u?.email === `anna.new.${id}@example.com` && u.enabled === 'false' ? u : null;
        });
        expect(updated['custom:cdc_version']! > created['custom:cdc_version']!).toBe(true);

        await db.query('DELETE FROM users WHERE id = $1', [bo]);
        await waitFor('bo deleted', async () => (await getUser(cognito, poolId, usernameOf(bo))) === null);
      } finally {
        await service.stop();
      }
    });

    test('a restarted consumer resumes from committed offsets: changes made while it was down apply, nothing is re-applied', async () => {
      const group = `e2e-restart-${id}`;
      const first = await startSync(group);
      const ids: number[] = [];
      try {
        for (let i = 0; i < 5; i++)
          ids.push(
            await insertUser({
              username: `r${i}.${id}`,
              email: `r${i}.${id}@example.com`,
              given: `R${i}`,
              family: 'Restart',
            }),
          );
        for (const legacyId of ids)
          await waitFor(`user ${legacyId}`, () => getUser(cognito, poolId, usernameOf(legacyId)));
        expect(ids.map((legacyId) => first.applied.get(usernameOf(legacyId)))).toEqual(
          ids.map(() => ['AdminCreateUser']),
        );
      } finally {
        await first.service.stop();
      }

      // While the sync is down: one update, one delete, one new user.
      await db.query(`UPDATE users SET given_name = 'Renamed' WHERE id = $1`, [ids[0]]);
      await db.query('DELETE FROM users WHERE id = $1', [ids[1]]);
      const late = await insertUser({
        username: `late.${id}`,
        email: `late.${id}@example.com`,
        given: 'Late',
        family: 'Comer',
      });

      const second = await startSync(group);
      try {
        await waitFor(
          'rename applied',
          async () => (await getUser(cognito, poolId, usernameOf(ids[0]!)))?.given_name === 'Renamed',
        );
        await waitFor('delete applied', async () => (await getUser(cognito, poolId, usernameOf(ids[1]!))) === null);
        await waitFor('late user created', () => getUser(cognito, poolId, usernameOf(late)));
        // Exactly the three changes made while down were written: the five creates were not redone.
        // (Only this test's users count: other tests may write to the shared legacy table.)
        const ours = [...ids, late].flatMap((legacyId) => second.applied.get(usernameOf(legacyId)) ?? []);
        expect(ours.filter((api) => WRITE_APIS.has(api)).sort()).toEqual([
          'AdminCreateUser',
          'AdminDeleteUser',
          'AdminUpdateUserAttributes',
        ]);
      } finally {
        await second.service.stop();
      }
    });

    test('a replay from the earliest offset in a new process never resurrects a deleted user', async () => {
      const first = await startSync(`e2e-resurrect-a-${id}`);
      // Where the ghost's records will start: the replay goes back to there (the shared topic's
      // older history, every other test's users, would only make it slow).
      const kafkaAdmin = new Kafka({ brokers: env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
      await kafkaAdmin.connect();
      const before = await kafkaAdmin.fetchTopicOffsets(db.json.usersTopic);
      await kafkaAdmin.disconnect();
      const ghost = await insertUser({
        username: `ghost.${id}`,
        email: `ghost.${id}@example.com`,
        given: 'Ghost',
        family: 'User',
      });
      try {
        await waitFor('ghost created', () => getUser(cognito, poolId, usernameOf(ghost)));
        await db.query('DELETE FROM users WHERE id = $1', [ghost]);
        await waitFor('ghost deleted', async () => (await getUser(cognito, poolId, usernameOf(ghost))) === null);
      } finally {
        await first.service.stop();
      }
      // A new process (empty caches) in a new group re-reads the topic from before the ghost's
      // create, create included.
      const resetAdmin = new Kafka({ brokers: env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
      await resetAdmin.connect();
      await resetAdmin.setOffsets({
        groupId: `e2e-resurrect-b-${id}`,
        topic: db.json.usersTopic,
        partitions: before.map((p) => ({ partition: p.partition, offset: p.high })),
      });
      await resetAdmin.disconnect();
      const replay = await startSync(`e2e-resurrect-b-${id}`, undefined, true);
      try {
        const admin = new Kafka({ brokers: env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
        await admin.connect();
        try {
          await waitFor(
            'the replay to catch up',
            async () => totalLag(await fetchLag(admin, `e2e-resurrect-b-${id}`, [db.json.usersTopic])) === 0,
            120_000,
          );
        } finally {
          await admin.disconnect();
        }
        expect(replay.applied.get(usernameOf(ghost))).toBeUndefined();
        expect(await getUser(cognito, poolId, usernameOf(ghost))).toBeNull();
      } finally {
        await replay.service.stop();
      }
    });

    test('roles become Cognito groups, even when the role event is consumed before its user exists', async () => {
      const admin = new Kafka({ brokers: env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: db.json.rolesTopic, numPartitions: 3 }] });
      await admin.disconnect();
      const { service } = await startSync(`e2e-roles-${id}`, [db.json.usersTopic, db.json.rolesTopic]);
      try {
        // User and roles in one transaction: the two topics are consumed independently, so the
        // role rows can be processed first; they must wait for the user rather than be lost.
        const legacyId = await db.transaction(async (tx) => {
          const { rows } = await tx.query<{ id: string }>(
            `INSERT INTO users (username, email, email_verified, given_name, family_name, status) VALUES ($1, $2, true, 'Rolf', 'Roles', 'active') RETURNING id`,
            [`roles.${id}`, `roles.${id}@example.com`],
          );
          const inserted = Number(rows[0]!.id);
          await tx.query(`INSERT INTO user_roles (user_id, role) VALUES ($1, 'admin'), ($1, 'support')`, [inserted]);
          return inserted;
        });
        const username = usernameOf(legacyId);
        await waitFor('both groups', async () => (await groupsOf(username)).join(',') === 'admin,support');

        await db.query(`DELETE FROM user_roles WHERE user_id = $1 AND role = 'admin'`, [legacyId]);
        await waitFor('admin removed', async () => (await groupsOf(username)).join(',') === 'support');
      } finally {
        await service.stop();
      }
    });

    test('the CLI runs the sync and stops cleanly on SIGTERM with exit code 0', async () => {
      const configPath = join(REPO, '.stack', `e2e-cli-${id}.json`);
      const raw = {
        kafka: {
          brokers: env.KAFKA_BROKERS.split(','),
          groupId: `e2e-cli-${id}`,
          topics: [db.json.usersTopic],
          fromBeginning: false,
        },
        format: 'json',
        cognito: {
          userPoolId: poolId,
          region: env.COGNITO_REGION,
          endpoint,
          rates: { UserCreation: 200, UserUpdate: 200, UserRead: 500 },
        },
        mapping: join(REPO, 'examples/mapping.yaml'),
        ops: { port: 0 },
      };
      writeFileSync(configPath, JSON.stringify(raw));
      const child = spawn(process.execPath, [join(REPO, 'bin/cognito-sync.js'), 'run', '--config', configPath], {
        env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await waitFor('the CLI to join the group', async () => output.includes('joined consumer group'), 60_000);

      const cli = await insertUser({
        username: `cli.${id}`,
        email: `cli.${id}@example.com`,
        given: 'Cli',
        family: 'User',
      });
      await waitFor('user synced by the CLI', () => getUser(cognito, poolId, usernameOf(cli)));

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toContain('sync stopped');
      expect(output).not.toContain(`cli.${id}@example.com`); // no personal data in logs
    });
  });
});
