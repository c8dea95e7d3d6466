// Fault 6: poison records mixed into a steady stream, with a graceful restart of the consumer
// in the middle. Each poison record must land in the DLQ exactly once (counted by the
// cognito-sync.source.topic/partition/offset headers), and everything else must apply.
//   on a side topic the consumer also reads (<prefix>.public.users, so it decodes as the users
//   table), produced directly: garbage bytes, truncated JSON, Avro wire format with a schema id
//   the registry does not know;
//   through Debezium, rows that break Cognito's rules: an e-mail without "@" (later fixed by an
//   UPDATE, which must then apply), a given_name of 2100 characters (later deleted);
//   a row Cognito itself refuses: the fault proxy answers its AdminCreateUser with a
//   non-retriable 400 InvalidParameterException (later deleted, which must apply).
import { describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { Scenario, USERS_TOPIC } from './support/scenario.js';
import { dlqBySource } from './support/kafka.js';
import { LONG, hold, runId, stackEnv, waitFor } from './support/stack.js';

const garbage = (): Buffer => Buffer.concat([Buffer.from([0xff, 0xfe]), randomBytes(62)]);
const truncatedJson = (): Buffer =>
  Buffer.from(
    '{"schema":{"type":"struct","fields":[{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"}',
  );
const unknownSchemaId = (): Buffer => {
  const header = Buffer.alloc(5);
  header.writeUInt8(0, 0); // Confluent wire format: magic byte 0, then the 4-byte schema id
  header.writeUInt32BE(2_000_000_000 + Math.floor(Math.random() * 1e8), 1);
  return Buffer.concat([header, randomBytes(40)]);
};

describe('faults: poison records', () => {
  test('garbage bytes, unknown schema ids and rows that break Cognito rules: each in the DLQ exactly once, the rest applies', async () => {
    const env = stackEnv();
    const poisonTopic = `faultspoison_${runId()}.public.users`;
    const s = await Scenario.start({
      name: 'poison',
      topics: [USERS_TOPIC, poisonTopic],
      format: 'auto',
      registryUrl: env.REGISTRY_CCOMPAT_URL,
    });
    const producer = s.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      const rejectedEmail = `reject.${s.prefix}@example.com`;
      await s.proxy.setFault({
        kind: 'reject',
        code: 'InvalidParameterException',
        message: 'Invalid attribute (fault proxy)',
        match: (r) => r.op === 'AdminCreateUser' && (r.body ?? '').includes(rejectedEmail),
      });
      let sync = await s.consumer('a');
      const writer = s.newWriter({ rate: 10, maxLive: 150, transactionEvery: 10 });
      const load = writer.start(30 * 60_000);
      const injected: string[] = []; // "topic:partition:offset" of every record produced as poison
      const inject = async (value: Buffer, partition: number): Promise<void> => {
        const [meta] = await producer.send({
          topic: poisonTopic,
          acks: -1,
          messages: [{ partition, key: Buffer.from(`{"id":${900_000_000 + injected.length}}`), value }],
        });
        injected.push(`${poisonTopic}:${meta!.partition}:${meta!.baseOffset}`);
      };
      const rounds = LONG ? 4 : 1;
      const badRows: number[] = [];
      await hold(3_000);
      for (let round = 0; round < rounds; round++) {
        await inject(garbage(), 0);
        await inject(unknownSchemaId(), 1);
        await inject(truncatedJson(), 2);
        badRows.push(await writer.insert(undefined, { email: `not-an-email-${s.prefix}-${round}` }, false));
        badRows.push(await writer.insert(undefined, { given_name: 'G'.repeat(2100) }, false));
      }
      await waitFor('the first poison in the DLQ', async () => s.totals.dlqLogged >= rounds * 5, 120_000, 100);
      // A graceful restart between the two halves: nothing may be dead-lettered twice.
      expect(await sync.kill('SIGTERM')).toBe(0);
      sync = await s.consumer('a');
      for (let round = 0; round < rounds; round++) {
        await inject(truncatedJson(), 0);
        await inject(garbage(), 1);
        await inject(unknownSchemaId(), 2);
      }
      const rejected = await writer.insert(undefined, { email: rejectedEmail }, false);
      const expectedDlq = rounds * 8 + 1; // per round 3 + 3 produced and 2 bad rows; 1 row Cognito refuses
      await waitFor('every poison record in the DLQ', async () => s.totals.dlqLogged >= expectedDlq, 120_000, 100);
      // Fix the bad e-mails (the UPDATE must now apply), delete the rest (deletes must apply).
      const [emailRows, nameRows] = [badRows.filter((_, i) => i % 2 === 0), badRows.filter((_, i) => i % 2 === 1)];
      for (const id of emailRows) {
        await s.db.query(`UPDATE users SET email = $2 WHERE id = $1`, [id, `fixed.${id}.${s.prefix}@example.com`]);
        writer.events++;
      }
      for (const id of [...nameRows, rejected]) {
        await s.db.query(`DELETE FROM users WHERE id = $1`, [id]);
        writer.events++;
        writer.byOp.delete++;
      }
      await hold(3_000);
      await writer.stop();
      await load;
      const f = await s.finish({
        dlqCheck: (entries) => {
          const bySource = dlqBySource(entries);
          const twice = [...bySource.entries()].filter(([, list]) => list.length > 1).map(([k]) => k);
          expect(twice).toEqual([]);
          const fromPoisonTopic = [...bySource.keys()].filter((k) => k.startsWith(`${poisonTopic}:`)).sort();
          expect(fromPoisonTopic).toEqual([...injected].sort());
          const fromUsers = entries.filter((e) => e.meta.sourceTopic === USERS_TOPIC);
          const ids = fromUsers
            .map((e) => Number((JSON.parse(e.record.key!.toString()) as { payload: { id: number } }).payload.id))
            .sort((x, y) => x - y);
          expect(ids).toEqual([...badRows, rejected].sort((x, y) => x - y));
          expect(
            Object.fromEntries(
              fromUsers.map((e) => [
                Number((JSON.parse(e.record.key!.toString()) as { payload: { id: number } }).payload.id),
                e.meta.stage,
              ]),
            ),
          ).toEqual(Object.fromEntries([...badRows.map((id) => [id, 'map']), [rejected, 'apply']]));
        },
        extraNotes: () => ({
          poisonTopic,
          injected: injected.length,
          badRows: badRows.length + 1,
          proxy: { ...s.proxy.state.counts },
        }),
      });
      expect(f.dlq).toBe(expectedDlq);
      expect(f.drift).toBe(0);
      for (const id of emailRows) expect((await s.cognitoUser(id))?.email).toBe(`fixed.${id}.${s.prefix}@example.com`);
    } finally {
      await producer.disconnect();
      await s.close();
    }
  }, 900_000);
});
