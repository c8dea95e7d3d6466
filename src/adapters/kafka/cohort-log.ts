// The cohort each start applied, and the rollout's last measured progress, per user pool: a
// compacted topic `cognito-sync.cohort.<userPoolId>` (state.cohortTopic), one partition, two
// keys:
//   "cohort"    the cohort (mapping `cohort`, null for everyone) that `run`, `replay --run` or
//               `reconcile --repair` last applied to the pool: what the next start compares
//               with to refuse a narrowing (cohort-change.ts);
//   "progress"  users in the cohort, in Cognito, password-ready, as the last `reconcile` or
//               `cutover-check` pass counted them: what the running sync shows as
//               cognito_sync_cohort_* gauges (no pass of its own).
// Why Kafka, next to the deleted-users log and `<dlq>.acks`: the cohort belongs to the pool and
// to every consumer group writing to it (a `replay --group` included), so neither a group's
// committed offsets (forgotten after offsets.retention.minutes) nor a file on one host fits;
// Cognito has no pool-level data the sync could keep it in, and the legacy database is read,
// never written. A compacted topic is durable, shared and already ours.
import { CompressionTypes, type Kafka } from 'kafkajs';
import type { Logger } from '../../ops/logger.js';
import type { CohortSpec } from '../../pipeline/map/cohort.js';
import { readCompactedTopic, writeCompacted } from './compacted-store.js';

export const cohortTopic = (userPoolId: string): string => `cognito-sync.cohort.${userPoolId}`;

/** The cohort a start applied (null: no cohort, everyone). */
export interface AppliedCohort {
  cohort: CohortSpec | null;
  at: string;
  /** The command that applied it: run, replay, reconcile. */
  by: string;
}

/** Users of the cohort, as a full pass over the legacy table and the pool counted them. */
export interface CohortProgress {
  /** Legacy users (rows the mapping accepts) in the cohort. */
  legacyUsers: number;
  /** Of those, the users Cognito holds. */
  inCognito: number;
  /** Of those, the users that can sign in with a password (CONFIRMED); null when it cannot be told. */
  passwordReady: number | null;
  at: string;
  /** The command that counted: reconcile, cutover-check. */
  by: string;
}

export interface CohortLogState {
  applied?: AppliedCohort;
  progress?: CohortProgress;
}

const COHORT_KEY = 'cohort';
const PROGRESS_KEY = 'progress';

/** The topic's latest value per key; empty when nothing was ever recorded. */
export async function readCohortLog(
  kafka: Kafka,
  logger: Logger,
  topic: string,
  groupId: string,
): Promise<CohortLogState> {
  const state: CohortLogState = {};
  // One partition, in order: the last value of a key is the one that counts.
  await readCompactedTopic(kafka, logger, topic, groupId, 'cohort', (record) => {
    if (record.value === null) return;
    const key = record.key?.toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(record.value.toString('utf8'));
    } catch {
      // Not ours (someone wrote to the topic by hand): the previous value of the key stands.
      logger.warn({ topic, offset: record.offset, key }, 'cohort log: a record that is not JSON, ignored');
      return;
    }
    if (key === COHORT_KEY) state.applied = value as AppliedCohort;
    else if (key === PROGRESS_KEY) state.progress = value as CohortProgress;
  });
  return state;
}

// Gzip, as an allow-list of many usernames compresses well.
const write = (kafka: Kafka, topic: string, key: string, value: unknown): Promise<void> =>
  writeCompacted(kafka, topic, [{ key, value: JSON.stringify(value) }], CompressionTypes.GZIP);

/** Durably records the cohort a start applied (resolves once Kafka has it). */
export const writeAppliedCohort = (kafka: Kafka, topic: string, applied: AppliedCohort): Promise<void> =>
  write(kafka, topic, COHORT_KEY, applied);

/** Durably records a measured progress of the rollout. */
export const writeCohortProgress = (kafka: Kafka, topic: string, progress: CohortProgress): Promise<void> =>
  write(kafka, topic, PROGRESS_KEY, progress);
