// Consumer lag per topic-partition from the group's committed offsets and the log end offsets.
import type { Admin } from 'kafkajs';

export interface PartitionLag {
  topic: string;
  partition: number;
  /** Next offset the group will read; null when the group never committed here. */
  committed: string | null;
  /** Log end offset (high watermark). */
  end: string;
  /** Log start offset (earliest still retained). */
  start: string;
  /** Messages between committed and end (from start when never committed). */
  lag: number;
}

export async function fetchLag(admin: Admin, groupId: string, topics: string[]): Promise<PartitionLag[]> {
  const committed = await admin.fetchOffsets({ groupId, topics });
  const out: PartitionLag[] = [];
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const group = committed.find((c) => c.topic === topic);
    for (const end of ends) {
      const c = group?.partitions.find((p) => p.partition === end.partition)?.offset;
      const has = c !== undefined && c !== '-1';
      const from = BigInt(has ? c : end.low);
      const lag = BigInt(end.high) - from;
      out.push({
        topic,
        partition: end.partition,
        committed: has ? c : null,
        end: end.high,
        start: end.low,
        lag: Number(lag < 0n ? 0n : lag),
      });
    }
  }
  return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

export const totalLag = (lags: PartitionLag[]): number => lags.reduce((sum, l) => sum + l.lag, 0);
