// /metrics labels every record outcome with its Debezium op (cognito_sync_events_total{op}),
// so a dashboard can tell snapshot reads from creates, updates and deletes.
import { expect, test } from '@jest/globals';
import { exampleMapping, pipelineFor, SimulatedConsumer } from '../../bench/support/harness.js';
import { InMemoryCognito } from '../../bench/support/in-memory-cognito.js';
import { changeRecords, TopicLog, USERS_TOPIC } from '../../bench/support/legacy-records.js';
import { LegacyWorkload } from '../../bench/support/legacy-workload.js';
import { noEvents } from '../../src/runtime/instrumentation.js';

test('applied records carry their op: snapshot reads as r, later changes as u, deletes as d', async () => {
  const mapping = await exampleMapping();
  const workload = new LegacyWorkload({ users: 20, seed: 4, mix: { login: 0, unmappedOther: 0, role: 0, insert: 0 } });
  const users = new TopicLog(USERS_TOPIC, 1);
  for (const change of [...workload.snapshot(), ...workload.changes(30)])
    for (const kv of changeRecords(change, 'json')) if (kv.topic === USERS_TOPIC) users.append(kv);
  const ops = new Map<string, number>();
  const consumer = new SimulatedConsumer({
    pipeline: pipelineFor(mapping, 'json'),
    cognito: new InMemoryCognito(),
    batchSize: 10,
    events: { ...noEvents, record: (e) => void (e.outcome === 'applied' && ops.set(e.op, (ops.get(e.op) ?? 0) + 1)) },
  });
  await consumer.drain([users]);
  expect(ops.get('none')).toBeUndefined();
  expect(ops.get('r')).toBe(20);
  expect([...ops.keys()].every((op) => ['r', 'u', 'd'].includes(op))).toBe(true);
  expect((ops.get('u') ?? 0) + (ops.get('d') ?? 0)).toBeGreaterThan(0);
});
