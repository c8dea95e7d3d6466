// The cohort check every command that writes the pool from the legacy side makes before it
// starts (`run`, `replay --run`, `reconcile --repair`): migration/cohort-change.ts decides,
// this wires it to the config (the cohort log in Kafka, the pool through the rate limiter).
import type { CompiledConfig } from '../config/load-config.js';
import { createKafka } from '../adapters/kafka/kafka-client.js';
import {
  cohortTopic,
  readCohortLog,
  writeAppliedCohort,
  writeCohortProgress,
  type CohortProgress,
} from '../adapters/kafka/cohort-log.js';
import type { RolloutProgress } from '../migration/reconcile.js';
import { errorMessage } from '../errors.js';
import { applyCohortChange, formatCohortOutcome, type CohortOutcome } from '../migration/cohort-change.js';
import type { Logger } from '../ops/logger.js';
import type { CompiledMapping } from '../pipeline/map/index.js';
import { createGateway, poolAccess } from '../runtime/pipeline-factory.js';
import type { CognitoCallEvent } from '../adapters/cognito/cognito-gateway.js';

export const cohortTopicOf = (config: CompiledConfig): string =>
  config.state.cohortTopic ?? cohortTopic(config.cognito.userPoolId);

/**
 * Compares the mapping's cohort with the one applied last and records it: a narrowing throws
 * CohortShrinkError (exit 2) unless `allowShrink`, which disables the users who left. Says
 * on stderr what changed (nothing when the cohort is the same).
 */
export async function cohortAtStart(
  config: CompiledConfig,
  mapping: CompiledMapping,
  o: { allowShrink: boolean; by: string; logger: Logger; onCognitoCall?: (e: CognitoCallEvent) => void },
): Promise<{ outcome: CohortOutcome; progress?: CohortProgress }> {
  const kafka = createKafka(config.kafka, o.logger);
  const topic = cohortTopicOf(config);
  const { applied, progress } = await readCohortLog(kafka, o.logger, topic, config.kafka.groupId);
  const outcome = await applyCohortChange({
    mapping,
    applied,
    allowShrink: o.allowShrink,
    by: o.by,
    record: (a) => writeAppliedCohort(kafka, topic, a),
    pool: () => poolAccess(mapping, createGateway(config, o.onCognitoCall)),
    concurrency: config.processing.concurrency,
  });
  o.logger.info({ cohort: outcome.cohort, change: outcome.kind, topic }, 'cohort checked');
  // A first start without a cohort records "everyone" silently: most pools never use one.
  if (outcome.kind !== 'same' && !(outcome.kind === 'first' && mapping.spec.cohort === undefined))
    process.stderr.write(`${formatCohortOutcome(outcome)}\n`);
  return progress === undefined ? { outcome } : { outcome, progress };
}

/**
 * Records the rollout's progress a reconcile pass counted, for the running syncs' gauges. Best
 * effort: the report is what the command is for, so a Kafka that does not take it is a warning.
 */
export async function recordCohortProgress(
  config: CompiledConfig,
  logger: Logger,
  rollout: RolloutProgress,
  by: string,
): Promise<void> {
  const progress: CohortProgress = { ...rollout, at: new Date().toISOString(), by };
  try {
    await writeCohortProgress(createKafka(config.kafka, logger), cohortTopicOf(config), progress);
  } catch (error) {
    process.stderr.write(
      `cognito-sync: warning: the rollout progress was not recorded for the metrics (${errorMessage(error)})\n`,
    );
  }
}

/** Whether CONFIRMED in the pool means a password the user knows (cutover-check's rule). */
export const passwordsMeasurable = (config: CompiledConfig, mapping: CompiledMapping): boolean =>
  !(mapping.createPolicy === 'always' && config.cognito.createdUserStatus === 'CONFIRMED');
