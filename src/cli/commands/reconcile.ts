import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import {
  createGateway,
  createUserApplier,
  loadCompiledMapping,
  planningFromMapping,
  poolShape,
} from '../../runtime/pipeline-factory.js';
import { keyedDirectory } from '../../adapters/cognito/pool-usernames.js';
import { openLegacySource } from '../../migration/legacy-source.js';
import { reconcile, type ReconcileReport } from '../../migration/reconcile.js';
import { formatReconcile } from '../../migration/reconcile-report.js';
import { EXIT } from '../exit-codes.js';
import { integerArg } from '../args.js';
import { ConfigError } from '../../errors.js';
import { dependenciesOf, waitReachable } from '../../adapters/reachability.js';

interface Options {
  config: string;
  dbUrl?: string;
  repair?: boolean;
  deleteExtra?: boolean;
  examples: number;
  json?: boolean;
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
    .option('--examples <n>', 'usernames shown per finding', integerArg(0), 5)
    .option('--json', 'print the report(s) as JSON')
    .action(async (opts: Options) => {
      // Silently ignoring it would let an operator believe the extra users were deleted.
      if (opts.deleteExtra && !opts.repair)
        throw new ConfigError('--delete-extra needs --repair: without it reconcile only reports', [
          { path: '--delete-extra', message: 'needs --repair' },
        ]);
      const config = loadConfig(opts.config);
      const mapping = await loadCompiledMapping(config.mappingPath);
      const source = await openLegacySource(config, mapping, opts.dbUrl);
      // The SDK retries an endpoint that does not answer for a long time: one line instead.
      await waitReachable(dependenciesOf(config, { cognito: true }), config.connectTimeoutMs).catch(
        async (error: unknown) => {
          await source.db.close();
          throw error;
        },
      );
      const cognito = createGateway(config);
      // A pool with email or phone as username: users by their legacy key (pool-usernames.ts).
      const shape = poolShape(mapping, cognito, cognito, { capacity: 0 });
      const gateway = shape.gateway;
      const directory = shape.usernames === undefined ? cognito : keyedDirectory(shape.usernames, cognito);
      // The sync's own planner and applier, with no pool state: Cognito is read every time.
      const applier = createUserApplier(planningFromMapping(mapping), {
        gateway,
        stateCapacity: 0,
        ...(shape.usernames === undefined ? {} : { usernames: shape.usernames }),
      });
      const base = { ...source, directory, gateway, mapping, examples: opts.examples };
      try {
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
