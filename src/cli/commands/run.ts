import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { createLogger } from '../../ops/logger.js';
import { SyncService } from '../../runtime/sync-service.js';
import { startOpsServer } from '../../ops/ops-server.js';
import { createMetrics } from '../../ops/metrics.js';
import { startLagMetrics } from '../../ops/lag-metrics.js';
import { EXIT } from '../exit-codes.js';
import { readGroupLag, stopWhenCaughtUp } from '../../runtime/caught-up.js';
import { combineEvents } from '../../runtime/instrumentation.js';
import { defaultProgressMode, startProgress, type ProgressMode } from '../../ops/progress.js';
import type { CompiledConfig } from '../../config/load-config.js';

export interface RunSyncOptions {
  /** Stop (exit 0) once every partition is committed to its end offset. */
  untilCaughtUp: boolean;
  /** Progress display while catching up: a bar on a terminal, log lines otherwise. */
  progress: ProgressMode;
  progressLabel?: string;
}

/**
 * The sync with its ops port, signal handling and (until caught up) progress display;
 * resolves to the exit code. Shared by `run` and `replay --run`.
 */
export async function runSync(config: CompiledConfig, opts: RunSyncOptions): Promise<number> {
  const progressMode = opts.untilCaughtUp ? opts.progress : 'off';
  // Per-batch info lines would tear a live bar apart on a shared terminal: keep warnings only.
  const quiet = progressMode === 'bar' && process.stdout.isTTY && ['info', 'debug', 'trace'].includes(config.log.level);
  const logger = createLogger({ level: quiet ? 'warn' : config.log.level, hashUsernames: config.log.hashUsernames });
  const metrics = createMetrics();
  const progress = startProgress({ mode: progressMode, logger, label: opts.progressLabel });
  const lagMetrics = startLagMetrics(config, metrics, logger);
  const service = new SyncService({
    config,
    logger,
    events: combineEvents(metrics.events, progress.events, lagMetrics.events),
    onCognitoCall: (e) => {
      metrics.onCognitoCall(e);
      progress.onCognitoCall(e);
    },
  });
  const ops = await startOpsServer({ host: config.ops.host, port: config.ops.port, metrics, service, logger });
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
      stopWhenCaughtUp(service, config, logger, { onLag: (lags) => progress.onLag(lags) }).catch((error: unknown) => {
        logger.error({ err: error }, 'caught-up watcher failed: stopping');
        void service.stop();
      });
    }
    await service.done();
    progress.stop();
    logger.info('sync stopped');
    return EXIT.ok;
  } catch (error) {
    progress.stop();
    logger.fatal({ err: error }, 'sync failed');
    await service.stop().catch(() => undefined);
    return EXIT.failure;
  } finally {
    await lagMetrics.stop();
    await ops.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Run the sync continuously: consume the Debezium topics and apply them to Cognito. SIGINT/SIGTERM stop it cleanly.')
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--until-caught-up', 'stop (exit 0) once every partition is consumed up to its end offset: for backfills and the demo')
    .option('--no-progress', 'with --until-caught-up: no progress bar (terminal) or progress log lines (otherwise)')
    .action(async (opts: { config: string; untilCaughtUp?: boolean; progress: boolean }) => {
      const config = loadConfig(opts.config);
      process.exitCode = await runSync(config, {
        untilCaughtUp: opts.untilCaughtUp === true,
        progress: opts.progress ? defaultProgressMode() : 'off',
      });
    });
}
