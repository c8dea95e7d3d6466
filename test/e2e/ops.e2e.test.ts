// Operator commands against the real stack: `lag`, `replay` and `dlq`, run as the CLI an
// operator would run them (a child process reading a config file), with the sync itself
// running in this process where the test needs to count its Cognito writes.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runCliProcess, type CliProcessResult } from './support/cli-process.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import type { Admin } from 'kafkajs';
import { AdminDisableUserCommand, type CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { compileConfig, type CompiledConfig } from '../../src/config/load-config.js';
import type { RawConfig } from '../../src/config/schema.js';
import { createLogger } from '../../src/ops/logger.js';
import { SyncService } from '../../src/runtime/sync-service.js';
import type { CognitoGateway } from '../../src/adapters/cognito/cognito-gateway.js';
import { stopWhenCaughtUp } from '../../src/runtime/caught-up.js';
import type { LagReport } from '../../src/ops/lag-status.js';
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
let db: pg.Pool;
let cognito: CognitoIdentityProviderClient;
let poolId: string;
let admin: Admin;
const id = runId();

function rawConfig(
  groupId: string,
  overrides: { fromBeginning?: boolean; mapping?: string; dlqTopic?: string } = {},
): RawConfig {
  return {
    kafka: {
      brokers: env.KAFKA_BROKERS.split(','),
      groupId,
      topics: [TOPIC],
      fromBeginning: overrides.fromBeginning ?? false,
    },
    format: 'json',
    cognito: {
      userPoolId: poolId,
      region: env.COGNITO_REGION,
      endpoint: env.COGNITO_ENDPOINT,
      rates: { UserCreation: 200, UserUpdate: 200, UserRead: 500, UserResourceUpdate: 200 },
    },
    mapping: overrides.mapping ?? join(REPO, 'examples/mapping.yaml'),
    dlq: { topic: overrides.dlqTopic ?? `cognito-sync.dlq.ops.${id}` },
    ops: { port: 0 },
    log: { level: 'info' },
  };
}

/** The config file an operator would pass with --config. */
function configFile(name: string, raw: RawConfig): string {
  const path = join(REPO, '.stack', `e2e-ops-${name}-${id}.json`);
  writeFileSync(path, JSON.stringify(raw));
  return path;
}

interface CliResult extends CliProcessResult {
  /** stdout lines that are JSON objects (plans, reports, pino log lines). */
  json: Record<string, unknown>[];
}

async function cli(args: string[], timeoutMs = 200_000): Promise<CliResult> {
  const result = await runCliProcess(args, timeoutMs);
  const json = result.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { ...result, json };
}

/** A SyncService in this process, counting the Cognito writes it makes. */
async function startSync(config: CompiledConfig) {
  const writes: string[] = [];
  const service = new SyncService({
    config,
    logger: createLogger({ level: 'warn' }),
    onCognitoCall: (e) => {
      if (WRITE_APIS.has(e.api) && e.outcome === 'ok') writes.push(e.api);
    },
  });
  await service.start();
  await waitFor('the consumer to join and get partitions', async () => service.ready, 60_000);
  return { service, writes };
}

async function insertUser(fields: {
  username: string;
  email: string;
  given: string;
  family: string;
  status?: string;
}): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO users (username, email, email_verified, phone, given_name, family_name, locale, status, loyalty_tier, marketing_opt_in)
     VALUES ($1, $2, true, NULL, $3, $4, 'de-DE', $5, 'gold', true) RETURNING id`,
    [fields.username, fields.email, fields.given, fields.family, fields.status ?? 'active'],
  );
  return Number(rows[0]!.id);
}

const usernameOf = (legacyId: number): string => `legacy_${legacyId}`;

async function endOffsets(): Promise<Map<number, bigint>> {
  return new Map((await admin.fetchTopicOffsets(TOPIC)).map((p) => [p.partition, BigInt(p.high)]));
}

const sum = (m: Map<number, bigint>): bigint => [...m.values()].reduce((a, b) => a + b, 0n);

/** Debezium needs a moment: wait until `count` more records are on the topic. */
async function waitForRecords(before: Map<number, bigint>, count: number): Promise<Map<number, bigint>> {
  return waitFor(`${count} new records on ${TOPIC}`, async () => {
    const now = await endOffsets();
    return sum(now) >= sum(before) + BigInt(count) ? now : null;
  });
}

beforeAll(async () => {
  env = stackEnv();
  db = pgPool(env);
  cognito = cognitoClient(env);
  poolId = await createPool(cognito, `e2e-ops-${id}`);
  admin = await kafkaAdmin(env, 'e2e-ops');
  // Debezium creates the topic on the table's first change; on a fresh stack there may be none yet.
  if (!(await admin.listTopics()).includes(TOPIC)) {
    await insertUser({ username: `warmup.${id}`, email: `warmup.${id}@example.com`, given: 'Warm', family: 'Up' });
    await waitFor(`topic ${TOPIC}`, async () => (await admin.listTopics()).includes(TOPIC), 90_000);
    await waitFor(`the first record on ${TOPIC}`, async () => sum(await endOffsets()) > 0n, 60_000);
  }
}, 180_000);

afterAll(async () => {
  await admin?.disconnect();
  await db?.end();
});

describe('operator commands against the real stack', () => {
  test('a batch still in flight when the sync is stopped is committed: the next start does not redo it', async () => {
    const group = `e2e-ops-stop-${id}`;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let writing = false;
    const ends: { partition: number; commitOffset: string | null }[] = [];
    const service = new SyncService({
      config: compileConfig(rawConfig(group)),
      logger: createLogger({ level: 'warn' }),
      events: {
        batchEnd: (e) =>
          void (e.topic === TOPIC && ends.push({ partition: e.partition, commitOffset: e.commitOffset })),
      },
      // The batch's first Cognito write waits until stop() has begun.
      decorateGateway: (inner: CognitoGateway): CognitoGateway => ({
        getUser: (username, groups) => inner.getUser(username, groups),
        execute: async (call) => {
          writing = true;
          await gate;
          return inner.execute(call);
        },
      }),
    });
    await service.start();
    await waitFor('the consumer to join and get partitions', async () => service.ready, 60_000);
    await insertUser({ username: `stop.${id}`, email: `stop.${id}@example.com`, given: 'Stop', family: 'Ping' });
    await waitFor('the batch to reach its Cognito write', async () => writing, 60_000);
    const stopping = service.stop(); // kafkajs stops taking commits through consumer.commitOffsets from here
    release();
    await stopping;

    expect(ends).toHaveLength(1);
    const { partition, commitOffset } = ends[0]!;
    expect(commitOffset).not.toBeNull();
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [TOPIC] });
    expect(committed!.partitions.find((p) => p.partition === partition)?.offset).toBe(commitOffset);
  });

  test('lag reports the backlog of a stopped group with the right numbers, then OK once the sync drained it', async () => {
    const group = `e2e-ops-lag-${id}`;
    // The group starts committed at the end of the topic, as a sync that was in step and stopped.
    const start = await endOffsets();
    await admin.setOffsets({
      groupId: group,
      topic: TOPIC,
      partitions: [...start].map(([partition, offset]) => ({ partition, offset: offset.toString() })),
    });
    for (let i = 0; i < 4; i++)
      await insertUser({
        username: `lag${i}.${id}`,
        email: `lag${i}.${id}@example.com`,
        given: `Lag${i}`,
        family: 'Backlog',
      });
    const ends = await waitForRecords(start, 4);

    const config = configFile('lag', rawConfig(group));
    const before = await cli(['lag', '--config', config, '--window', '2s', '--samples', '2', '--json']);
    const endsAfter = await endOffsets(); // other writers may add records meanwhile: bound, don't guess
    expect(before.code).toBe(3);
    const report = before.json[0] as unknown as LagReport;
    expect(report).toMatchObject({ groupId: group, members: 0, status: 'STOPPED', samples: 2 });
    expect(report.partitions.map((p) => p.partition).sort()).toEqual([...start.keys()].sort());
    for (const p of report.partitions) {
      const end = BigInt(p.end);
      expect(end).toBeGreaterThanOrEqual(ends.get(p.partition)!);
      expect(end).toBeLessThanOrEqual(endsAfter.get(p.partition)!);
      expect(p.committed).toBe(start.get(p.partition)!.toString());
      expect(p.lag).toBe(Number(end - start.get(p.partition)!));
      if (ends.get(p.partition)! > start.get(p.partition)!) {
        // A backlog at every sample and nobody consuming.
        expect(p.status).toBe('STOPPED');
        // Read from the first unconsumed record: written moments ago by Debezium.
        expect(p.timeLagSource).toBe('record-timestamp');
        expect(p.timeLagMs).toBeGreaterThanOrEqual(0);
        expect(p.timeLagMs).toBeLessThan(120_000);
      } else if (p.lag === 0) expect(p.status).toBe('OK');
    }
    expect(report.totalLag).toBe(report.partitions.reduce((n, p) => n + p.lag, 0));
    expect(report.totalLag).toBeGreaterThanOrEqual(Number(sum(ends) - sum(start)));

    const table = await cli(['lag', '--config', config, '--window', '1s', '--samples', '2']);
    expect(table.code).toBe(3);
    expect(table.stdout).toMatch(/TOPIC\s+PARTITION\s+COMMITTED\s+END\s+LAG\s+TIME LAG/);
    expect(table.stdout).toContain('STOPPED');

    // Drain it with the CLI, as a backfill would: not a TTY here, so progress comes as log lines.
    const run = await cli(['run', '--config', config, '--until-caught-up']);
    expect(run.code).toBe(0);
    expect(run.stderr.trimEnd().split('\n').pop()).toBe(
      'caught up: every record applied or skipped, none went to the DLQ',
    );
    const finished = run.json.find((l) => l.msg === 'progress: finished') as
      | { progress: Record<string, number> }
      | undefined;
    expect(finished?.progress).toMatchObject({ remaining: 0, percent: 100 });
    expect(finished!.progress.done).toBeGreaterThanOrEqual(Number(sum(ends) - sum(start)));
    expect(finished!.progress.cognitoWrites).toBeGreaterThanOrEqual(4);

    const after = await cli(['lag', '--config', config, '--window', '2s', '--samples', '2', '--json']);
    expect(after.code).toBe(0);
    expect(after.json[0]).toMatchObject({ status: 'OK', totalLag: 0 });
  });

  test('replay --from-earliest of an in-sync group makes no Cognito writes and repairs a user changed behind its back', async () => {
    const group = `e2e-ops-replay-${id}`;
    const raw = rawConfig(group, { fromBeginning: true });
    const config = configFile('replay', raw);
    const tampered = await insertUser({
      username: `tamper.${id}`,
      email: `tamper.${id}@example.com`,
      given: 'Tam',
      family: 'Pered',
    });

    // The whole topic, synced once into this test's pool.
    const { service } = await startSync(compileConfig(raw));
    // While the sync runs in that group, Kafka would refuse an offset reset: so do we, saying why.
    const refused = await cli(['replay', '--config', config, '--from-earliest', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('active member(s)');
    expect(refused.stderr).toContain('Kafka refuses offset commits from outside a consumer group while it has members');
    await stopWhenCaughtUp(service, compileConfig(raw), createLogger({ level: 'warn' }), { pollMs: 500 });
    await service.done();
    expect((await getUser(cognito, poolId, usernameOf(tampered)))?.enabled).toBe('true');

    // Someone disables the user in Cognito behind the sync's back.
    await cognito.send(new AdminDisableUserCommand({ UserPoolId: poolId, Username: usernameOf(tampered) }));

    const dry = await cli(['replay', '--config', config, '--from-earliest', '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    const plan = dry.json[0] as {
      dryRun: boolean;
      applied: boolean;
      partitions: { target: string; low: string; current: string | null; high: string }[];
    };
    expect(plan).toMatchObject({ dryRun: true, applied: false });
    for (const p of plan.partitions) {
      expect(p.target).toBe(p.low);
      // A partition that never held a record has no committed offset (a fresh stack has some).
      if (p.current === null) expect(p.high).toBe(p.low);
      else expect(BigInt(p.current)).toBeLessThanOrEqual(BigInt(p.high));
    }

    // No terminal here: without --yes the reset is refused before anything connects.
    const unconfirmed = await cli(['replay', '--config', config, '--from-earliest', '--run', '--json']);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('add --yes');
    const replay = await cli(['replay', '--config', config, '--from-earliest', '--run', '--json', '--yes']);
    expect(replay.json[0]).toMatchObject({
      groupId: group,
      liveGroup: true,
      applied: true,
      target: { kind: 'earliest' },
    });
    const finished = replay.json.find((l) => l.msg === 'progress: finished') as
      | { progress: Record<string, number> }
      | undefined;
    // The shared topic's history holds rows the mapping refuses (other tests', the demo's bad
    // e-mails): a replay dead-letters them again, and then says so in its last line and exit 3.
    const lastLine = replay.stderr.trimEnd().split('\n').pop();
    if (finished!.progress.dlq! > 0) {
      expect(replay.code).toBe(3);
      expect(lastLine).toBe(
        `caught up; ${finished!.progress.dlq} record${finished!.progress.dlq === 1 ? '' : 's'} went to the DLQ cognito-sync.dlq.ops.${id} (see them: cognito-sync dlq list --config ${config}; exit 3)`,
      );
    } else {
      expect(replay.code).toBe(0);
      expect(lastLine).toBe('caught up: every record applied or skipped, none went to the DLQ');
    }
    // Every event re-read; the only write is the repair (a same-version replay re-enables the user).
    // Exact because the e2e suite runs in band: nobody else writes users meanwhile.
    expect(finished?.progress).toMatchObject({ remaining: 0, cognitoWrites: 1 });
    expect((await getUser(cognito, poolId, usernameOf(tampered)))?.enabled).toBe('true');
  });

  test('dlq list, inspect and redrive: a record the mapping refused is re-driven into Cognito once the mapping is fixed', async () => {
    const group = `e2e-ops-dlq-${id}`;
    const dlqTopic = `cognito-sync.dlq.ops-redrive.${id}`;
    // Before the fix the mapping does not know the status "pending_verification"; the fix
    // (the example mapping, or the example plus that status) does.
    const example = readFileSync(join(REPO, 'examples/mapping.yaml'), 'utf8');
    const brokenMapping = join(REPO, '.stack', `e2e-ops-mapping-broken-${id}.yaml`);
    writeFileSync(brokenMapping, example.replace(/\s*,\s*pending_verification\b|\bpending_verification\s*,\s*/g, ''));
    expect(readFileSync(brokenMapping, 'utf8')).not.toContain('pending_verification');
    const fixedMapping = join(REPO, '.stack', `e2e-ops-mapping-fixed-${id}.yaml`);
    writeFileSync(
      fixedMapping,
      example.includes('pending_verification')
        ? example
        : example.replace(/(\n\s*disabled:\s*\[)/, '$1pending_verification, '),
    );
    expect(readFileSync(fixedMapping, 'utf8')).toContain('pending_verification');

    const brokenRaw = rawConfig(group, { dlqTopic, mapping: brokenMapping });
    const broken = configFile('dlq', brokenRaw);
    const { service } = await startSync(compileConfig(brokenRaw));
    let stuck: number;
    try {
      stuck = await insertUser({
        username: `stuck.${id}`,
        email: `stuck.${id}@example.com`,
        given: 'Stu',
        family: 'Ck',
        status: 'pending_verification',
      });
      await waitFor('the record in the DLQ', async () => {
        const offsets = await admin.fetchTopicOffsets(dlqTopic).catch(() => []);
        return offsets.some((p) => p.high !== '0');
      });
    } finally {
      await service.stop();
    }
    expect(await getUser(cognito, poolId, usernameOf(stuck))).toBeNull();

    const list = await cli(['dlq', 'list', '--config', broken, '--json']);
    expect(list.code).toBe(0);
    const records = (
      list.json[0] as {
        records: {
          partition: number;
          offset: string;
          source: string;
          stage: string;
          errorClass: string;
          message: string;
        }[];
      }
    ).records;
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      stage: 'map',
      errorClass: 'MappingError',
      source: expect.stringMatching(/^legacy\.public\.users:\d+@\d+$/),
    });
    // The record's key (the row's primary key), so a script can tell which user it was.
    expect((records[0] as { key?: unknown }).key).toEqual({ id: stuck });
    expect(records[0]!.message).toContain('pending_verification');

    const inspect = await cli([
      'dlq',
      'inspect',
      '--config',
      broken,
      '--partition',
      String(records[0]!.partition),
      '--offset',
      records[0]!.offset,
    ]);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toContain('mapping now: fails: MappingError');
    expect(inspect.stdout).not.toContain(`stuck.${id}@example.com`);
    const shown = await cli([
      'dlq',
      'inspect',
      '--config',
      broken,
      '--partition',
      String(records[0]!.partition),
      '--offset',
      records[0]!.offset,
      '--show-personal-data',
      '--json',
    ]);
    expect(JSON.stringify(shown.json[0])).toContain(`stuck.${id}@example.com`);

    const fixed = configFile('dlq-fixed', rawConfig(group, { dlqTopic, mapping: fixedMapping }));
    const redrive = await cli(['dlq', 'redrive', '--config', fixed, '--json']);
    expect(redrive.code).toBe(0);
    expect(redrive.json[0]).toMatchObject({
      records: 1,
      succeeded: 1,
      skipped: 0,
      failed: 0,
      groupId: `${group}.dlq-redrive`,
    });
    const user = await getUser(cognito, poolId, usernameOf(stuck));
    expect(user).toMatchObject({ email: `stuck.${id}@example.com`, 'custom:legacy_id': String(stuck) });

    // Re-driven once: the next re-drive finds nothing new.
    const again = await cli(['dlq', 'redrive', '--config', fixed, '--json']);
    expect(again.code).toBe(0);
    expect(again.json[0]).toMatchObject({ records: 0 });
  });
});
