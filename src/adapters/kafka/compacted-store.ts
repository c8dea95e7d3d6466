// A compacted Kafka topic used as a small durable store by key: the cohort log, `<dlq>.acks`
// and the deleted-users log. Kafka keeps the last value of each key (compaction), so reading
// the topic once, in order, gives the store's state; a write is one produce acknowledged by
// every in-sync replica. One partition, so that "the last value of a key" is well defined
// for readers that keep more than one key.
import { type Admin, type CompressionTypes, type ITopicConfig, type Kafka, type Message, Partitioners } from 'kafkajs';
import type { RawRecord } from '../../core/types.js';
import type { Logger } from '../../ops/logger.js';
import { readRange, throwawayGroupId } from './range-reader.js';

export type ConfigEntries = NonNullable<ITopicConfig['configEntries']>;

export const COMPACT: ConfigEntries = [{ name: 'cleanup.policy', value: 'compact' }];

/**
 * Creates the topic (one partition) unless it is among `existing` (the topics listed beforehand,
 * listed here when not given). Looking first matters: asking kafkajs to create an existing topic
 * logs an ERROR. Another instance creating it in between is fine (createTopics returns false).
 * Returns whether the topic had to be created.
 */
export async function createTopicIfMissing(
  admin: Admin,
  topic: string,
  configEntries: ConfigEntries = COMPACT,
  existing?: readonly string[],
): Promise<boolean> {
  if ((existing ?? (await admin.listTopics())).includes(topic)) return false;
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, configEntries }] });
  return true;
}

/** Per partition, the topic's first and next offsets; undefined when the topic does not exist. */
export async function topicOffsets(
  kafka: Kafka,
  topic: string,
): Promise<{ partition: number; low: string; high: string }[] | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return undefined;
    return await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads the topic from its first to its last record as of the call, in order, through a
 * throwaway group (named after `groupId` and `purpose`, deleted afterwards): nobody's offsets
 * move. Returns false, reading nothing, when the topic does not exist.
 */
export async function readCompactedTopic(
  kafka: Kafka,
  logger: Logger,
  topic: string,
  groupId: string,
  purpose: string,
  handle: (record: RawRecord) => void,
): Promise<boolean> {
  const offsets = await topicOffsets(kafka, topic);
  if (offsets === undefined) return false;
  await readRange({
    kafka,
    logger,
    groupId: throwawayGroupId(groupId, purpose),
    start: 'seek',
    ranges: offsets.map((p) => ({ topic, partition: p.partition, from: p.low, to: p.high })),
    idleMs: 10_000,
    timeoutMs: 60_000,
    handle: async (record) => {
      handle(record);
      return 'next';
    },
  });
  return true;
}

/** Durably writes the messages in one batch, creating the compacted topic first if needed. */
export async function writeCompacted(
  kafka: Kafka,
  topic: string,
  messages: Message[],
  compression?: CompressionTypes,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicIfMissing(admin, topic);
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  try {
    // Acks from all replicas: the caller reports the write done once this resolves.
    await producer.send({ topic, acks: -1, messages, ...(compression === undefined ? {} : { compression }) });
  } finally {
    await producer.disconnect();
  }
}
