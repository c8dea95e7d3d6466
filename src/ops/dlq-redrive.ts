// Re-drive dead-lettered records through the CURRENT pipeline (decode -> map -> plan ->
// apply, the same BatchProcessor the sync uses), typically after fixing the mapping or the
// data. The DLQ reader has its own group, `<groupId>.dlq-redrive`, and commits after each
// record, so a record is re-driven once; one that fails again goes back to the DLQ with
// fresh error headers (plus where it was re-driven from) and the run goes on.
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { CompiledConfig } from '../config/load-config.js';
import type { RawRecord, SkipReason } from '../core/types.js';
import { ConfigError, MissingUserError, SyncError, errorMessage } from '../errors.js';
import { createKafka } from '../adapters/kafka/kafka-client.js';
import { KafkaDeadLetterSink, positionOf, type DeadLetterSink } from '../adapters/kafka/dlq-producer.js';
import {
  KafkaDeletedUsersLog,
  deletedUsersTopic,
  type DeletedUsersStore,
} from '../adapters/kafka/deleted-users-log.js';
import {
  REDRIVE_HEADER,
  dlqPartitions,
  sourceRecordOf,
  toDlqEntry,
  type DlqPartition,
} from '../adapters/kafka/dlq-reader.js';
import { readRange, type PartitionRange } from '../adapters/kafka/range-reader.js';
import { groupActivity } from '../adapters/kafka/offset-reset.js';
import type { CognitoCallEvent, CognitoGateway } from '../adapters/cognito/cognito-gateway.js';
import type { BatchOutcome, BatchProcessor, Decoded } from '../runtime/batch-processor.js';
import { combineEvents, type SyncEvents } from '../runtime/instrumentation.js';
import { createBatchProcessor, createGateway, type Pipeline } from '../runtime/pipeline-factory.js';
import { judgeRecord, subjectOf, userNow, type RedriveVerdict } from './redrive-verdict.js';
import type { Logger } from './logger.js';

/** `superseded`: Cognito already holds the user at this record's version or later (redrive-verdict.ts). */
export type RedriveOutcome = 'succeeded' | 'superseded' | 'skipped' | 'failed';

export interface RedriveItem {
  dlqPartition: number;
  dlqOffset: string;
  /** "topic:partition@offset" of the original record; null when the DLQ record has no source headers. */
  source: string | null;
  outcome: RedriveOutcome;
  reason?: string;
  /** Sent back because its user was not in Cognito (a second look may apply it). */
  userMissing?: boolean;
}

export interface RedriveSummary {
  topic: string;
  groupId: string;
  records: number;
  succeeded: number;
  /** Resolved without a write: the user's current state is at or past the record (a fix made in the legacy row). */
  superseded: number;
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

/** What a re-drive needs besides the DLQ reader: the sync's processor and the current state's sources. */
interface RedriveTools {
  processor: BatchProcessor;
  pipeline: Pipeline;
  gateway: CognitoGateway;
  deletedUsers: DeletedUsersStore;
}

/**
 * The sync's BatchProcessor without a consumer, except that tolerance is always 'all': a
 * record failing again goes back to the DLQ rather than stopping the re-drive.
 */
async function buildRedriveTools(
  config: CompiledConfig,
  kafka: Kafka,
  producer: Producer,
  dlq: DeadLetterSink,
  events: SyncEvents,
  onCognitoCall?: (e: CognitoCallEvent) => void,
): Promise<RedriveTools> {
  // Without the deleted-users log a re-driven old create would bring back a user deleted since.
  const deletedUsers = await KafkaDeletedUsersLog.open(
    kafka,
    producer,
    config.state.deletedUsersTopic ?? deletedUsersTopic(config.cognito.userPoolId),
    { usersTopics: config.kafka.topics, horizonMs: config.state.deletedUsersHorizonMs },
  );
  const gateway = createGateway(config, onCognitoCall);
  // The verdict reads users through the processor's gateway: by the mapping's username, as the
  // pipeline does (pools that sign in by email or phone translate it to Cognito's own username),
  // with the same username index, so a user the verdict looked up is not listed again to apply.
  const {
    processor,
    pipeline,
    gateway: shaped,
  } = await createBatchProcessor({
    config,
    gateway,
    directory: gateway,
    dlq,
    deletedUsers,
    events,
    tolerance: 'all',
    // The verdict sends a role row whose user is missing back at once; a race (the user
    // deleted between the verdict and the apply) must not hold the whole re-drive either.
    missingUserTimeoutMs: 0,
  });
  return { processor, pipeline, gateway: shaped, deletedUsers };
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
    superseded: 0,
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
  let chosen: DlqPartition[];
  try {
    const all = await dlqPartitions(admin, topic);
    if (all === null) {
      summary.note = `DLQ topic ${topic} does not exist: nothing was ever dead-lettered`;
      return summary;
    }
    chosen = selectPartitions(all, o.partition, o.fromOffset !== undefined);
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
    const tools = await buildRedriveTools(
      config,
      kafka,
      producer,
      sink,
      combineEvents(collect, o.events ?? {}),
      o.onCognitoCall,
    );
    const versionAttribute = tools.pipeline.mapping.versionAttribute;

    /** One record: judged against its user's current state, then (when still due) re-driven. */
    const redriveOne = async (raw: RawRecord, heartbeat: () => Promise<void>): Promise<RedriveItem | 'abort'> => {
      const entry = toDlqEntry(raw);
      position = positionOf({ topic, partition: entry.partition, offset: entry.offset });
      const item: RedriveItem = {
        dlqPartition: entry.partition,
        dlqOffset: entry.offset,
        source: null,
        outcome: 'skipped',
      };
      const source = sourceRecordOf(entry);
      if (source === null) {
        item.reason = 'no cognito-sync source headers: not a record this program dead-lettered';
        return item;
      }
      item.source = `${source.topic}:${source.partition}@${source.offset}`;
      // Decoded once: for the verdict, then handed to the processor.
      let decoded: Decoded | undefined;
      try {
        decoded = await tools.pipeline.decoder.decode(source);
        const verdict = await verdictFor(decoded, tools, versionAttribute);
        if (verdict?.kind === 'superseded') {
          item.outcome = 'superseded';
          item.reason = verdict.reason;
          return item;
        }
        if (verdict?.kind === 'user-missing') {
          await sink.send(source, new MissingUserError(verdict.reason, { stage: 'apply' }));
          item.outcome = 'failed';
          item.reason = verdict.reason;
          item.userMissing = true;
          return item;
        }
      } catch (error) {
        if (error instanceof SyncError && error.retriable) {
          summary.stoppedEarly = `record ${position} (source ${item.source}): ${errorMessage(error)}; it stays in place for the next re-drive`;
          return 'abort';
        }
        if (!(error instanceof SyncError)) throw error;
        // Not judged (e.g. the bytes do not decode any more): the pipeline says what it makes of it.
      }
      current = { applied: false, dlq: false, skipReasons: [] };
      const deadline = Date.now() + (o.retryForMs ?? 60_000);
      let outcome: BatchOutcome;
      try {
        outcome = await tools.processor.process([source], {
          isActive: () => Date.now() < deadline,
          heartbeat,
          ...(decoded === undefined ? {} : { decoded: new Map([[source, decoded]]) }),
        });
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
      return item;
    };

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
        const item = await redriveOne(raw, heartbeat);
        if (item === 'abort') return 'abort';
        tally(summary, item);
        return 'next';
      },
    });
    if (result.end === 'idle' && summary.stoppedEarly === null)
      summary.stoppedEarly =
        'no record arrived for a while before the end of the DLQ was reached; run again to continue';

    // Role rows sent back because their user was missing, when this run created users: one
    // more look at exactly those copies. Not committed, so the other records this run sent
    // back stay due for the next re-drive (which finds these ones already applied).
    const waitingFor = new Map(
      summary.items
        .filter((i) => i.userMissing)
        .map((i) => [positionOf({ topic, partition: i.dlqPartition, offset: i.dlqOffset }), i]),
    );
    if (waitingFor.size > 0 && summary.succeeded > 0 && summary.stoppedEarly === null) {
      const tail = await partitionsAfter(kafka, topic, ranges);
      await readRange({
        kafka,
        logger,
        groupId: `${groupId}.second-look`,
        start: 'seek',
        ranges: tail,
        idleMs: 15_000,
        timeoutMs: Number.MAX_SAFE_INTEGER,
        handle: async (raw, heartbeat) => {
          const from = toDlqEntry(raw).meta.redrivenFrom;
          const first = from === null ? undefined : waitingFor.get(from);
          if (first === undefined) return 'next';
          const again = await redriveOne(raw, heartbeat);
          if (again === 'abort') return 'abort';
          if (again.outcome === 'failed') return 'next';
          summary.failed--;
          summary[again.outcome]++;
          Object.assign(first, {
            outcome: again.outcome,
            reason: `${again.reason ?? 'applied'} (second look, after its user was created)`,
          });
          return 'next';
        },
      });
    }
  } finally {
    await producer.disconnect();
  }
  return summary;
}

/** The DLQ records this run appended: from where the first pass ended to the end now. */
async function partitionsAfter(kafka: Kafka, topic: string, first: PartitionRange[]): Promise<PartitionRange[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const now = (await dlqPartitions(admin, topic)) ?? [];
    return first.map((r) => ({
      topic,
      partition: r.partition,
      from: r.to,
      to: now.find((p) => p.partition === r.partition)?.high ?? r.to,
    }));
  } finally {
    await admin.disconnect();
  }
}

/** The verdict of redrive-verdict.ts for a decoded source record; undefined when it has no user to judge by. */
async function verdictFor(
  decoded: Decoded,
  tools: RedriveTools,
  versionAttribute: string,
): Promise<RedriveVerdict | undefined> {
  if (!decoded.ok) {
    if (decoded.error.retriable) throw decoded.error;
    return undefined;
  }
  if (decoded.value.kind !== 'event') return undefined;
  const subject = subjectOf(tools.pipeline, decoded.value.event);
  if (subject === undefined) return undefined;
  return judgeRecord(subject, await userNow(subject, tools.gateway, tools.deletedUsers, versionAttribute));
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
