import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { createLogger } from '../../ops/logger.js';
import { SyncService } from '../../runtime/sync-service.js';
import { startOpsServer } from '../../ops/ops-server.js';
import { createMetrics } from '../../ops/metrics.js';
import { EXIT } from '../exit-codes.js';
import { createKafka } from '../../adapters/kafka/kafka-client.js';
import { fetchLag, totalLag } from '../../adapters/kafka/lag.js';
import type { CompiledConfig } from '../../config/load-config.js';
import type { Logger } from '../../ops/logger.js';

/** Poll the group's lag; once this member is assigned and the lag is zero, stop cleanly. */
async function stopWhenCaughtUp(service: SyncService, config: CompiledConfig, logger: Logger): Promise<void> {
  const admin = createKafka(config.kafka, logger).admin();
  await admin.connect();
  try {
    while (service.healthy) {
      await new Promise((r) => setTimeout(r, 1000));
      if (!service.ready) continue;
      const lags = await fetchLag(admin, config.kafka.groupId, config.kafka.topics);
      const lag = totalLag(lags);
      if (lag === 0) {
        logger.info({ partitions: lags.length }, 'caught up: every partition committed to its end offset');
        await service.stop();
        return;
      }
    }
  } finally {
    await admin.disconnect();
  }
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Run the sync continuously: consume the Debezium topics and apply them to Cognito. SIGINT/SIGTERM stop it cleanly.')
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--until-caught-up', 'stop (exit 0) once every partition is consumed up to its end offset: for backfills and the demo')
    .action(async (opts: { config: string; untilCaughtUp?: boolean }) => {
      const config = loadConfig(opts.config);
      const logger = createLogger({ level: config.log.level, hashUsernames: config.log.hashUsernames });
      const metrics = createMetrics();
      const service = new SyncService({ config, logger, events: metrics.events, onCognitoCall: metrics.onCognitoCall });
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
        await service.start();
        logger.info({ topics: config.kafka.topics, groupId: config.kafka.groupId, ops: ops.url }, 'sync running');
        if (opts.untilCaughtUp) void stopWhenCaughtUp(service, config, logger);
        await service.done();
        logger.info('sync stopped');
        process.exitCode = EXIT.ok;
      } catch (error) {
        logger.fatal({ err: error }, 'sync failed');
        await service.stop().catch(() => undefined);
        process.exitCode = EXIT.failure;
      } finally {
        await ops.close();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
