// Keeps the lag gauges of /metrics current while `run` runs: messages from the group's
// committed offsets vs the log end (polled), seconds from the Kafka timestamp of the oldest
// record not yet done (the first record of the partition's latest batch). A stuck consumer
// therefore shows seconds growing even though no batch completes.
import type { CompiledConfig } from '../config/load-config.js';
import { createKafka } from '../adapters/kafka/kafka-client.js';
import { fetchLag, type PartitionLag } from '../adapters/kafka/lag.js';
import type { SyncEvents } from '../runtime/instrumentation.js';
import { errorForLog, type Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export interface LagMetrics {
  events: Partial<SyncEvents>;
  stop(): Promise<void>;
}

export function startLagMetrics(
  config: CompiledConfig,
  metrics: Metrics,
  logger: Logger,
  intervalMs = 10_000,
  /** Each poll's lags, e.g. for the status line of a foreground `run`. */
  onLag?: (lags: readonly PartitionLag[]) => void,
): LagMetrics {
  const oldestPending = new Map<string, number>();
  const admin = createKafka(config.kafka, logger).admin();
  let connected: Promise<void> | undefined;
  let stopped = false;

  const poll = async (): Promise<void> => {
    connected ??= admin.connect();
    await connected;
    const lags = await fetchLag(admin, config.kafka.groupId, config.kafka.topics);
    onLag?.(lags);
    const now = Date.now();
    for (const lag of lags) {
      const labels = { topic: lag.topic, partition: String(lag.partition) };
      metrics.lagMessages.set(labels, lag.lag);
      const since = oldestPending.get(`${lag.topic}:${lag.partition}`);
      metrics.lagSeconds.set(labels, lag.lag === 0 || since === undefined ? 0 : Math.max(0, (now - since) / 1000));
    }
  };
  const timer = setInterval(() => {
    if (!stopped)
      poll().catch((error: unknown) =>
        logger.debug({ error: errorForLog(error) }, 'lag metrics: poll failed, will retry'),
      );
  }, intervalMs);
  timer.unref();

  return {
    events: {
      batchStart: (e) => {
        if (e.firstTimestampMs !== null) oldestPending.set(`${e.topic}:${e.partition}`, e.firstTimestampMs);
      },
    },
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      if (connected) await connected.then(() => admin.disconnect()).catch(() => undefined);
    },
  };
}
