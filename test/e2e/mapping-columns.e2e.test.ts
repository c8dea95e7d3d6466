// A mapping that names a column the legacy table does not have is refused before anything is
// started: by `run` (checked against the schema of the newest records on the topic) and by
// `validate-config` when legacyDatabase.url is set (checked against the table itself).
// Before, validate-config passed it and `run` silently never wrote that attribute.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCliProcess } from './support/cli-process.js';
import { REPO, kafkaAdmin, runId, stackEnv, type StackEnv } from './support/stack.js';

const id = runId();
let env: StackEnv;
let typoMapping: string;
const goodMapping = join(REPO, 'examples/mapping.yaml');

function configFile(name: string, mapping: string, extra: Record<string, unknown> = {}): string {
  const path = join(REPO, '.stack', `e2e-columns-${name}-${id}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      kafka: {
        brokers: env.KAFKA_BROKERS.split(','),
        groupId: `e2e-columns-${name}-${id}`,
        topics: ['legacy.public.users'],
      },
      format: 'json',
      cognito: { userPoolId: env.COGNITO_USER_POOL_ID, region: env.COGNITO_REGION, endpoint: env.COGNITO_ENDPOINT },
      mapping,
      dlq: { topic: `cognito-sync.dlq.columns.${id}` },
      ops: { port: 0 },
      ...extra,
    }),
  );
  return path;
}

beforeAll(() => {
  env = stackEnv();
  const example = readFileSync(goodMapping, 'utf8');
  typoMapping = join(REPO, '.stack', `e2e-columns-typo-${id}.yaml`);
  writeFileSync(typoMapping, example.replace(/(\n {2}email:\n {4}column: )email\n/, '$1emial\n'));
  expect(readFileSync(typoMapping, 'utf8')).toContain('column: emial');
});

describe('a mapping column that does not exist', () => {
  test('run refuses to start: exit 2, the column and the mapping path named, nothing consumed', async () => {
    const config = configFile('run', typoMapping);
    const run = await runCliProcess(['run', '--config', config], 120_000);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`the mapping ${typoMapping} reads a column the source does not have`);
    expect(run.stderr).toMatch(
      /attributes\.email\.column: column "emial" does not exist in users \(checked against the schema of legacy\.public\.users:\d+@\d+\)/,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
    // Refused before joining its group: the group never committed anything.
    expect(run.stdout).not.toContain('joined consumer group');
  });

  test('replay --run refuses it before moving any offset', async () => {
    const config = configFile('replay', typoMapping);
    const replay = await runCliProcess(['replay', '--config', config, '--from-earliest', '--run', '--yes'], 120_000);
    expect(replay.code).toBe(2);
    expect(replay.stderr).toContain('attributes.email.column: column "emial" does not exist in users');
    const admin = await kafkaAdmin(env, 'e2e-columns');
    try {
      const [offsets] = await admin.fetchOffsets({
        groupId: `e2e-columns-replay-${id}`,
        topics: ['legacy.public.users'],
      });
      // Never committed: kafkajs reports -1 for every partition.
      expect(offsets!.partitions.map((p) => p.offset)).toEqual(offsets!.partitions.map(() => '-1'));
    } finally {
      await admin.disconnect();
    }
  });

  test('validate-config refuses it when the legacy database is configured, and passes the example mapping', async () => {
    const bad = await runCliProcess(
      ['validate-config', '--config', configFile('validate-bad', typoMapping, { legacyDatabase: { url: env.PG_URL } })],
      60_000,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      'attributes.email.column: column "emial" does not exist in users (checked against table users in the legacy database)',
    );
    expect(bad.stdout).toBe('');

    const good = await runCliProcess(
      [
        'validate-config',
        '--config',
        configFile('validate-good', goodMapping, { legacyDatabase: { url: env.PG_URL } }),
      ],
      60_000,
    );
    expect(good.code).toBe(0);
    expect(good.stdout).toContain(
      'ok: every column the mapping reads exists (table users in the legacy database; table user_roles in the legacy database)',
    );
    // The database URL carries a password: never echoed.
    expect(good.stdout + good.stderr).not.toContain(env.PG_URL);
  });
});
