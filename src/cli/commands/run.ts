import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { createLogger, errorForLog, type Logger } from '../../ops/logger.js';
import { SyncService } from '../../runtime/sync-service.js';
import { startOpsServer } from '../../ops/ops-server.js';
import { createMetrics } from '../../ops/metrics.js';
import { startLagMetrics } from '../../ops/lag-metrics.js';
import { EXIT } from '../exit-codes.js';
import { readGroupLag, stopWhenCaughtUp } from '../../runtime/caught-up.js';
import { totalLag } from '../../adapters/kafka/lag.js';
import { createKafka } from '../../adapters/kafka/kafka-client.js';
import { buildPipeline, loadCompiledMapping } from '../../runtime/pipeline-factory.js';
import { cohortAtStart, cohortTopicOf } from '../cohort-start.js';
import { startCohortMetrics } from '../../ops/cohort-metrics.js';
import { checkMappingColumns } from '../source-columns.js';
import { sourceProblems, sourceProblemsError } from '../source-check.js';
import type { SourceProblem } from '../../migration/source-check.js';
import { combineEvents } from '../../runtime/instrumentation.js';
import { defaultProgressMode, startProgress, type ProgressMode } from '../../ops/progress.js';
import type { CompiledConfig } from '../../config/load-config.js';
import { dependenciesOf, waitReachable } from '../../adapters/reachability.js';
import { DependencyUnreachableError, errorMessage } from '../../errors.js';
import { invokedAs } from '../invoked-as.js';

export interface RunSyncOptions {
  /** Stop once every partition is committed to its end offset: exit 0, or 3 when records went to the DLQ. */
  untilCaughtUp: boolean;
  /** Progress display while catching up: a bar on a terminal, log lines otherwise. */
  progress: ProgressMode;
  progressLabel?: string;
  /** The caller checked the mapping's columns already (replay --run, before moving offsets). */
  columnsChecked?: boolean;
  /** A narrower cohort than the one applied last: disable the users who left instead of refusing. */
  allowShrink?: boolean;
  /** The caller compared the cohort already (replay --run, before moving offsets). */
  cohortChecked?: boolean;
}

/**
 * The sync with its ops port, signal handling and (until caught up) progress display;
 * resolves to the exit code. Shared by `run` and `replay --run`. Kafka that does not answer
 * within `connectTimeoutMs` throws DependencyUnreachableError before the ops port is bound
 * (main prints its one sentence, exit 1).
 */
export async function runSync(config: CompiledConfig, opts: RunSyncOptions): Promise<number> {
  // Without a broker the sync cannot even join its group: fail now, plainly. The registry and
  // Cognito are only checked (below): the pipeline is built to ride out their outages (the
  // partition pauses, the record waits), and a restart during one must not end the sync.
  await waitReachable(dependenciesOf(config, { kafka: true }), config.connectTimeoutMs);
  // A foreground `run` shows it is alive too: a status line on a terminal (position, rates, DLQ,
  // lag), a `progress` log line every 10 s otherwise.
  const progressMode = opts.progress;
  // Per-batch info lines would tear a live bar apart on a shared terminal: keep warnings only.
  const quiet = progressMode === 'bar' && process.stdout.isTTY && ['info', 'debug', 'trace'].includes(config.log.level);
  const logger = createLogger({ level: quiet ? 'warn' : config.log.level, hashUsernames: config.log.hashUsernames });
  // A mapping column the source does not have would never be written, silently: refuse to
  // start (ConfigError, exit 2), judged by the legacy database or the newest records' schema.
  if (!opts.columnsChecked) await checkColumns(config, logger);
  // Deletes and updates that cannot say which user or membership they end would be lost
  // silently: refuse to start (exit 2) with the statement that fixes the source.
  await checkSourceAtStart(config, logger);
  const metrics = createMetrics();
  // A narrower cohort is refused (exit 2) unless --allow-shrink; it is compared before anything
  // consumes, so no record is skipped as outside a cohort nobody agreed to.
  const mapping = await loadCompiledMapping(config.mappingPath);
  const cohort = opts.cohortChecked
    ? undefined
    : await cohortAtStart(config, mapping, {
        allowShrink: opts.allowShrink === true,
        by: 'run',
        logger,
        onCognitoCall: metrics.onCognitoCall,
      });
  const cohortMetrics = startCohortMetrics({
    config,
    logger,
    metrics,
    topic: cohortTopicOf(config),
    cohort: mapping.spec.cohort,
    readAlready: cohort !== undefined,
    ...(cohort?.progress ? { initial: cohort.progress } : {}),
  });
  const progress = startProgress({ mode: progressMode, logger, label: opts.progressLabel });
  // Until caught up, the caught-up watcher feeds the progress; otherwise the lag gauges' polls do.
  const lagMetrics = startLagMetrics(
    config,
    metrics,
    logger,
    10_000,
    opts.untilCaughtUp ? undefined : (lags) => progress.onLag(lags),
  );
  let deadLettered = 0;
  let caughtUp = false;
  const service = new SyncService({
    config,
    logger,
    events: combineEvents(metrics.events, progress.events, lagMetrics.events, { dlq: () => deadLettered++ }),
    onCognitoCall: (e) => {
      metrics.onCognitoCall(e);
      progress.onCognitoCall(e);
    },
    // A backfill or replay lists the pool before it consumes: no user read one by one.
    awaitPrime: opts.untilCaughtUp === true,
  });
  const ops = await startOpsServer({ host: config.ops.host, port: config.ops.port, metrics, service, logger });
  warnIfUnreachable(config, logger);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(EXIT.failure);
    }
    logger.info({ signal }, 'stopping: finishing in-flight work and committing');
    void service.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    if (progressMode !== 'off') {
      // The baseline before consuming starts: a small backlog may be gone by the first poll.
      await readGroupLag(config, logger).then(
        (lags) => progress.onLag(lags),
        (error: unknown) => logger.warn({ err: error }, 'progress: cannot read the starting offsets'),
      );
    }
    await service.start();
    logger.info({ topics: config.kafka.topics, groupId: config.kafka.groupId, ops: ops.url }, 'sync running');
    if (opts.untilCaughtUp) {
      stopWhenCaughtUp(service, config, logger, {
        onLag: (lags) => {
          progress.onLag(lags);
          caughtUp = totalLag(lags) === 0;
        },
      }).catch((error: unknown) => {
        logger.error({ err: error }, 'caught-up watcher failed: stopping');
        void service.stop();
      });
    }
    await service.done();
    progress.stop();
    logger.info({ deadLettered }, 'sync stopped');
    if (!opts.untilCaughtUp) return EXIT.ok;
    // A backfill that dead-lettered records is not a clean success: its last line and exit
    // code say so, so neither a person nor a CI job takes "caught up" for "all applied".
    const dlq = `${deadLettered} record${deadLettered === 1 ? '' : 's'} went to the DLQ ${config.dlq.topic}`;
    if (!caughtUp) {
      // Stopped by a signal first: not a failure, but not "caught up" either.
      process.stderr.write(`stopped before catching up${deadLettered > 0 ? `; ${dlq}` : ''}\n`);
      return deadLettered > 0 ? EXIT.attention : EXIT.ok;
    }
    if (deadLettered === 0) {
      process.stderr.write('caught up: every record applied or skipped, none went to the DLQ\n');
      return EXIT.ok;
    }
    process.stderr.write(
      `caught up; ${dlq} (see them: ${invokedAs()} dlq list --config ${config.source}; exit ${EXIT.attention})\n`,
    );
    return EXIT.attention;
  } catch (error) {
    progress.stop();
    // One sentence for people on stderr; the log keeps the detail, the stack only at debug.
    process.stderr.write(`cognito-sync: the sync stopped: ${errorMessage(error)}\n`);
    if (['debug', 'trace'].includes(config.log.level)) logger.fatal({ err: error }, 'sync failed');
    else logger.fatal({ error: errorForLog(error) }, 'sync failed');
    await service.stop().catch(() => undefined);
    return EXIT.failure;
  } finally {
    cohortMetrics.stop();
    await lagMetrics.stop();
    await ops.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** ConfigError (exit 2) when the mapping reads a column the source does not have. */
export async function checkColumns(config: CompiledConfig, logger: Logger): Promise<void> {
  const { mapping, decoder } = await buildPipeline(config);
  await checkMappingColumns({
    config,
    spec: mapping.spec,
    logger,
    topics: { kafka: createKafka(config.kafka, logger), decoder },
  });
}

/** ConfigError (exit 2) when legacyDatabase.url is set and the source fails the source check; unreadable: a warning. */
export async function checkSourceAtStart(config: CompiledConfig, logger: Logger): Promise<void> {
  if (!config.legacyDatabase?.url) return;
  const { mapping } = await buildPipeline(config);
  let problems: SourceProblem[];
  try {
    problems = await sourceProblems(config, mapping);
  } catch (error) {
    logger.warn({ error: errorMessage(error) }, 'source check: the legacy database did not answer; starting unchecked');
    return;
  }
  if (problems.length > 0) throw sourceProblemsError(problems);
  logger.info('source check: keys and replica identity fit the mapping');
}

/**
 * The schema registry and Cognito, checked in the background: when one does not answer within
 * the deadline, one plain line says so (the records that need it wait for it meanwhile).
 */
function warnIfUnreachable(config: CompiledConfig, logger: Logger): void {
  waitReachable(dependenciesOf(config, { registry: true, cognito: true }), config.connectTimeoutMs).catch(
    (error: unknown) => {
      if (!(error instanceof DependencyUnreachableError)) return;
      process.stderr.write(`cognito-sync: warning: ${error.message}; records that need it wait until it answers\n`);
      logger.warn({ error: errorForLog(error) }, 'dependency unreachable at start');
    },
  );
}

export const ALLOW_SHRINK_HELP =
  'accept a mapping cohort narrower than the one applied to the pool last: the users who left are disabled (never deleted); without it such a start is refused (exit 2)';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'Run the sync continuously: consume the Debezium topics and apply them to Cognito. SIGINT/SIGTERM stop it cleanly.',
    )
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option(
      '--until-caught-up',
      `stop once every partition is consumed up to its end offset (for backfills and the demo): exit 0, or ${EXIT.attention} when records went to the DLQ`,
    )
    .option('--no-progress', 'no status line / progress bar (terminal) and no progress log lines (otherwise)')
    .option('--allow-shrink', ALLOW_SHRINK_HELP)
    .action(async (opts: { config: string; untilCaughtUp?: boolean; progress: boolean; allowShrink?: boolean }) => {
      const config = loadConfig(opts.config);
      process.exitCode = await runSync(config, {
        untilCaughtUp: opts.untilCaughtUp === true,
        progress: opts.progress ? defaultProgressMode() : 'off',
        allowShrink: opts.allowShrink === true,
      });
    });
}
