// "Run until caught up" for backfills, replays and the demo: poll the group's lag and stop
// the service once this member has partitions and every partition is committed to its end.
import type { CompiledConfig } from '../config/load-config.js';
import { createKafka } from '../adapters/kafka/kafka-client.js';
import { fetchLag, totalLag, type PartitionLag } from '../adapters/kafka/lag.js';
import type { Logger } from '../ops/logger.js';

/** The part of SyncService the watcher needs. */
export interface StoppableService {
  readonly healthy: boolean;
  readonly ready: boolean;
  stop(): Promise<void>;
}

export interface CaughtUpOptions {
  pollMs?: number;
  /** Every lag poll, e.g. for a progress bar's totals. */
  onLag?: (lags: PartitionLag[]) => void;
}

/** One lag reading of the configured group, e.g. the baseline a progress display counts from. */
export async function readGroupLag(config: CompiledConfig, logger: Logger): Promise<PartitionLag[]> {
  const admin = createKafka(config.kafka, logger).admin();
  await admin.connect();
  try {
    return await fetchLag(admin, config.kafka.groupId, config.kafka.topics);
  } finally {
    await admin.disconnect();
  }
}

export async function stopWhenCaughtUp(
  service: StoppableService,
  config: CompiledConfig,
  logger: Logger,
  options: CaughtUpOptions = {},
): Promise<void> {
  const admin = createKafka(config.kafka, logger).admin();
  await admin.connect();
  try {
    while (service.healthy) {
      await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
      if (!service.ready) continue;
      let lags: PartitionLag[];
      try {
        lags = await fetchLag(admin, config.kafka.groupId, config.kafka.topics);
      } catch (error) {
        // A broker hiccup must not end a backfill: poll again next time.
        logger.warn({ err: error }, 'caught-up watcher: cannot read the lag, retrying');
        continue;
      }
      options.onLag?.(lags);
      if (totalLag(lags) === 0) {
        logger.info({ partitions: lags.length }, 'caught up: every partition committed to its end offset');
        await service.stop();
        return;
      }
    }
  } finally {
    await admin.disconnect();
  }
}
