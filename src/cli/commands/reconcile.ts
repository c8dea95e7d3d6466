import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import {
  createGateway,
  createUserApplier,
  loadCompiledMapping,
  planningFromMapping,
  poolAccess,
} from '../../runtime/pipeline-factory.js';
import { openLegacySource } from '../../migration/legacy-source.js';
import { reconcile, type ReconcileReport } from '../../migration/reconcile.js';
import { formatReconcile } from '../../migration/reconcile-report.js';
import { EXIT } from '../exit-codes.js';
import { integerArg } from '../args.js';
import { ConfigError } from '../../errors.js';
import { dependenciesOf, waitReachable } from '../../adapters/reachability.js';
import { createLogger } from '../../ops/logger.js';
import { cohortAtStart, passwordsMeasurable, recordCohortProgress } from '../cohort-start.js';
import { ALLOW_SHRINK_HELP } from './run.js';

interface Options {
  config: string;
  dbUrl?: string;
  repair?: boolean;
  deleteExtra?: boolean;
  examples: number;
  json?: boolean;
  allowShrink?: boolean;
}

export function registerReconcile(program: Command): void {
  program
    .command('reconcile')
    .description(
      "Compare the legacy users table with the user pool user by user: missing, extra (usernames of the mapping's shape with no row) and " +
        "different users (owned attributes, the enabled flag, and group memberships when the mapping derives groups). --repair applies the desired state through the sync's planner and rate limits, then checks again. Exit 3 on drift.",
    )
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--db-url <url>', 'legacy database URL (default: legacyDatabase.url or COGNITO_SYNC_LEGACY_DATABASE__URL)')
    .option('--repair', 'create missing users and update different ones (createPolicy existing-only: no creates)')
    .option('--delete-extra', 'with --repair: also delete extra users (or disable them, by deletePolicy)')
    .option('--allow-shrink', `with --repair: ${ALLOW_SHRINK_HELP}`)
    .option('--examples <n>', 'usernames shown per finding', integerArg(0), 5)
    .option('--json', 'print the report(s) as JSON')
    .action(async (opts: Options) => {
      // Silently ignoring it would let an operator believe the extra users were deleted.
      if (opts.allowShrink && !opts.repair)
        throw new ConfigError('--allow-shrink needs --repair: without it reconcile writes nothing', [
          { path: '--allow-shrink', message: 'needs --repair' },
        ]);
      if (opts.deleteExtra && !opts.repair)
        throw new ConfigError('--delete-extra needs --repair: without it reconcile only reports', [
          { path: '--delete-extra', message: 'needs --repair' },
        ]);
      const config = loadConfig(opts.config);
      const mapping = await loadCompiledMapping(config.mappingPath);
      const source = await openLegacySource(config, mapping, opts.dbUrl);
      // The SDK retries an endpoint that does not answer for a long time: one line instead.
      // --repair writes the pool: it compares the cohort with the one applied last (in Kafka).
      await waitReachable(
        dependenciesOf(config, { cognito: true, kafka: opts.repair === true }),
        config.connectTimeoutMs,
      ).catch(async (error: unknown) => {
        await source.db.close();
        throw error;
      });
      const cognito = createGateway(config);
      // A pool with email or phone as username: users by their legacy key (pool-usernames.ts).
      const { gateway, directory, usernames } = poolAccess(mapping, cognito);
      // The sync's own planner and applier, with no pool state: Cognito is read every time.
      const applier = createUserApplier(planningFromMapping(mapping), {
        gateway,
        stateCapacity: 0,
        ...(usernames === undefined ? {} : { usernames }),
      });
      const logger = createLogger({
        level: 'warn',
        hashUsernames: config.log.hashUsernames,
        destination: process.stderr,
      });
      const base = {
        ...source,
        directory,
        gateway,
        mapping,
        examples: opts.examples,
        passwordsMeasurable: passwordsMeasurable(config, mapping),
      };
      try {
        if (opts.repair)
          await cohortAtStart(config, mapping, { allowShrink: opts.allowShrink === true, by: 'reconcile', logger });
        const reports: { before: ReconcileReport; after?: ReconcileReport } = {
          before: await reconcile({
            ...base,
            repair: opts.repair
              ? { applier, deleteExtra: opts.deleteExtra === true, concurrency: config.processing.concurrency }
              : undefined,
          }),
        };
        if (opts.repair) reports.after = await reconcile(base);
        const final = reports.after ?? reports.before;
        // For the running syncs' cognito_sync_cohort_* gauges (ops/cohort-metrics.ts).
        await recordCohortProgress(config, logger, final.rollout, 'reconcile');
        if (opts.json) process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
        else {
          const lines = formatReconcile(reports.before, opts.repair ? 'reconcile (before repair)' : 'reconcile');
          if (reports.after) lines.push(...formatReconcile(reports.after, 'reconcile (after repair)'));
          process.stdout.write(`${lines.join('\n')}\n`);
        }
        process.exitCode = final.drift > 0 ? EXIT.attention : EXIT.ok;
      } finally {
        await source.db.close();
      }
    });
}
