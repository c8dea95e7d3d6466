// A DLQ re-drive decodes each record to judge it (redrive-verdict.ts) before handing it to the
// sync's BatchProcessor: the processor takes that result (BatchControl.decoded) rather than
// decoding, and with an Avro registry fetching, the record a second time.
import { expect, test } from '@jest/globals';
import { exampleMapping, pipelineFor, SimulatedConsumer } from '../../bench/support/harness.js';
import { InMemoryCognito } from '../../bench/support/in-memory-cognito.js';
import { changeRecords, TopicLog, USERS_TOPIC } from '../../bench/support/legacy-records.js';
import { LegacyWorkload } from '../../bench/support/legacy-workload.js';
import type { RawRecord } from '../../src/core/types.js';
import type { BatchControl } from '../../src/runtime/batch-processor.js';

async function oneUsersRecord(): Promise<{
  record: RawRecord;
  consumer: SimulatedConsumer;
  cognito: InMemoryCognito;
  decodes: RawRecord[];
  decode: (r: RawRecord) => ReturnType<ReturnType<typeof pipelineFor>['decoder']['decode']>;
}> {
  const mapping = await exampleMapping();
  const pipeline = pipelineFor(mapping, 'avro');
  const decodes: RawRecord[] = [];
  const counted = { decode: (r: RawRecord) => (decodes.push(r), pipeline.decoder.decode(r)) };
  const cognito = new InMemoryCognito();
  const consumer = new SimulatedConsumer({ pipeline: { ...pipeline, decoder: counted }, cognito });
  const workload = new LegacyWorkload({ users: 1, seed: 7 });
  const users = new TopicLog(USERS_TOPIC, 1);
  const [change] = workload.snapshot();
  const [kv] = changeRecords(change!, 'avro').filter((r) => r.topic === USERS_TOPIC);
  return { record: users.append(kv!), consumer, cognito, decodes, decode: (r) => pipeline.decoder.decode(r) };
}

const control = (extra: Partial<BatchControl> = {}): BatchControl => ({
  isActive: () => true,
  heartbeat: async () => undefined,
  ...extra,
});

test('a record the caller decoded is applied without being decoded again', async () => {
  const { record, consumer, cognito, decodes, decode } = await oneUsersRecord();
  const decoded = await decode(record);
  expect(decoded.ok).toBe(true);
  const outcome = await consumer.processor.process([record], control({ decoded: new Map([[record, decoded]]) }));
  expect(decodes).toHaveLength(0);
  expect(outcome.commitOffset).toBe('1');
  expect(cognito.users.size).toBe(1);
});

test('without it the processor decodes the record itself (once), to the same user', async () => {
  const { record, consumer, cognito, decodes } = await oneUsersRecord();
  const outcome = await consumer.processor.process([record], control());
  expect(decodes).toEqual([record]);
  expect(outcome.commitOffset).toBe('1');
  expect(cognito.users.size).toBe(1);
});
