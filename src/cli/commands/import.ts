import { Option, type Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../../config/load-config.js';
import {
  createGateway,
  createUserApplier,
  loadCompiledMapping,
  planningFromMapping,
} from '../../runtime/pipeline-factory.js';
import { openLegacySource, type LegacySource } from '../../migration/legacy-source.js';
import { runImport, type ImportLive } from '../../migration/import-run.js';
import type { ImportContext } from '../../migration/import-classify.js';
import { dryRunHeader } from '../../migration/import-csv.js';
import { formatImportSummary, type ImportSummary } from '../../migration/import-summary.js';
import { usernamePattern } from '../../migration/username-pattern.js';
import { AwsImportJobs } from '../../adapters/cognito/import-jobs.js';
import { dependenciesOf, waitReachable } from '../../adapters/reachability.js';
import { startImportProgress } from '../../ops/import-progress.js';
import { defaultProgressMode, type ProgressMode } from '../../ops/progress.js';
import type { CompiledMapping } from '../../pipeline/map/index.js';
import type { CompiledConfig } from '../../config/load-config.js';
import { ConfigError } from '../../errors.js';
import { EXIT } from '../exit-codes.js';
import { createLogger } from '../../ops/logger.js';
import { cohortAtStart } from '../cohort-start.js';
import { ALLOW_SHRINK_HELP } from './run.js';

interface Options {
  config: string;
  dbUrl?: string;
  dryRun?: boolean;
  out: string;
  json?: boolean;
  progress?: ProgressMode;
  allowShrink?: boolean;
}

/** Attributes the import writes: the mapping's, and its version attributes. */
const writtenAttributes = (mapping: CompiledMapping): string[] => {
  const gva = mapping.spec.groups?.versionAttribute;
  return [...mapping.attributes.map((a) => a.name), mapping.versionAttribute, ...(gva === undefined ? [] : [gva])];
};

/** Checks that need only the config, the mapping and the table: exit 2 before anything is created. */
const checkInputs = async (
  config: CompiledConfig,
  mapping: CompiledMapping,
  source: LegacySource,
  dryRun: boolean,
): Promise<void> => {
  if (mapping.spec.username.signIn !== undefined)
    throw new ConfigError(
      'import: pools with email or phone as username (username.signInAttribute) are not supported: load them with the sync',
      [{ path: 'mapping:username.signInAttribute', message: 'not supported by import' }],
    );
  if (!dryRun && config.import.cloudWatchLogsRoleArn === undefined)
    throw new ConfigError(
      'import.cloudWatchLogsRoleArn is required (CreateUserImportJob logs each job to CloudWatch Logs with this IAM role); --dry-run needs none',
      [{ path: 'import.cloudWatchLogsRoleArn', message: 'required unless --dry-run' }],
    );
  const column = config.import.passwordColumn;
  if (mapping.readColumns.has(column))
    throw new ConfigError(`import.passwordColumn: ${column} is a column the mapping writes to Cognito`, [
      { path: 'import.passwordColumn', message: 'mapped column' },
    ]);
  if (!(await source.db.columnNames()).has(column))
    throw new ConfigError(`import.passwordColumn: ${source.table} has no column ${column}`, [
      { path: 'import.passwordColumn', message: `no column ${column} in ${source.table}` },
    ]);
};

export function registerImport(program: Command): void {
  program
    .command('import')
    .description(
      "Initial load through Cognito's user import jobs, password hashes included: reads the legacy table through the mapping, " +
        'writes import CSVs (one job per hash algorithm, split at 500,000 users / 100 MB), runs the jobs, then applies group ' +
        "memberships and what the CSV cannot carry through the sync's planner. Every user carries the read's source position " +
        'as its version, so `run` from the beginning of the topics applies only later changes. Exit 3 when a job or a user failed.',
    )
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--db-url <url>', 'legacy database URL (default: legacyDatabase.url or COGNITO_SYNC_LEGACY_DATABASE__URL)')
    .option('--dry-run', 'write the CSVs and the summary only: no call to Cognito')
    .option('--out <dir>', 'directory for the CSVs, summary.json and the follow-up files', 'cognito-import')
    .option('--json', 'print the summary as JSON')
    .option('--allow-shrink', ALLOW_SHRINK_HELP)
    .addOption(
      new Option('--progress <mode>', 'progress display (default: bar on a terminal, log lines otherwise)').choices([
        'bar',
        'log',
        'off',
      ]),
    )
    .action(async (opts: Options) => {
      const config = loadConfig(opts.config);
      const mapping = await loadCompiledMapping(config.mappingPath);
      const dryRun = opts.dryRun === true;
      const source = await openLegacySource(config, mapping, opts.dbUrl);
      // SIGINT/SIGTERM while a job runs: stop it (StopUserImportJob) rather than leave it running.
      const interruption = new AbortController();
      const interrupt = (): void => {
        if (interruption.signal.aborted) process.exit(EXIT.failure);
        process.stderr.write('cognito-sync import: stopping the running job (again to quit at once)\n');
        interruption.abort();
      };
      // A dry run creates nothing to stop: the signals keep their default (exit at once).
      if (!dryRun) {
        process.on('SIGINT', interrupt);
        process.on('SIGTERM', interrupt);
      }
      try {
        await checkInputs(config, mapping, source, dryRun);
        const progress = startImportProgress(opts.progress ?? defaultProgressMode());
        let context: Omit<ImportContext, 'mapping'>;
        let live: ImportLive | undefined;
        if (dryRun) {
          context = {
            poolHeader: dryRunHeader(writtenAttributes(mapping)),
            mfaEnabled: false,
            requiredAttributes: new Set(),
            inPool: () => false,
          };
        } else {
          // An endpoint that does not answer: one sentence and exit 1, not the SDK's long retries.
          // Kafka too: the cohort this import applies is recorded where run/replay/reconcile
          // compare theirs (a later run must not take a narrowing made here as unchanged).
          await waitReachable(dependenciesOf(config, { cognito: true, kafka: true }), config.connectTimeoutMs);
          await cohortAtStart(config, mapping, {
            allowShrink: opts.allowShrink === true,
            by: 'import',
            logger: createLogger({
              level: 'warn',
              hashUsernames: config.log.hashUsernames,
              destination: process.stderr,
            }),
          });
          const gateway = createGateway(config);
          const jobs = new AwsImportJobs(gateway.client, {
            userPoolId: config.cognito.userPoolId,
            cloudWatchLogsRoleArn: config.import.cloudWatchLogsRoleArn as string,
          });
          const poolHeader = await jobs.csvHeader();
          const missing = writtenAttributes(mapping).filter(
            (a) => a === mapping.versionAttribute || a === mapping.spec.groups?.versionAttribute,
          );
          const absent = missing.filter((a) => !poolHeader.includes(a));
          if (absent.length > 0)
            throw new ConfigError(
              `the pool's import header (GetCSVHeader) has no ${absent.join(', ')}: the import writes the versions there (create them: cognito-sync check-pool --apply)`,
              absent.map((a) => ({ path: `mapping:${a}`, message: 'not in the pool' })),
            );
          const pool = await gateway.describeUserPool();
          // Documented: cognito:mfa_enabled must be true for every user where MFA is required, false where it is off.
          const mfaEnabled = pool.MfaConfiguration === 'ON';
          // "If the user pool has no auto-verified attributes, the import job will not start"
          // (https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool-csv-header.html).
          const autoVerified = new Set<string>(pool.AutoVerifiedAttributes ?? []);
          if (autoVerified.size === 0)
            throw new ConfigError(
              'the user pool verifies no attribute automatically (AutoVerifiedAttributes is empty), and Cognito starts no import job for such a pool: make email or phone_number auto-verified, or load the users through `run`',
              [{ path: 'cognito.userPoolId', message: 'pool without AutoVerifiedAttributes' }],
            );
          const requiredAttributes = new Set(
            (pool.SchemaAttributes ?? []).filter((a) => a.Required === true && a.Name).map((a) => a.Name as string),
          );
          // Users already in the pool are left out: an import never overwrites a user.
          const pattern = usernamePattern(mapping.spec.username);
          const existing = new Set<string>();
          for await (const page of gateway.listUsers())
            for (const user of page) if (pattern.matches(user.username)) existing.add(user.username);
          context = { poolHeader, mfaEnabled, requiredAttributes, autoVerified, inPool: (u) => existing.has(u) };
          const create = planningFromMapping({ ...mapping, createPolicy: 'always' });
          const update = planningFromMapping({ ...mapping, createPolicy: 'existing-only' });
          live = {
            signal: interruption.signal,
            jobs,
            directory: gateway,
            creator: createUserApplier(create, { gateway, stateCapacity: 0 }),
            followUps: createUserApplier(update, { gateway, stateCapacity: 0 }),
            concurrency: config.processing.concurrency,
            pollIntervalMs: config.import.pollIntervalMs,
            jobTimeoutMs: config.import.jobTimeoutMs,
          };
        }
        const summary: ImportSummary = await runImport({
          source,
          mapping,
          passwordColumn: config.import.passwordColumn,
          outDir: opts.out,
          context,
          progress,
          ...(live ? { live } : {}),
        });
        writeFileSync(summary.files.summary, `${JSON.stringify(summary, null, 2)}\n`, { mode: 0o600 });
        process.stdout.write(
          opts.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatImportSummary(summary).join('\n')}\n`,
        );
        const troubled =
          summary.interrupted === true ||
          summary.jobs.some((j) => j.status !== undefined && (j.status !== 'Succeeded' || (j.failed ?? 0) > 0)) ||
          summary.api.failed > 0 ||
          summary.followUps.failed > 0;
        process.exitCode = troubled ? EXIT.attention : EXIT.ok;
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
        await source.db.close();
      }
    });
}
