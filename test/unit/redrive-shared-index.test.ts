// A DLQ re-drive judges each record by its user's state now (redrive-verdict.ts), then hands it
// to the sync's processor. In a pool whose users sign in by email (username = email, the sync's
// key in custom:legacy_id) users are found through a username index; the verdict reads through
// the processor's own gateway (createBatchProcessor's `gateway`), so a user the verdict found is
// not looked for again, at ListUsers' quota, when the record is applied.
import { join } from 'node:path';
import { expect, test } from '@jest/globals';
import { changeRecords, TopicLog, USERS_TOPIC } from '../../bench/support/legacy-records.js';
import { LegacyWorkload } from '../../bench/support/legacy-workload.js';
import { MemoryDeletedUsers } from '../../src/adapters/kafka/deleted-users-log.js';
import { compileConfig } from '../../src/config/load-config.js';
import { noEvents } from '../../src/runtime/instrumentation.js';
import { createBatchProcessor, poolShape } from '../../src/runtime/pipeline-factory.js';
import { EmailPool } from './support/email-pool.js';

test('a user the verdict looked up is applied without another ListUsers', async () => {
  const pool = new EmailPool();
  for (let id = 1; id <= 5; id++) {
    const sub = `00000000-0000-4000-8000-00000000000${id}`;
    const email = `user${id}@example.com`;
    pool.users.set(sub, {
      attributes: { email, sub, 'custom:legacy_id': String(id) },
      enabled: true,
      groups: new Set(),
    });
  }
  const config = compileConfig({
    kafka: { brokers: ['127.0.0.1:9'], groupId: 'unit.redrive', topics: [USERS_TOPIC] },
    format: 'json',
    cognito: { userPoolId: 'eu-west-1_unit', region: 'eu-west-1' },
    mapping: join(process.cwd(), 'examples/mapping-email-username.yaml'),
    dlq: { topic: 'unit.redrive.dlq' },
  });
  const dead: string[] = [];
  const built = await createBatchProcessor({
    config,
    gateway: pool,
    directory: pool,
    dlq: { send: async (_record, error) => void dead.push(error.message) },
    deletedUsers: new MemoryDeletedUsers(),
    events: noEvents,
    tolerance: 'all',
    missingUserTimeoutMs: 0,
  });
  const workload = new LegacyWorkload({ users: 1, seed: 3 });
  const [change] = workload.snapshot();
  const [kv] = changeRecords(change!, 'json').filter((r) => r.topic === USERS_TOPIC);
  const record = new TopicLog(USERS_TOPIC, 1).append(kv!);

  // The verdict's read: the index does not know user 1 yet, so the pool is listed once.
  expect((await built.gateway.getUser('1', false))?.attributes['custom:legacy_id']).toBe('1');
  expect(pool.calls('ListUsers')).toBeGreaterThan(0);

  pool.log.length = 0;
  const outcome = await built.processor.process([record], { isActive: () => true, heartbeat: async () => undefined });
  expect(dead).toEqual([]);
  expect(outcome.commitOffset).toBe('1');
  expect(pool.calls('ListUsers')).toBe(0);
  expect(pool.calls('AdminUpdateUserAttributes')).toBe(1);

  // What a second index of its own (the verdict's before) spends on the same user.
  pool.log.length = 0;
  const own = poolShape(built.pipeline.mapping, pool, pool, { capacity: config.processing.stateCapacity }).gateway;
  await own.getUser('1', false);
  expect(pool.calls('ListUsers')).toBeGreaterThan(0);
});
