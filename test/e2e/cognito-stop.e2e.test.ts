// `run` against the real stack when Cognito cannot be used at all: no AWS credentials in the
// environment, or credentials that lack a permission (the fault proxy in front of cognito-local
// answers AccessDeniedException, as IAM does). The sync must stop with exit 1 and one sentence
// naming the cause, commit nothing and dead-letter nothing: no record is at fault. Once the cause
// is fixed, the next run applies everything from where the stopped one began.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { REPO, cognitoClient, createPool, listUsernames, runId, stackEnv, type StackEnv } from './support/stack.js';
import { startFaultProxy } from '../../scripts/faults/fault-proxy.mjs';
import { AwsCognitoGateway } from '../../src/adapters/cognito/cognito-gateway.js';
import { loadConfig } from '../../src/config/load-config.js';
import { CognitoAccessError } from '../../src/errors.js';
import { runSync } from '../../src/cli/commands/run.js';

const id = runId();
const TOPIC = `stop.${id}.public.users`;
const DLQ_TOPIC = `cognito-sync.dlq.stop.${id}`;
const dir = join(REPO, '.stack', `e2e-stop-${id}`);

interface Fixture {
  topic: string;
  partition: number;
  offset: number | string;
  key_b64: string | null;
  value_b64: string | null;
}
const fixtures = JSON.parse(readFileSync(join(REPO, 'test/fixtures/debezium/json.json'), 'utf8')) as Fixture[];
/** Debezium JSON records of fx_json.public.users inserts (legacy ids 10 and 20). */
const inserts = [
  [1, 2],
  [2, 3],
].map(([partition, offset]) => {
  const f = fixtures.find(
    (r) => r.topic === 'fx_json.public.users' && r.partition === partition && Number(r.offset) === offset,
  )!;
  return { key: Buffer.from(f.key_b64!, 'base64'), value: Buffer.from(f.value_b64!, 'base64') };
});

let env: StackEnv;
let cognito: CognitoIdentityProviderClient;
let poolId: string;
let kafka: Kafka;
let admin: Admin;

beforeAll(async () => {
  env = stackEnv();
  cognito = cognitoClient(env);
  poolId = await createPool(cognito, `e2e-stop-${id}`);
  kafka = new Kafka({ brokers: env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }], waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: TOPIC, messages: inserts });
  await producer.disconnect();
  mkdirSync(dir, { recursive: true });
}, 60_000);

afterAll(async () => {
  await admin?.disconnect();
});

function writeConfig(name: string, endpoint: string): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      kafka: { brokers: env.KAFKA_BROKERS.split(','), groupId: `e2e-stop-${id}`, topics: [TOPIC], fromBeginning: true },
      format: 'json',
      cognito: { userPoolId: poolId, region: env.COGNITO_REGION, endpoint, maxAttempts: 2 },
      mapping: join(REPO, 'examples/mapping.yaml'),
      dlq: { topic: DLQ_TOPIC },
      ops: { port: 0 },
      log: { level: 'error' },
    }),
  );
  return path;
}

/**
 * `run --until-caught-up` (its whole body, in this process) with the given environment: exit
 * code and stderr. Until caught up, so that a sync that wrongly goes on ends too (exit 0 or 3).
 */
async function run(
  configPath: string,
  envChanges: Record<string, string | undefined>,
): Promise<{ code: number; stderr: string }> {
  const saved = Object.fromEntries(Object.keys(envChanges).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>): void => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  const stderr: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    stderr.push(String(chunk));
    return write(chunk, ...rest);
  }) as typeof process.stderr.write;
  apply(envChanges);
  try {
    const code = await runSync(loadConfig(configPath), { untilCaughtUp: true, progress: 'off' });
    return { code, stderr: stderr.join('') };
  } finally {
    apply(saved);
    process.stderr.write = write;
  }
}

/** Records in the DLQ topic (0 when nothing ever created it). */
async function dlqRecords(): Promise<number> {
  if (!(await admin.listTopics()).includes(DLQ_TOPIC)) return 0;
  const offsets = await admin.fetchTopicOffsets(DLQ_TOPIC);
  return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
}

async function committed(): Promise<string[]> {
  const [topic] = await admin.fetchOffsets({ groupId: `e2e-stop-${id}`, topics: [TOPIC] });
  return topic!.partitions.map((p) => p.offset);
}

/** Nothing anywhere in the default credential chain: no keys, no profile files, no instance metadata. */
const NO_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: undefined,
  AWS_SECRET_ACCESS_KEY: undefined,
  AWS_SESSION_TOKEN: undefined,
  AWS_PROFILE: undefined,
  AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
  AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
  AWS_SHARED_CREDENTIALS_FILE: join(REPO, '.stack', `e2e-stop-${id}`, 'no-such-credentials'),
  AWS_CONFIG_FILE: join(REPO, '.stack', `e2e-stop-${id}`, 'no-such-config'),
  AWS_EC2_METADATA_DISABLED: 'true',
};

describe('cognito-sync run when Cognito cannot be used', () => {
  test('without AWS credentials it stops with exit 1, names the cause, commits nothing and dead-letters nothing', async () => {
    const { code, stderr } = await run(writeConfig('no-credentials', env.COGNITO_ENDPOINT), NO_CREDENTIALS);

    expect(code).toBe(1);
    expect(stderr).toMatch(/no AWS credentials could be loaded/);
    expect(
      stderr
        .trim()
        .split('\n')
        .filter((line) => line.includes('credentials')),
    ).toHaveLength(1);
    expect(await dlqRecords()).toBe(0);
    expect(await committed()).toEqual(['-1']);
    expect(await listUsernames(cognito, poolId)).toEqual([]);
  }, 120_000);

  test('with credentials that lack a permission (AccessDeniedException) it stops the same way, and after the fix the next run applies every record', async () => {
    const proxy = await startFaultProxy({ target: env.COGNITO_ENDPOINT, flavor: 'aws-json' });
    try {
      proxy.setFault({
        kind: 'reject',
        code: 'AccessDeniedException',
        message:
          'User: arn:aws:iam::000000000000:user/cognito-sync is not authorized to perform: cognito-idp:AdminGetUser because no identity-based policy allows the cognito-idp:AdminGetUser action',
      });
      const config = writeConfig('access-denied', proxy.url);
      const stopped = await run(config, {});

      expect(stopped.code).toBe(1);
      expect(stopped.stderr).toMatch(
        /the AWS credentials are not allowed to call AdminGetUser on the user pool \(AccessDeniedException/,
      );
      expect(await dlqRecords()).toBe(0);
      expect(await committed()).toEqual(['-1']);

      // The permission is granted: the same group starts from the same offsets and applies both.
      proxy.setFault(null);
      const fixed = await run(config, {});
      expect(fixed.code).toBe(0);
      expect(await listUsernames(cognito, poolId)).toEqual(['legacy_10', 'legacy_20']);
      expect(await dlqRecords()).toBe(0);
      expect(await committed()).toEqual([String(inserts.length)]);
    } finally {
      await proxy.close();
    }
  }, 180_000);

  // cognito-local answers a write to a missing user with NotAuthorizedException (real Cognito and
  // moto: UserNotFoundException). Taken at its word, a role row of a user deleted meanwhile would
  // stop the pipeline; the gateway re-reads the user and makes it the race it is.
  test.each(['AdminUpdateUserAttributes', 'AdminDeleteUserAttributes'] as const)(
    "cognito-local's NotAuthorizedException for %s of a missing user is a race with a delete (re-plan), not a stop",
    async (api) => {
      const gateway = new AwsCognitoGateway({
        userPoolId: poolId,
        region: env.COGNITO_REGION,
        endpoint: env.COGNITO_ENDPOINT,
        budget: { UserCreation: 50, UserUpdate: 25, UserResourceUpdate: 25, UserRead: 120, UserList: 30 },
        maxAttempts: 1,
        requestTimeoutMs: 5_000,
      });
      try {
        const call =
          api === 'AdminUpdateUserAttributes'
            ? { api, username: `gone_${id}`, attributes: { 'custom:cdc_groups': 'admin=1' } }
            : { api, username: `gone_${id}`, names: ['phone_number'] };
        const error = await gateway.execute(call).then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
        expect(error).not.toBeInstanceOf(CognitoAccessError);
        expect(error).toMatchObject({ code: 'UserNotFoundException', action: 'replan' });
      } finally {
        gateway.client.destroy();
      }
    },
  );
});
