// Read a bounded range of offsets [from, to) of some partitions, then stop. kafkajs has no
// manual assign(), so this is always a consumer-group member:
//   'seek'      a throwaway group (deleted afterwards) positioned with seek(): for peeking
//               at records (lag probe, dlq list/inspect) without touching anyone's offsets;
//   'committed' a named group starting from its own committed offsets (set beforehand with
//               admin.setOffsets when needed): for work that must happen once (dlq redrive).
// In 'seek' mode the group starts at the log end, so anything fetched before the seek lands
// is at or beyond `to` and is ignored: no record outside the range reaches the handler.
import type { Kafka } from 'kafkajs';
import type { RawRecord } from '../../core/types.js';
import { toRawRecord } from './kafka-client.js';
import type { Logger } from '../../ops/logger.js';

export interface PartitionRange {
  topic: string;
  partition: number;
  /** First offset to read. */
  from: string;
  /** First offset NOT to read (usually the high watermark when the command started). */
  to: string;
}

/**
 * What the handler wants next: more of this partition, none of it, nothing at all, or
 * nothing at all and this record NOT committed either (it must be handled again next time).
 */
export type RangeVerdict = 'next' | 'partition-done' | 'stop' | 'abort';

export interface ReadRangeOptions {
  kafka: Kafka;
  logger: Logger;
  groupId: string;
  start: 'seek' | 'committed';
  ranges: PartitionRange[];
  /** `heartbeat` keeps the membership alive while one record takes long (retries). */
  handle(record: RawRecord, heartbeat: () => Promise<void>): Promise<RangeVerdict>;
  /** Commit offset+1 after each handled record (only meaningful with start 'committed'). */
  commit?: boolean;
  /** Give up when nothing arrived for this long after joining (gaps, compaction). */
  idleMs?: number;
  /** Hard limit for the whole read. */
  timeoutMs?: number;
}

export interface ReadRangeResult {
  /** 'done': every range read; 'stopped': the handler said stop or abort; 'idle'/'timeout': gave up. */
  end: 'done' | 'stopped' | 'idle' | 'timeout';
  handled: number;
}

interface Pending {
  from: bigint;
  to: bigint;
  seen: boolean;
}

export async function readRange(o: ReadRangeOptions): Promise<ReadRangeResult> {
  const pending = new Map<string, Pending>();
  for (const r of o.ranges) {
    if (BigInt(r.from) < BigInt(r.to))
      pending.set(`${r.topic}:${r.partition}`, { from: BigInt(r.from), to: BigInt(r.to), seen: false });
  }
  if (pending.size === 0) return { end: 'done', handled: 0 };

  const consumer = o.kafka.consumer({ groupId: o.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 500 });
  let handled = 0;
  let finish!: (end: ReadRangeResult['end']) => void;
  const finished = new Promise<ReadRangeResult['end']>((resolve) => (finish = resolve));
  let ended = false;
  const end = (why: ReadRangeResult['end']): void => {
    if (!ended) {
      ended = true;
      finish(why);
    }
  };
  let lastActivity = Date.now();
  let busy = false; // a handler at work (e.g. retrying Cognito) is not idleness
  const deadline = Date.now() + (o.timeoutMs ?? 120_000);
  const watchdog = setInterval(() => {
    if (Date.now() > deadline) end('timeout');
    else if (!busy && Date.now() - lastActivity > (o.idleMs ?? 15_000)) end('idle');
  }, 250);

  try {
    await consumer.connect();
    const topics = [...new Set(o.ranges.map((r) => r.topic))];
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: o.start === 'committed' });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const key = `${batch.topic}:${batch.partition}`;
        if (!pending.has(key)) {
          // Assigned but not asked for (or already done): stop fetching it.
          consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
          return;
        }
        for (const m of batch.messages) {
          const range = pending.get(key);
          if (!range || ended || !isRunning() || isStale()) return;
          const offset = BigInt(m.offset);
          if (offset >= range.to) {
            // In seek mode this may be a fetch from before the seek landed: only trust it
            // once the range has started.
            if (o.start === 'committed' || range.seen) done(key, batch.topic, batch.partition);
            return;
          }
          if (offset < range.from) continue;
          range.seen = true;
          busy = true;
          let verdict: RangeVerdict;
          try {
            const record = toRawRecord(batch.topic, batch.partition, m);
            verdict = await o.handle(record, heartbeat);
          } finally {
            busy = false;
            lastActivity = Date.now();
          }
          if (verdict === 'abort') return end('stopped');
          handled++;
          if (o.commit)
            await consumer.commitOffsets([
              { topic: batch.topic, partition: batch.partition, offset: (offset + 1n).toString() },
            ]);
          resolveOffset(m.offset);
          if (verdict === 'stop') return end('stopped');
          if (verdict === 'partition-done' || offset + 1n >= range.to) done(key, batch.topic, batch.partition);
        }
        await heartbeat();
      },
    });
    lastActivity = Date.now();
    if (o.start === 'seek') {
      for (const r of o.ranges)
        if (pending.has(`${r.topic}:${r.partition}`))
          consumer.seek({ topic: r.topic, partition: r.partition, offset: r.from });
    }
    const result = await finished;
    while (busy) await new Promise((r) => setTimeout(r, 50)); // let a running handler finish before leaving
    return { end: result, handled };
  } finally {
    clearInterval(watchdog);
    end('stopped');
    await consumer
      .disconnect()
      .catch((error: unknown) => o.logger.warn({ err: error }, 'range reader: disconnect failed'));
    if (o.start === 'seek') await deleteGroup(o.kafka, o.groupId, o.logger);
  }

  function done(key: string, topic: string, partition: number): void {
    if (!pending.delete(key)) return;
    consumer.pause([{ topic, partitions: [partition] }]);
    if (pending.size === 0) end('done');
  }
}

/** A throwaway group must not pile up in the cluster; failing to delete it is only untidy. */
async function deleteGroup(kafka: Kafka, groupId: string, logger: Logger): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  } catch (error) {
    logger.debug({ err: error, groupId }, 'range reader: could not delete throwaway group');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** A unique, recognisable name for a throwaway group derived from the sync's group. */
export const throwawayGroupId = (base: string, purpose: string): string =>
  `${base}.${purpose}.${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
