// Acknowledged DLQ records: an operator's "looked at, nothing more to do" for every record of a
// DLQ partition below an offset (`dlq ack`), which `cutover-check` counts as settled. Kept in a
// compacted topic, `<dlq topic>.acks`, one record per DLQ partition (key: the partition, value:
// the first offset NOT acknowledged), rather than in a consumer group's committed offsets,
// which Kafka forgets once the group has been empty for offsets.retention.minutes (7 days by
// default): an acknowledgement must outlive a quiet week of a migration.
import { Partitioners, type Kafka } from 'kafkajs';
import type { Logger } from '../../ops/logger.js';
import { readRange, throwawayGroupId } from './range-reader.js';

export const dlqAcksTopic = (dlqTopic: string): string => `${dlqTopic}.acks`;

export interface DlqAck {
  partition: number;
  /** Every record below this offset is acknowledged. */
  below: string;
  at: string;
}

/** DLQ partition -> offset below which every record is acknowledged. Empty when nothing was ever acked. */
export async function readDlqAcks(
  kafka: Kafka,
  logger: Logger,
  dlqTopic: string,
  groupId: string,
): Promise<Map<number, bigint>> {
  const topic = dlqAcksTopic(dlqTopic);
  const admin = kafka.admin();
  await admin.connect();
  let offsets: { partition: number; low: string; high: string }[];
  try {
    if (!(await admin.listTopics()).includes(topic)) return new Map();
    offsets = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const acks = new Map<number, bigint>();
  await readRange({
    kafka,
    logger,
    groupId: throwawayGroupId(groupId, 'dlq-acks'),
    start: 'seek',
    ranges: offsets.map((p) => ({ topic, partition: p.partition, from: p.low, to: p.high })),
    idleMs: 10_000,
    timeoutMs: 60_000,
    handle: async (record) => {
      if (record.value === null) return 'next';
      const ack = JSON.parse(record.value.toString('utf8')) as DlqAck;
      // The highest acknowledgement wins: an ack never un-acknowledges what an earlier one did.
      const below = BigInt(ack.below);
      if (below > (acks.get(ack.partition) ?? -1n)) acks.set(ack.partition, below);
      return 'next';
    },
  });
  return acks;
}

/** Durably records the acknowledgements (resolves once Kafka has them). */
export async function writeDlqAcks(kafka: Kafka, dlqTopic: string, acks: readonly DlqAck[]): Promise<void> {
  const topic = dlqAcksTopic(dlqTopic);
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic))
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
      });
  } finally {
    await admin.disconnect();
  }
  // One batch, acks from all replicas; a retry that writes it twice is harmless (the highest wins).
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: acks.map((a) => ({ key: String(a.partition), value: JSON.stringify(a) })),
    });
  } finally {
    await producer.disconnect();
  }
}
