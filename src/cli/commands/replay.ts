// `cognito-sync replay`: backfill by re-reading the topics. Moves a group's committed offsets
// (the live group, or a separate one-off group) and optionally runs the sync until caught up.
// Safe by design: apply is idempotent and version-guarded, so re-reading history makes no
// Cognito writes for users already in sync and repairs the ones that drifted.
import type { Command } from 'commander';
import type { Kafka } from 'kafkajs';
import { createInterface } from 'node:readline/promises';
import { loadConfig, type CompiledConfig } from '../../config/load-config.js';
import { ConfigError } from '../../errors.js';
import { createLogger } from '../../ops/logger.js';
import { createKafka } from '../../adapters/kafka/kafka-client.js';
import {
  applyReset,
  assertTopicsExist,
  groupActivity,
  parseOffsetSpec,
  parseTimestamp,
  planReset,
  readResetInputs,
  waitUntilEmpty,
  type GroupActivity,
  type ResetRow,
  type ResetTarget,
} from '../../adapters/kafka/offset-reset.js';
import { defaultProgressMode } from '../../ops/progress.js';
import { formatDuration } from '../../ops/duration.js';
import { EXIT } from '../exit-codes.js';
import { ALLOW_SHRINK_HELP, checkColumns, runSync } from './run.js';
import { cohortAtStart } from '../cohort-start.js';
import { loadCompiledMapping } from '../../runtime/pipeline-factory.js';
import { nameArg } from '../args.js';
import { dependenciesOf, waitReachable } from '../../adapters/reachability.js';
import { invokedAs } from '../invoked-as.js';

interface ReplayOptions {
  config: string;
  fromEarliest?: boolean;
  fromTimestamp?: string;
  toOffsets?: string;
  group?: string;
  force?: boolean;
  dryRun?: boolean;
  run?: boolean;
  json?: boolean;
  yes?: boolean;
  progress: boolean;
  allowShrink?: boolean;
}

export interface ReplayPlan {
  groupId: string;
  liveGroup: boolean;
  target: { kind: ResetTarget['kind']; timestamp?: string };
  group: GroupActivity;
  dryRun: boolean;
  applied: boolean;
  totalToRead: number;
  partitions: ResetRow[];
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description(
      'Backfill by re-reading the topics: reset a consumer group to the earliest offsets, to a point in time, or to given offsets, ' +
        'then (with --run) sync until caught up. Re-reading is safe: users already in sync get no Cognito writes.',
    )
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--from-earliest', 'from the oldest record still retained in each partition')
    .option('--from-timestamp <iso>', 'from the first record at or after this instant, e.g. 2024-05-01T00:00:00Z')
    .option('--to-offsets <spec>', 'explicit offsets: topic:partition=offset[,...]; partitions not named keep theirs')
    .option(
      '--group <name>',
      'reset this group instead of the live one from the config: a one-off replay next to the running sync',
      nameArg,
    )
    .option(
      '--force',
      'if the group still has members, wait for them to leave (up to the session timeout) instead of refusing at once',
    )
    .option('--dry-run', 'print the current and the new offsets per partition; change nothing')
    .option('-y, --yes', 'reset without asking (needed when stdin is not a terminal: scripts, CI)')
    .option('--run', 'after the reset, run the sync on that group until it is caught up, with progress')
    .option('--no-progress', 'with --run: no progress bar or progress log lines')
    .option('--allow-shrink', `with --run: ${ALLOW_SHRINK_HELP}`)
    .option('--json', 'print the plan/result as JSON (one line)')
    .action(async (opts: ReplayOptions) => {
      const target = targetOf(opts);
      if (opts.dryRun && opts.run)
        throw new ConfigError(
          '--dry-run and --run exclude each other: a dry run changes nothing, so there is nothing to run',
          [{ path: '--run', message: 'conflicts with --dry-run' }],
        );
      const base = loadConfig(opts.config);
      // Moving a group's offsets is not undone by running again: a person confirms it, a script
      // says --yes. Refused before anything connects when there is nobody to ask.
      const confirm = !opts.dryRun && opts.yes !== true;
      if (confirm && !process.stdin.isTTY) {
        const message =
          'replay resets the committed offsets of a consumer group: add --yes to do it without a terminal to confirm on (look first with --dry-run)';
        throw new ConfigError(message, [{ path: '--yes', message }]);
      }
      const groupId = opts.group ?? base.kafka.groupId;
      const config: CompiledConfig = { ...base, kafka: { ...base.kafka, groupId } };
      const logger = createLogger({
        level: base.log.level === 'info' ? 'warn' : base.log.level,
        destination: process.stderr,
      });
      await waitReachable(dependenciesOf(config, { kafka: true }), config.connectTimeoutMs);
      // A mapping the run would refuse must not move the offsets first; nor a narrower cohort.
      if (opts.run) {
        await checkColumns(config, logger);
        await cohortAtStart(config, await loadCompiledMapping(config.mappingPath), {
          allowShrink: opts.allowShrink === true,
          by: 'replay',
          logger,
        });
      }
      const kafka = createKafka(config.kafka, logger);
      const admin = kafka.admin();
      await admin.connect();
      let plan: ReplayPlan;
      try {
        await assertTopicsExist(admin, config.kafka.topics);
        let group = await groupActivity(admin, groupId);
        const { current, byTimestamp } = await readResetInputs(admin, groupId, config.kafka.topics, target);
        const rows = planReset(current, target, byTimestamp);
        plan = {
          groupId,
          liveGroup: groupId === base.kafka.groupId,
          target: { kind: target.kind, ...(target.kind === 'timestamp' ? { timestamp: target.iso } : {}) },
          group,
          dryRun: opts.dryRun === true,
          applied: false,
          totalToRead: rows.reduce((sum, r) => sum + r.toRead, 0),
          partitions: rows,
        };
        if (!opts.dryRun && group.members > 0) {
          if (opts.force) {
            const waitMs = config.kafka.sessionTimeoutMs + 10_000;
            process.stderr.write(
              `group ${groupId} has ${group.members} member(s): waiting up to ${formatDuration(waitMs)} for them to leave (--force)\n`,
            );
            group = await waitUntilEmpty(admin, groupId, waitMs);
          }
          if (group.members > 0) {
            process.stderr.write(`${refusal(groupId, group, opts.force === true)}\n`);
            process.exitCode = EXIT.failure;
            return;
          }
        }
        if (confirm && !(await confirmed(plan, target))) {
          process.stderr.write('cancelled: nothing changed.\n');
          process.exitCode = EXIT.failure;
          return;
        }
        if (!opts.dryRun) {
          await resetWithProgress(kafka, groupId, rows);
          plan.applied = true;
          plan.group = group;
        }
      } finally {
        await admin.disconnect();
      }

      process.stdout.write(opts.json ? `${JSON.stringify(plan)}\n` : formatPlan(plan, target, opts.run === true));
      if (!opts.run) {
        process.exitCode = EXIT.ok;
        return;
      }
      // A one-off run must not fight a live sync on this host for its ops port.
      process.exitCode = await runSync(
        { ...config, ops: { ...config.ops, port: 0 } },
        {
          untilCaughtUp: true,
          progress: opts.progress ? defaultProgressMode() : 'off',
          progressLabel: 'replay',
          columnsChecked: true,
          cohortChecked: true,
        },
      );
    });
}

/** Shows what would change and asks on the terminal (stderr: stdout may be a --json consumer). */
async function confirmed(plan: ReplayPlan, target: ResetTarget): Promise<boolean> {
  process.stderr.write(
    formatPlan({ ...plan, dryRun: true }, target, false).replace(/dry run: nothing changed\.\n/, ''),
  );
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`reset the committed offsets of group ${plan.groupId} as shown? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** One group join for every topic (it takes seconds): say so before, and how long it took. */
async function resetWithProgress(kafka: Kafka, groupId: string, rows: ResetRow[]): Promise<void> {
  const topics = [...new Set(rows.map((r) => r.topic))];
  process.stderr.write(
    `resetting the committed offsets of group ${groupId}: ${rows.length} partition(s) in ${topics.length} topic(s)\n`,
  );
  const started = Date.now();
  await applyReset(kafka, groupId, rows);
  process.stderr.write(`offsets reset in ${formatDuration(Date.now() - started)}\n`);
}

function targetOf(opts: ReplayOptions): ResetTarget {
  const given = [
    opts.fromEarliest ? '--from-earliest' : null,
    opts.fromTimestamp !== undefined ? '--from-timestamp' : null,
    opts.toOffsets !== undefined ? '--to-offsets' : null,
  ].filter((x): x is string => x !== null);
  if (given.length !== 1) {
    const message =
      given.length === 0
        ? 'say where to replay from: --from-earliest, --from-timestamp <iso> or --to-offsets <spec>'
        : `choose one of ${given.join(', ')}`;
    throw new ConfigError(message, [{ path: 'replay', message }]);
  }
  if (opts.fromEarliest) return { kind: 'earliest' };
  if (opts.fromTimestamp !== undefined) return { kind: 'timestamp', ...parseTimestamp(opts.fromTimestamp) };
  return { kind: 'offsets', offsets: parseOffsetSpec(opts.toOffsets!) };
}

export function refusal(groupId: string, group: GroupActivity, waited: boolean): string {
  return [
    `cognito-sync: refusing to reset the offsets of group ${groupId}: it has ${group.members} active member(s) (state ${group.state})${waited ? ' after waiting' : ''}.`,
    '  Kafka refuses offset commits from outside a consumer group while it has members, so the reset would fail anyway;',
    '  and the running members would overwrite the new offsets with their own next commit.',
    `  Stop every \`${invokedAs()} run\` of group ${groupId} first (SIGTERM: it finishes the batch, commits and leaves), then replay;`,
    '  or use --group <name> to replay into a separate group while the live sync keeps running;',
    '  or --force to wait up to the session timeout for members that are already going away (a killed instance stays a member until its session expires).',
  ].join('\n');
}

function formatPlan(plan: ReplayPlan, target: ResetTarget, willRun: boolean): string {
  const what =
    target.kind === 'earliest'
      ? 'from the earliest offsets'
      : target.kind === 'timestamp'
        ? `from ${target.iso}`
        : 'to the given offsets';
  const header = ['TOPIC', 'PARTITION', 'CURRENT', 'NEW', 'END', 'TO READ', 'NOTE'];
  const body = plan.partitions.map((r) => [
    r.topic,
    String(r.partition),
    r.current ?? '-',
    r.target,
    r.high,
    String(r.toRead),
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [
    `replay ${what} for group ${plan.groupId}${plan.liveGroup ? ' (the live group)' : ' (a separate group)'}: state ${plan.group.state}, ${plan.group.members} member(s)`,
    '',
    line(header),
    ...body.map(line),
    '',
    `to re-read: ${plan.totalToRead} messages`,
  ];
  if (target.kind === 'offsets' && !plan.liveGroup)
    out.push('partitions not named keep their committed offsets (a new group starts them as kafka.fromBeginning says)');
  if (plan.dryRun) {
    out.push('dry run: nothing changed.');
    if (plan.group.members > 0)
      out.push(
        `note: the group has ${plan.group.members} active member(s) now; the real reset would be refused until they stop.`,
      );
  } else {
    out.push(`offsets reset for group ${plan.groupId}.`);
    if (!willRun)
      out.push(
        plan.liveGroup
          ? `start the sync (${invokedAs()} run) to re-read, or use replay --run.`
          : `run the sync with kafka.groupId=${plan.groupId} (or replay --run) to re-read.`,
      );
  }
  return `${out.join('\n')}\n`;
}
