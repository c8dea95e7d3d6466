// `cognito-sync cutover-check`: one go/no-go report for the cutover decision, from the same
// sources the other commands read (consumer lag, the DLQ with its re-drive progress and
// acknowledgements, a full reconcile, and the legacy last-sign-in column against Cognito's
// user status). Exit 0 only when every gate that is on passes; 3 when one fails.
import type { Command } from 'commander';
import { loadConfig, type CompiledConfig } from '../../config/load-config.js';
import { ConfigError } from '../../errors.js';
import { createKafka } from '../../adapters/kafka/kafka-client.js';
import { fetchLag } from '../../adapters/kafka/lag.js';
import { dlqPartitions } from '../../adapters/kafka/dlq-reader.js';
import { readDlqAcks } from '../../adapters/kafka/dlq-acks.js';
import { dependenciesOf, waitReachable } from '../../adapters/reachability.js';
import type { AwsCognitoGateway } from '../../adapters/cognito/cognito-gateway.js';
import { byLegacyKey } from '../../adapters/cognito/pool-usernames.js';
import { createLogger, type Logger } from '../../ops/logger.js';
import { redriveGroupId } from '../../ops/dlq-redrive.js';
import { createGateway, loadCompiledMapping } from '../../runtime/pipeline-factory.js';
import { openLegacySource, type LegacySource } from '../../migration/legacy-source.js';
import { reconcile } from '../../migration/reconcile.js';
import {
  cutoverReport,
  dlqGate,
  formatCutover,
  gateOff,
  lagGate,
  passwordsGate,
  reconcileGate,
  cohortGate,
  type DlqPartitionFacts,
  type GateResult,
  type PasswordFacts,
} from '../../migration/cutover-gates.js';
import { UNKNOWN, type CompiledMapping } from '../../pipeline/map/index.js';
import { toEpochMs } from '../../pipeline/map/time-values.js';
import { EXIT } from '../exit-codes.js';
import { passwordsMeasurable, recordCohortProgress } from '../cohort-start.js';

const DAY_MS = 86_400_000;
const UNMEASURABLE_CREATED_CONFIRMED =
  'the sync creates users CONFIRMED with a random password (cognito.createdUserStatus CONFIRMED, createPolicy always), which Cognito lists exactly like users who know their password: set createdUserStatus FORCE_CHANGE_PASSWORD or createPolicy existing-only to measure this, or turn the gate off (cutover.gates.passwords: false)';

export function registerCutoverCheck(program: Command): void {
  program
    .command('cutover-check')
    .description(
      'Go/no-go for the cutover: consumer lag 0 on every partition, every DLQ record re-driven or acknowledged (dlq ack), reconcile drift 0 and nobody held, ' +
        'and enough active users able to sign in to Cognito with a password (cutover.passwords). Gates and thresholds in the config (cutover). Exit 0 = go, 3 = no-go.',
    )
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--db-url <url>', 'legacy database URL (default: legacyDatabase.url or COGNITO_SYNC_LEGACY_DATABASE__URL)')
    .option('--json', 'print the report as JSON (one line)')
    .action(async (opts: { config: string; dbUrl?: string; json?: boolean }) => {
      const config = loadConfig(opts.config);
      const { gates } = config.cutover;
      await waitReachable(
        dependenciesOf(config, {
          kafka: gates.lag || gates.dlq,
          cognito: gates.reconcile || gates.cohort || gates.passwords,
        }),
        config.connectTimeoutMs,
      );
      const logger = createLogger({
        level: 'warn',
        hashUsernames: config.log.hashUsernames,
        destination: process.stderr,
      });
      const results: GateResult[] = [];
      results.push(gates.lag ? await lagFacts(config, logger) : gateOff('lag'));
      results.push(gates.dlq ? await dlqFacts(config, logger) : gateOff('dlq'));
      if (gates.reconcile || gates.cohort || gates.passwords) {
        const mapping = await loadCompiledMapping(config.mappingPath);
        const source = await openLegacySource(config, mapping, opts.dbUrl);
        const gateway = createGateway(config);
        try {
          // One reconcile pass serves both gates (the cohort's figures are counted on the way).
          if (gates.reconcile || gates.cohort) {
            const report = await reconcile({
              ...source,
              directory: gateway,
              gateway,
              mapping,
              examples: 0,
              passwordsMeasurable: passwordsMeasurable(config, mapping),
            });
            results.push(gates.reconcile ? reconcileGate(report) : gateOff('reconcile'));
            results.push(gates.cohort ? cohortGate(report) : gateOff('cohort'));
            // For the running syncs' cognito_sync_cohort_* gauges (ops/cohort-metrics.ts).
            await recordCohortProgress(config, logger, report.rollout, 'cutover-check');
          } else results.push(gateOff('reconcile'), gateOff('cohort'));
          results.push(
            gates.passwords
              ? passwordsGate(await passwordFacts(config, mapping, source, gateway))
              : gateOff('passwords'),
          );
        } finally {
          await source.db.close();
        }
      } else results.push(gateOff('reconcile'), gateOff('cohort'), gateOff('passwords'));
      const report = cutoverReport(results);
      process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatCutover(report));
      process.exitCode = report.go ? EXIT.ok : EXIT.attention;
    });
}

async function lagFacts(config: CompiledConfig, logger: Logger): Promise<GateResult> {
  const admin = createKafka(config.kafka, logger).admin();
  await admin.connect();
  try {
    return lagGate(await fetchLag(admin, config.kafka.groupId, config.kafka.topics));
  } finally {
    await admin.disconnect();
  }
}

async function dlqFacts(config: CompiledConfig, logger: Logger): Promise<GateResult> {
  const kafka = createKafka(config.kafka, logger);
  const topic = config.dlq.topic;
  const admin = kafka.admin();
  await admin.connect();
  let facts: DlqPartitionFacts[] | null;
  try {
    const partitions = await dlqPartitions(admin, topic);
    if (partitions === null) return dlqGate(topic, null);
    const redriven = (await admin.fetchOffsets({ groupId: redriveGroupId(config.kafka.groupId), topics: [topic] }))[0]
      ?.partitions;
    const acks = await readDlqAcks(kafka, logger, topic, config.kafka.groupId);
    facts = partitions.map((p) => {
      const r = redriven?.find((x) => x.partition === p.partition)?.offset;
      return {
        ...p,
        redriven: r === undefined || r === '-1' ? undefined : BigInt(r),
        acked: acks.get(p.partition),
      };
    });
  } finally {
    await admin.disconnect();
  }
  return dlqGate(topic, facts);
}

/**
 * Active legacy users (last sign-in within the window) and how many of them Cognito holds as
 * CONFIRMED. One ListUsers pass (60 a call, UserList budget) into a set of usernames, then one
 * keyset scan of the legacy table: memory is the set, about 60 bytes a confirmed user.
 */
async function passwordFacts(
  config: CompiledConfig,
  mapping: CompiledMapping,
  source: LegacySource,
  gateway: AwsCognitoGateway,
): Promise<PasswordFacts | null> {
  const settings = config.cutover.passwords;
  if (settings === undefined) return null;
  // Users the sync creates CONFIRMED carry a random password nobody knows: ListUsers cannot tell
  // them from users who migrated or reset theirs, so the share would be a false "ready".
  if (mapping.createPolicy === 'always' && config.cognito.createdUserStatus === 'CONFIRMED')
    return { ...settings, unmeasurable: UNMEASURABLE_CREATED_CONFIRMED, active: 0, ready: 0 };
  const existing = await source.db.columnNames();
  if (!existing.has(settings.activeColumn)) {
    const message = `column ${settings.activeColumn} does not exist in ${source.table}`;
    throw new ConfigError(message, [{ path: 'cutover.passwords.activeColumn', message }]);
  }
  // Pools that sign in by email or phone name users by a UUID: the legacy key is in the key attribute.
  const signIn = mapping.spec.username.signIn;
  const confirmed = new Set<string>();
  for await (const page of gateway.listUsers())
    for (const user of signIn ? byLegacyKey(signIn.keyAttribute, page) : page)
      if (user.status === 'CONFIRMED') confirmed.add(user.username);
  const since = Date.now() - settings.activeWithinDays * DAY_MS;
  const columns = [...new Set([...source.columns, settings.activeColumn])];
  let active = 0;
  let ready = 0;
  for await (const page of source.db.scanUsers({ columns, pageSize: source.pageSize })) {
    for (const row of page.rows) {
      // Read as the mapping's date transforms read a column (timestamps, dates, ISO text, epoch numbers).
      const at = toEpochMs(row[settings.activeColumn], undefined);
      if (typeof at === 'string' || at < since) continue;
      active++;
      let username: string | typeof UNKNOWN;
      try {
        username = mapping.usernameFromRow(row);
      } catch {
        continue; // no username: the sync cannot have created this user, so it is not ready
      }
      if (username !== UNKNOWN && confirmed.has(username)) ready++;
    }
  }
  return { ...settings, active, ready };
}
