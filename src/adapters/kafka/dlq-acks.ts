// Acknowledged DLQ records: an operator's "looked at, nothing more to do" for every record of a
// DLQ partition below an offset (`dlq ack`), which `cutover-check` counts as settled. Kept in a
// compacted topic, `<dlq topic>.acks`, one record per DLQ partition (key: the partition, value:
// the first offset NOT acknowledged), rather than in a consumer group's committed offsets,
// which Kafka forgets once the group has been empty for offsets.retention.minutes (7 days by
// default): an acknowledgement must outlive a quiet week of a migration.
import type { Kafka } from 'kafkajs';
import type { Logger } from '../../ops/logger.js';
import { readCompactedTopic, writeCompacted } from './compacted-store.js';

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
  const acks = new Map<number, bigint>();
  await readCompactedTopic(kafka, logger, dlqAcksTopic(dlqTopic), groupId, 'dlq-acks', (record) => {
    if (record.value === null) return;
    const ack = JSON.parse(record.value.toString('utf8')) as DlqAck;
    // The highest acknowledgement wins: an ack never un-acknowledges what an earlier one did.
    const below = BigInt(ack.below);
    if (below > (acks.get(ack.partition) ?? -1n)) acks.set(ack.partition, below);
  });
  return acks;
}

/** Durably records the acknowledgements (resolves once Kafka has them). */
export async function writeDlqAcks(kafka: Kafka, dlqTopic: string, acks: readonly DlqAck[]): Promise<void> {
  // One batch; a retry that writes it twice is harmless (the highest wins).
  await writeCompacted(
    kafka,
    dlqAcksTopic(dlqTopic),
    acks.map((a) => ({ key: String(a.partition), value: JSON.stringify(a) })),
  );
}
