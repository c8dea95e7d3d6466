// The rollout's gauges in a running sync (cognito_sync_cohort_*): the cohort from the mapping,
// and the progress the last `reconcile` or `cutover-check` pass recorded in the cohort log
// (adapters/kafka/cohort-log.ts), read at start and every few minutes. Those passes already
// list the pool and scan the legacy table; the sync adds no read per user to count it again.
import type { CompiledConfig } from '../config/load-config.js';
import { createKafka } from '../adapters/kafka/kafka-client.js';
import { readCohortLog, type CohortProgress } from '../adapters/kafka/cohort-log.js';
import type { CohortSpec } from '../pipeline/map/cohort.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/** How often the recorded progress is read again: a pass takes minutes at scale, so no need for more. */
export const COHORT_PROGRESS_REFRESH_MS = 5 * 60_000;

export function startCohortMetrics(o: {
  config: CompiledConfig;
  logger: Logger;
  metrics: Metrics;
  topic: string;
  cohort: CohortSpec | undefined;
  /** The progress the cohort check read at start, if any. */
  initial?: CohortProgress;
  /** The cohort check read the log already: the first read waits for the interval. */
  readAlready: boolean;
  refreshMs?: number;
}): { stop(): void } {
  o.metrics.cohort.applied(o.cohort);
  if (o.initial) o.metrics.cohort.progress(o.initial);
  const kafka = createKafka(o.config.kafka, o.logger);
  let reading = false;
  const refresh = async (): Promise<void> => {
    if (reading) return;
    reading = true;
    try {
      const { progress } = await readCohortLog(kafka, o.logger, o.topic, o.config.kafka.groupId);
      if (progress) o.metrics.cohort.progress(progress);
    } catch (error) {
      o.logger.warn({ err: error, topic: o.topic }, 'cohort metrics: cannot read the recorded progress');
    } finally {
      reading = false;
    }
  };
  if (!o.readAlready) void refresh();
  const timer = setInterval(() => void refresh(), o.refreshMs ?? COHORT_PROGRESS_REFRESH_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
