// Re-drive dead-lettered records through the CURRENT pipeline (decode -> map -> plan ->
// apply, the same BatchProcessor the sync uses), typically after fixing the mapping or the
// data. The DLQ reader has its own group, `<groupId>.dlq-redrive`, and commits after each
// record, so a record is re-driven once; one that fails again goes back to the DLQ with
// fresh error headers (plus where it was re-driven from) and the run goes on.
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { CompiledConfig } from '../config/load-config.js';
import type { SkipReason } from '../core/types.js';
import { ConfigError, SyncError, errorMessage } from '../errors.js';
import { createKafka } from '../adapters/kafka/kafka-client.js';
import { KafkaDeadLetterSink, type DeadLetterSink } from '../adapters/kafka/dlq-producer.js';
import { KafkaDeletedUsersLog, deletedUsersTopic } from '../adapters/kafka/deleted-users-log.js';
import {
  REDRIVE_HEADER,
  dlqPartitions,
  sourceRecordOf,
  toDlqEntry,
  type DlqPartition,
} from '../adapters/kafka/dlq-reader.js';
import { readRange, type PartitionRange } from '../adapters/kafka/range-reader.js';
import { groupActivity } from '../adapters/kafka/offset-reset.js';
import type { CognitoCallEvent } from '../adapters/cognito/cognito-gateway.js';
import type { BatchOutcome, BatchProcessor } from '../runtime/batch-processor.js';
import { combineEvents, type SyncEvents } from '../runtime/instrumentation.js';
import { createBatchProcessor, createGateway } from '../runtime/pipeline-factory.js';
import type { Logger } from './logger.js';

export type RedriveOutcome = 'succeeded' | 'skipped' | 'failed';

export interface RedriveItem {
  dlqPartition: number;
  dlqOffset: string;
  /** "topic:partition@offset" of the original record; null when the DLQ record has no source headers. */
  source: string | null;
  outcome: RedriveOutcome;
  reason?: string;
}

export interface RedriveSummary {
  topic: string;
  groupId: string;
  records: number;
  succeeded: number;
  skipped: number;
  failed: number;
  /** Why the run ended before the end of the DLQ, when it did: run again once fixed. */
  stoppedEarly: string | null;
  /** Something worth saying that is not a problem (e.g. there is no DLQ topic yet). */
  note: string | null;
  items: RedriveItem[];
}

export interface RedriveOptions {
  config: CompiledConfig;
  logger: Logger;
  /** Only this DLQ partition (required with fromOffset when the topic has several). */
  partition?: number;
  /** Re-drive from this DLQ offset instead of where the last re-drive stopped. */
  fromOffset?: string;
  /** How long one record may keep failing with retriable errors before the run stops (uncommitted). */
  retryForMs?: number;
  events?: Partial<SyncEvents>;
  onCognitoCall?: (e: CognitoCallEvent) => void;
}

export const redriveGroupId = (groupId: string): string => `${groupId}.dlq-redrive`;

/**
 * The sync's BatchProcessor without a consumer, except that tolerance is always 'all': a
 * record failing again goes back to the DLQ rather than stopping the re-drive.
 */
async function buildRedriveProcessor(
  config: CompiledConfig,
  kafka: Kafka,
  producer: Producer,
  dlq: DeadLetterSink,
  events: SyncEvents,
  onCognitoCall?: (e: CognitoCallEvent) => void,
): Promise<BatchProcessor> {
  // Without the deleted-users log a re-driven old create would bring back a user deleted since.
  const deletedUsers = await KafkaDeletedUsersLog.open(
    kafka,
    producer,
    config.state.deletedUsersTopic ?? deletedUsersTopic(config.cognito.userPoolId),
  );
  const { processor } = await createBatchProcessor({
    config,
    gateway: createGateway(config, onCognitoCall),
    dlq,
    deletedUsers,
    events,
    tolerance: 'all',
  });
  return processor;
}

/** Records seen by the processor for the record being re-driven: the worst outcome wins. */
interface Collected {
  applied: boolean;
  dlq: boolean;
  skipReasons: (SkipReason | string)[];
}

export async function redriveDlq(o: RedriveOptions): Promise<RedriveSummary> {
  const { config, logger } = o;
  const topic = config.dlq.topic;
  const groupId = redriveGroupId(config.kafka.groupId);
  const summary: RedriveSummary = {
    topic,
    groupId,
    records: 0,
    succeeded: 0,
    skipped: 0,
    failed: 0,
    stoppedEarly: null,
    note: null,
    items: [],
  };
  const kafka = createKafka(config.kafka, logger);
  const admin = kafka.admin();
  await admin.connect();
  let ranges: PartitionRange[];
  try {
    const all = await dlqPartitions(admin, topic);
    if (all === null) {
      summary.note = `DLQ topic ${topic} does not exist: nothing was ever dead-lettered`;
      return summary;
    }
    const chosen = selectPartitions(all, o.partition, o.fromOffset !== undefined);
    const activity = await groupActivity(admin, groupId);
    if (activity.members > 0)
      throw new SyncError(
        `another re-drive is running (group ${groupId} has ${activity.members} member(s)); let it finish first`,
        { stage: 'dlq' },
      );
    if (o.fromOffset !== undefined) {
      await admin.setOffsets({
        groupId,
        topic,
        partitions: chosen.map((p) => ({ partition: p.partition, offset: o.fromOffset! })),
      });
    }
    const committed = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions ?? [];
    ranges = chosen.map((p) => {
      const c = committed.find((x) => x.partition === p.partition)?.offset;
      const from = c !== undefined && c !== '-1' && BigInt(c) > BigInt(p.low) ? c : p.low;
      return { topic, partition: p.partition, from, to: p.high };
    });
  } finally {
    await admin.disconnect();
  }

  let current: Collected = { applied: false, dlq: false, skipReasons: [] };
  let position = '';
  const collect: Partial<SyncEvents> = {
    record: (e) => {
      if (e.outcome === 'applied') current.applied = true;
      else if (e.outcome === 'dlq') current.dlq = true;
      else current.skipReasons.push(e.reason ?? 'skipped');
    },
  };
  // As the sync's producer, but with bounded retries: an operator command should fail (the
  // record stays uncommitted) rather than hang while Kafka is away.
  const producer: Producer = kafka.producer({
    allowAutoTopicCreation: true,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    const inner = new KafkaDeadLetterSink(producer, topic);
    const sink: DeadLetterSink = {
      send: (record, error) =>
        inner.send({ ...record, headers: { ...record.headers, [REDRIVE_HEADER]: position } }, error),
    };
    const processor = await buildRedriveProcessor(
      config,
      kafka,
      producer,
      sink,
      combineEvents(collect, o.events ?? {}),
      o.onCognitoCall,
    );
    const result = await readRange({
      kafka,
      logger,
      groupId,
      start: 'committed',
      commit: true,
      ranges,
      idleMs: 15_000,
      timeoutMs: Number.MAX_SAFE_INTEGER,
      handle: async (raw, heartbeat) => {
        const entry = toDlqEntry(raw);
        position = `${topic}:${entry.partition}:${entry.offset}`;
        const item: RedriveItem = {
          dlqPartition: entry.partition,
          dlqOffset: entry.offset,
          source: null,
          outcome: 'skipped',
        };
        const source = sourceRecordOf(entry);
        if (source === null) {
          item.reason = 'no cognito-sync source headers: not a record this program dead-lettered';
          tally(summary, item);
          return 'next';
        }
        item.source = `${source.topic}:${source.partition}@${source.offset}`;
        current = { applied: false, dlq: false, skipReasons: [] };
        const deadline = Date.now() + (o.retryForMs ?? 60_000);
        let outcome: BatchOutcome;
        try {
          outcome = await processor.process([source], { isActive: () => Date.now() < deadline, heartbeat });
        } catch (error) {
          // e.g. the DLQ itself is unwritable: stop with this record uncommitted.
          summary.stoppedEarly = `record ${position} (source ${item.source}): ${errorMessage(error)}`;
          return 'abort';
        }
        if (outcome.incomplete) {
          // Retriable trouble (registry or Cognito unavailable): leave the record uncommitted.
          summary.stoppedEarly = `record ${position} (source ${item.source}) kept failing with retriable errors; it stays in place for the next re-drive`;
          return 'abort';
        }
        if (current.dlq) {
          item.outcome = 'failed';
          item.reason = 'failed again: back in the DLQ with fresh headers';
        } else if (current.applied) item.outcome = 'succeeded';
        else item.reason = current.skipReasons.join(', ') || 'nothing to do';
        tally(summary, item);
        return 'next';
      },
    });
    if (result.end === 'idle' && summary.stoppedEarly === null)
      summary.stoppedEarly =
        'no record arrived for a while before the end of the DLQ was reached; run again to continue';
  } finally {
    await producer.disconnect();
  }
  return summary;
}

function tally(summary: RedriveSummary, item: RedriveItem): void {
  summary.items.push(item);
  summary.records++;
  summary[item.outcome]++;
}

/** All partitions, or the one asked for; a start offset only makes sense for one partition. */
export function selectPartitions(
  all: DlqPartition[],
  partition: number | undefined,
  withOffset: boolean,
): DlqPartition[] {
  if (partition !== undefined) {
    const p = all.find((x) => x.partition === partition);
    if (!p) {
      const message = `the DLQ topic has no partition ${partition} (it has ${all.map((x) => x.partition).join(', ')})`;
      throw new ConfigError(message, [{ path: '--partition', message }]);
    }
    return [p];
  }
  if (withOffset && all.length > 1) {
    const message = `the DLQ topic has ${all.length} partitions: an offset needs --partition (dlq list shows PARTITION)`;
    throw new ConfigError(message, [{ path: '--partition', message }]);
  }
  return all;
}
