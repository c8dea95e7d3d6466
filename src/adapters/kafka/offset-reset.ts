// Moving a consumer group's committed offsets for a replay: parse what the operator asked
// for, plan the new offset of every partition (pure), and apply the plan with admin.setOffsets.
// Kafka only accepts offset commits from outside the group while the group has no members,
// so applying checks that first and says why.
import type { Admin, Kafka } from 'kafkajs';
import { ConfigError, SyncError } from '../../errors.js';
import { fetchLag, type PartitionLag } from './lag.js';

export interface OffsetSpec {
  topic: string;
  partition: number;
  offset: string;
}

export type ResetTarget =
  | { kind: 'earliest' }
  | { kind: 'timestamp'; timestampMs: number; iso: string }
  | { kind: 'offsets'; offsets: OffsetSpec[] };

const usage = (option: string, message: string): ConfigError =>
  new ConfigError(`${option}: ${message}`, [{ path: option, message }]);

/**
 * "legacy.public.users:0=1200,legacy.public.users:1=0". Topic names cannot contain ':', so
 * the last ':' separates topic and partition.
 */
export function parseOffsetSpec(spec: string): OffsetSpec[] {
  const out: OffsetSpec[] = [];
  const seen = new Set<string>();
  const entries = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (entries.length === 0) throw usage('--to-offsets', 'expected topic:partition=offset[,topic:partition=offset...]');
  for (const entry of entries) {
    const m = /^([A-Za-z0-9._-]+):(\d+)=(\d+)$/.exec(entry);
    if (!m) throw usage('--to-offsets', `"${entry}" is not topic:partition=offset (e.g. legacy.public.users:0=1200)`);
    const key = `${m[1]}:${m[2]}`;
    if (seen.has(key)) throw usage('--to-offsets', `${key} is given twice`);
    seen.add(key);
    out.push({ topic: m[1]!, partition: Number(m[2]), offset: BigInt(m[3]!).toString() });
  }
  return out;
}

/** An ISO-8601 instant. A date-time without a zone is refused: whose midnight would it be? */
export function parseTimestamp(text: string): { timestampMs: number; iso: string } {
  const trimmed = text.trim();
  const hasTime = trimmed.includes('T');
  if (hasTime && !/(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed)) {
    throw usage('--from-timestamp', `"${text}" has no time zone: add Z (UTC) or an offset like +02:00`);
  }
  const ms = Date.parse(trimmed);
  if (!/^\d{4}-\d{2}-\d{2}/.test(trimmed) || Number.isNaN(ms))
    throw usage('--from-timestamp', `"${text}" is not an ISO-8601 date or date-time`);
  return { timestampMs: ms, iso: new Date(ms).toISOString() };
}

export interface ResetRow {
  topic: string;
  partition: number;
  /** Committed offset now; null when the group never committed on this partition. */
  current: string | null;
  /** The offset the group will read next after the reset. */
  target: string;
  low: string;
  high: string;
  /** Messages the group will read from the new offset to today's end. */
  toRead: number;
  /** Why the target differs from what was asked (clamped to retention, no record after the time). */
  note?: string;
}

/**
 * The new offset per partition. `byTimestamp` holds, per "topic:partition", the first offset
 * at or after the timestamp (Kafka answers the end offset when there is none).
 * For explicit offsets only the partitions named are planned; the others keep their offsets.
 */
export function planReset(
  current: readonly PartitionLag[],
  target: ResetTarget,
  byTimestamp: ReadonlyMap<string, string> = new Map(),
): ResetRow[] {
  const byKey = new Map(current.map((p) => [`${p.topic}:${p.partition}`, p]));
  const rows: ResetRow[] = [];
  const row = (p: PartitionLag, wanted: bigint, note?: string): ResetRow => {
    const low = BigInt(p.start);
    const high = BigInt(p.end);
    let offset = wanted;
    if (offset < low) {
      offset = low;
      note = `asked ${wanted}, but the log starts at ${low} (older records are gone: retention)`;
    } else if (offset > high) {
      offset = high;
      note = `asked ${wanted}, but the log ends at ${high}`;
    }
    return {
      topic: p.topic,
      partition: p.partition,
      current: p.committed,
      target: offset.toString(),
      low: p.start,
      high: p.end,
      toRead: Number(high - offset),
      ...(note ? { note } : {}),
    };
  };

  if (target.kind === 'offsets') {
    for (const spec of target.offsets) {
      const p = byKey.get(`${spec.topic}:${spec.partition}`);
      if (!p) {
        const known = [...byKey.keys()].join(', ');
        throw usage(
          '--to-offsets',
          `${spec.topic}:${spec.partition} is not a partition of the sync's topics (known: ${known})`,
        );
      }
      rows.push(row(p, BigInt(spec.offset)));
    }
  } else {
    for (const p of current) {
      if (target.kind === 'earliest') rows.push(row(p, BigInt(p.start)));
      else {
        const found = byTimestamp.get(`${p.topic}:${p.partition}`);
        if (found === undefined) throw new Error(`no offset for ${p.topic}:${p.partition} at ${target.iso}`);
        rows.push(
          row(p, BigInt(found), found === p.end ? `no record at or after ${target.iso}: starts at the end` : undefined),
        );
      }
    }
  }
  return rows.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/** Say which topic is missing rather than kafkajs's "This server does not host this topic-partition". */
export async function assertTopicsExist(admin: Admin, topics: readonly string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length > 0) {
    throw new SyncError(
      `topic${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'do' : 'does'} not exist (yet): is the Debezium connector running and has it snapshotted the table?`,
      { stage: 'config' },
    );
  }
}

export interface GroupActivity {
  state: string;
  members: number;
}

export async function groupActivity(admin: Admin, groupId: string): Promise<GroupActivity> {
  const group = (await admin.describeGroups([groupId])).groups[0];
  return { state: group?.state ?? 'Unknown', members: group?.members.length ?? 0 };
}

/** Current offsets and, for a timestamp target, the offsets at that time. */
export async function readResetInputs(
  admin: Admin,
  groupId: string,
  topics: string[],
  target: ResetTarget,
): Promise<{ current: PartitionLag[]; byTimestamp: Map<string, string> }> {
  const current = await fetchLag(admin, groupId, topics);
  const byTimestamp = new Map<string, string>();
  if (target.kind === 'timestamp') {
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsetsByTimestamp(topic, target.timestampMs))
        byTimestamp.set(`${topic}:${p.partition}`, p.offset);
    }
  }
  return { current, byTimestamp };
}

/**
 * Commits the planned offsets for the group: one member joins it, seeks every planned
 * partition and leaves, committing them, as kafkajs' admin.setOffsets does for one topic (one
 * group join for all topics: the join is what takes seconds). The group must be empty.
 */
export async function applyReset(kafka: Kafka, groupId: string, rows: readonly ResetRow[]): Promise<void> {
  if (rows.length === 0) return;
  const topics = [...new Set(rows.map((r) => r.topic))];
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      // The first fetch comes after the seeks are taken up: stop then, committing them.
      consumer.on(consumer.events.FETCH, () => void consumer.stop().then(resolve, reject));
      consumer.run({ eachBatchAutoResolve: false, eachBatch: async () => undefined }).catch(reject);
      consumer.pause(topics.map((topic) => ({ topic })));
      for (const r of rows) consumer.seek({ topic: r.topic, partition: r.partition, offset: r.target });
    });
  } finally {
    await consumer.disconnect();
  }
}

/** Poll until the group has no members (a killed instance stays one until its session expires). */
export async function waitUntilEmpty(
  admin: Admin,
  groupId: string,
  timeoutMs: number,
  onWait?: (a: GroupActivity) => void,
): Promise<GroupActivity> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const activity = await groupActivity(admin, groupId);
    if (activity.members === 0 || Date.now() >= deadline) return activity;
    onWait?.(activity);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
