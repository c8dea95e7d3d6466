// Kafka from the test's side: topic end offsets, positioning a new group, consumer lag over
// time (max lag, recovery), and reading the DLQ back by its source headers.
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { fetchLag, totalLag, type PartitionLag } from '../../../src/adapters/kafka/lag.js';
import { dlqPartitions, readDlq, type DlqEntry } from '../../../src/adapters/kafka/dlq-reader.js';
import { createLogger } from '../../../src/ops/logger.js';

export type Offsets = Map<string, bigint>; // "topic:partition" -> offset

export function kafkaClient(brokers: string): Kafka {
  return new Kafka({
    clientId: 'faults-suite',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
  });
}

/**
 * An admin client that survives the broker going away: every call gets a fresh connection if
 * the last one failed (kafkajs admin clients do not always recover by themselves).
 */
export class ResilientAdmin {
  private admin?: Admin;
  constructor(private readonly kafka: Kafka) {}

  async use<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    try {
      return await fn(this.admin);
    } catch (error) {
      const stale = this.admin;
      this.admin = undefined;
      await stale?.disconnect().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }
}

export async function ensureTopic(admin: ResilientAdmin, topic: string, partitions = 3): Promise<void> {
  await admin.use(async (a) => {
    if ((await a.listTopics()).includes(topic)) return;
    await a.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  });
}

export async function endOffsets(admin: ResilientAdmin, topics: string[]): Promise<Offsets> {
  const out: Offsets = new Map();
  for (const topic of topics) {
    for (const p of await admin.use((a) => a.fetchTopicOffsets(topic)))
      out.set(`${topic}:${p.partition}`, BigInt(p.high));
  }
  return out;
}

export const sumOffsets = (o: Offsets): bigint => [...o.values()].reduce((s, v) => s + v, 0n);

/** A group that never ran starts exactly at today's end of its topics (no "latest" race). */
export async function positionGroupAtEnd(admin: ResilientAdmin, groupId: string, topics: string[]): Promise<Offsets> {
  const ends = await endOffsets(admin, topics);
  for (const topic of topics) {
    const partitions = [...ends.entries()]
      .filter(([k]) => k.startsWith(`${topic}:`))
      .map(([k, v]) => ({ partition: Number(k.slice(topic.length + 1)), offset: v.toString() }));
    await admin.use((a) => a.setOffsets({ groupId, topic, partitions }));
  }
  return ends;
}

export async function groupLag(admin: ResilientAdmin, groupId: string, topics: string[]): Promise<PartitionLag[]> {
  return admin.use((a) => fetchLag(a, groupId, topics));
}

/** True once the group has committed at least `targets` on every partition. */
export async function committedAtLeast(
  admin: ResilientAdmin,
  groupId: string,
  topics: string[],
  targets: Offsets,
): Promise<boolean> {
  const lags = await groupLag(admin, groupId, topics);
  return [...targets.entries()].every(([key, target]) => {
    const l = lags.find((x) => `${x.topic}:${x.partition}` === key);
    return l !== undefined && l.committed !== null && BigInt(l.committed) >= target;
  });
}

/**
 * Samples the group's total lag every `intervalMs` for the scenario's max lag; a sample that
 * fails (the broker is down) is skipped.
 */
export class LagMonitor {
  maxLag = 0;
  samples = 0;
  failures = 0;
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(
    private readonly admin: ResilientAdmin,
    private readonly groupId: string,
    private readonly topics: string[],
  ) {}

  start(intervalMs = 500): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      groupLag(this.admin, this.groupId, this.topics)
        .then((lags) => {
          this.samples++;
          this.maxLag = Math.max(this.maxLag, totalLag(lags));
        })
        .catch(() => this.failures++)
        .finally(() => (this.busy = false));
    }, intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export async function readDlqTopic(
  kafka: Kafka,
  admin: ResilientAdmin,
  topic: string,
  groupId: string,
): Promise<DlqEntry[]> {
  const partitions = await admin.use((a) => dlqPartitions(a, topic));
  if (!partitions) return [];
  return readDlq({ kafka, logger: createLogger({ level: 'warn' }), topic, groupId, partitions, limit: 1_000_000 });
}

/** DLQ entries grouped by source position "topic:partition:offset". */
export function dlqBySource(entries: DlqEntry[]): Map<string, DlqEntry[]> {
  const out = new Map<string, DlqEntry[]>();
  for (const e of entries) {
    const key = `${e.meta.sourceTopic}:${e.meta.sourcePartition}:${e.meta.sourceOffset}`;
    out.set(key, [...(out.get(key) ?? []), e]);
  }
  return out;
}
