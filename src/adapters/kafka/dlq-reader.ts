// Reading the dead-letter topic back: the error context from the `cognito-sync.*` headers
// written by dlq-producer.ts, and the original record as it was on the source topic, for
// listing, inspecting and re-driving. Reads never move the sync's own offsets.
import type { Admin, Kafka } from 'kafkajs';
import type { RawRecord } from '../../core/types.js';
import type { Logger } from '../../ops/logger.js';
import { DLQ_HEADER, positionOf } from './dlq-producer.js';
import { readRange, throwawayGroupId, type PartitionRange } from './range-reader.js';

/** Every header this program adds; stripped when a record is re-driven, then written afresh. */
export const OWN_HEADER_PREFIX = 'cognito-sync.';
/** Set on records that failed again during a re-drive: where in the DLQ they came from. */
export const REDRIVE_HEADER = 'cognito-sync.redrive.from';

export interface DlqMeta {
  sourceTopic: string | null;
  sourcePartition: number | null;
  sourceOffset: string | null;
  stage: string | null;
  errorClass: string | null;
  message: string | null;
  failedAt: string | null;
  redrivenFrom: string | null;
}

export interface DlqEntry {
  /** Position in the DLQ topic. */
  partition: number;
  offset: string;
  timestamp: string | undefined;
  record: RawRecord;
  meta: DlqMeta;
}

export const headerText = (value: Buffer | string | undefined): string | null =>
  value === undefined ? null : Buffer.isBuffer(value) ? value.toString('utf8') : String(value);

export function parseDlqHeaders(headers: RawRecord['headers']): DlqMeta {
  const get = (name: string): string | null => headerText(headers[name]);
  const partition = get(DLQ_HEADER.partition);
  return {
    sourceTopic: get(DLQ_HEADER.topic),
    sourcePartition: partition !== null && /^\d+$/.test(partition) ? Number(partition) : null,
    sourceOffset: get(DLQ_HEADER.offset),
    stage: get(DLQ_HEADER.stage),
    errorClass: get(DLQ_HEADER.errorClass),
    message: get(DLQ_HEADER.message),
    failedAt: get(DLQ_HEADER.failedAt),
    redrivenFrom: get(REDRIVE_HEADER),
  };
}

export function toDlqEntry(record: RawRecord): DlqEntry {
  return {
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    record,
    meta: parseDlqHeaders(record.headers),
  };
}

/**
 * The record as the source topic had it: its topic, partition and offset (the decoder names
 * the table after the topic) and its own headers, without ours. Null when the DLQ record
 * carries no source headers (not written by cognito-sync).
 */
export function sourceRecordOf(entry: DlqEntry): RawRecord | null {
  const { sourceTopic, sourcePartition, sourceOffset } = entry.meta;
  if (sourceTopic === null || sourcePartition === null || sourceOffset === null || !/^\d+$/.test(sourceOffset))
    return null;
  const headers: RawRecord['headers'] = {};
  for (const [name, value] of Object.entries(entry.record.headers))
    if (!name.startsWith(OWN_HEADER_PREFIX)) headers[name] = value;
  return {
    topic: sourceTopic,
    partition: sourcePartition,
    offset: sourceOffset,
    timestamp: entry.record.timestamp,
    key: entry.record.key,
    value: entry.record.value,
    headers,
  };
}

export interface DlqPartition {
  partition: number;
  low: string;
  high: string;
}

/** Partitions of the DLQ topic with their offsets; null when the topic does not exist (nothing failed yet). */
export async function dlqPartitions(admin: Admin, topic: string): Promise<DlqPartition[] | null> {
  if (!(await admin.listTopics()).includes(topic)) return null;
  return (await admin.fetchTopicOffsets(topic))
    .map((p) => ({ partition: p.partition, low: p.low, high: p.high }))
    .sort((a, b) => a.partition - b.partition);
}

export interface ReadDlqOptions {
  kafka: Kafka;
  logger: Logger;
  topic: string;
  /** Base for the throwaway group's name (the sync's group id). */
  groupId: string;
  partitions: DlqPartition[];
  /** Start here in every partition read (clamped to what is retained); default: the oldest. */
  fromOffset?: string;
  /** At most this many records in all. */
  limit: number;
}

/** The oldest `limit` records over the partitions read, by failure time (then DLQ position). */
export async function readDlq(o: ReadDlqOptions): Promise<DlqEntry[]> {
  const ranges: PartitionRange[] = o.partitions.map((p) => {
    const from = o.fromOffset !== undefined && BigInt(o.fromOffset) > BigInt(p.low) ? o.fromOffset : p.low;
    const to = BigInt(from) + BigInt(o.limit) < BigInt(p.high) ? (BigInt(from) + BigInt(o.limit)).toString() : p.high;
    return { topic: o.topic, partition: p.partition, from, to };
  });
  const entries: DlqEntry[] = [];
  await readRange({
    kafka: o.kafka,
    logger: o.logger,
    groupId: throwawayGroupId(o.groupId, 'dlq-reader'),
    start: 'seek',
    ranges,
    idleMs: 10_000,
    timeoutMs: 120_000,
    handle: async (record) => {
      entries.push(toDlqEntry(record));
      return 'next';
    },
  });
  // Each partition was read up to `limit`, so the oldest `limit` overall are among them.
  const when = (e: DlqEntry): number =>
    e.meta.failedAt !== null ? Date.parse(e.meta.failedAt) : Number(e.timestamp ?? 0);
  return entries
    .sort((a, b) => when(a) - when(b) || a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)))
    .slice(0, o.limit);
}

/**
 * The source positions of every record in the DLQ, so that a replay does not dead-letter the
 * same record a second time. Undefined when the DLQ holds more than `limit` records (then a
 * replay writes copies again rather than hold an unbounded set).
 */
export async function readDlqSources(o: {
  kafka: Kafka;
  logger: Logger;
  topic: string;
  groupId: string;
  limit: number;
}): Promise<Set<string> | undefined> {
  const admin = o.kafka.admin();
  await admin.connect();
  let partitions: DlqPartition[] | null;
  try {
    partitions = await dlqPartitions(admin, o.topic);
  } finally {
    await admin.disconnect();
  }
  const known = new Set<string>();
  const total = (partitions ?? []).reduce((n, p) => n + Number(BigInt(p.high) - BigInt(p.low)), 0);
  if (!partitions || total === 0) return known;
  if (total > o.limit) return undefined;
  await readRange({
    kafka: o.kafka,
    logger: o.logger,
    groupId: throwawayGroupId(o.groupId, 'dlq-sources'),
    start: 'seek',
    ranges: partitions.map((p) => ({ topic: o.topic, partition: p.partition, from: p.low, to: p.high })),
    idleMs: 10_000,
    timeoutMs: 120_000,
    handle: async (record) => {
      const { sourceTopic, sourcePartition, sourceOffset } = parseDlqHeaders(record.headers);
      if (sourceTopic !== null && sourcePartition !== null && sourceOffset !== null)
        known.add(positionOf({ topic: sourceTopic, partition: sourcePartition, offset: sourceOffset }));
      return 'next';
    },
  });
  return known;
}
