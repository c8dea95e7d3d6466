// `cognito-sync dlq list | inspect | redrive`: look at what failed, why, and push it through
// the current pipeline again once the cause is fixed.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfig, type CompiledConfig } from '../../config/load-config.js';
import { ConfigError } from '../../errors.js';
import { createLogger, type Logger } from '../../ops/logger.js';
import { createKafka } from '../../adapters/kafka/kafka-client.js';
import { dlqPartitions, readDlq, sourceRecordOf, type DlqPartition } from '../../adapters/kafka/dlq-reader.js';
import { writeDlqAcks } from '../../adapters/kafka/dlq-acks.js';
import { buildInspectView, formatDlqList, formatInspect, formatRetained, listRow } from '../../ops/dlq-view.js';
import { redriveDlq, selectPartitions, type RedriveSummary } from '../../ops/dlq-redrive.js';
import { parseDuration } from '../../ops/duration.js';
import { buildPipeline, createGateway, poolShape, type Pipeline } from '../../runtime/pipeline-factory.js';
import { judgeRecord, subjectOf, userNow, type RedriveVerdict } from '../../ops/redrive-verdict.js';
import { KafkaDeletedUsersLog, deletedUsersTopic } from '../../adapters/kafka/deleted-users-log.js';
import type { ChangeEvent } from '../../core/types.js';
import { EXIT } from '../exit-codes.js';
import { dependenciesOf, waitReachable, type Needs } from '../../adapters/reachability.js';
import { invokedAs } from '../invoked-as.js';

interface CommonOptions {
  config: string;
  json?: boolean;
  partition?: number;
}

export function registerDlq(program: Command): void {
  const dlq = program
    .command('dlq')
    .description(
      'The dead-letter topic: list what failed, inspect one record, re-drive records through the current pipeline.',
    );

  dlq
    .command('list')
    .description(
      'List dead-lettered records: DLQ position, source topic/partition/offset, stage, error class and message, failed-at. Messages are redacted of e-mails and phone numbers.',
    )
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--limit <n>', 'at most this many records (the oldest first)', intArg('--limit', 1), 50)
    .option('--from-offset <n>', 'start at this DLQ offset (default: the oldest retained)', offsetArg)
    .option('--partition <n>', 'only this DLQ partition', intArg('--partition', 0))
    .option('--json', 'print the records as JSON (one line)')
    .action(async (opts: CommonOptions & { limit: number; fromOffset?: string }) => {
      const { config, logger } = await setup(opts.config, { kafka: true });
      const kafka = createKafka(config.kafka, logger);
      const partitions = await partitionsOf(kafka, config.dlq.topic);
      if (partitions === null) {
        process.stdout.write(
          opts.json
            ? `${JSON.stringify({ topic: config.dlq.topic, exists: false, records: [] })}\n`
            : `DLQ topic ${config.dlq.topic} does not exist: nothing was ever dead-lettered.\n`,
        );
        return;
      }
      const chosen = opts.partition === undefined ? partitions : selectPartitions(partitions, opts.partition, false);
      const entries = await readDlq({
        kafka,
        logger,
        topic: config.dlq.topic,
        groupId: config.kafka.groupId,
        partitions: chosen,
        fromOffset: opts.fromOffset,
        limit: opts.limit,
      });
      const rows = entries.map((e) => listRow(e));
      const total = chosen.reduce((sum, p) => sum + Number(BigInt(p.high) - BigInt(p.low)), 0);
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ topic: config.dlq.topic, exists: true, retained: total, partitions: chosen, records: rows })}\n`,
        );
        return;
      }
      process.stdout.write(
        `${config.dlq.topic}: ${total} record(s) retained (offsets ${formatRetained(chosen)}); showing ${rows.length}\n\n`,
      );
      if (rows.length > 0)
        process.stdout.write(
          `${formatDlqList(rows)}\n\ninspect one: ${invokedAs()} dlq inspect --config ${opts.config} --partition P --offset N\n`,
        );
    });

  dlq
    .command('inspect')
    .description(
      'Show one DLQ record: error context, and the record decoded and mapped by the CURRENT pipeline (what a re-drive would do). Personal data is redacted unless asked.',
    )
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .requiredOption('--offset <n>', 'DLQ offset (dlq list shows it)', offsetArg)
    .option('--partition <n>', 'DLQ partition (needed when the topic has several)', intArg('--partition', 0))
    .option('--show-personal-data', 'show e-mails, phones, names and raw bytes as they are')
    .option('--json', 'print the record as JSON (one line)')
    .action(async (opts: CommonOptions & { offset: string; showPersonalData?: boolean }) => {
      const { config, logger } = await setup(opts.config, { kafka: true, registry: true, cognito: true });
      const kafka = createKafka(config.kafka, logger);
      const partitions = await partitionsOf(kafka, config.dlq.topic);
      if (partitions === null)
        throw usage('--offset', `DLQ topic ${config.dlq.topic} does not exist: nothing was ever dead-lettered`);
      const [partition] = selectPartitions(
        partitions,
        opts.partition ?? (partitions.length === 1 ? partitions[0]!.partition : undefined),
        true,
      );
      if (BigInt(opts.offset) < BigInt(partition!.low) || BigInt(opts.offset) >= BigInt(partition!.high)) {
        throw usage(
          '--offset',
          `partition ${partition!.partition} of ${config.dlq.topic} holds offsets ${partition!.low}..${BigInt(partition!.high) - 1n}`,
        );
      }
      const [entry] = await readDlq({
        kafka,
        logger,
        topic: config.dlq.topic,
        groupId: config.kafka.groupId,
        partitions: [partition!],
        fromOffset: opts.offset,
        limit: 1,
      });
      if (!entry || entry.offset !== opts.offset)
        throw usage(
          '--offset',
          `no record at offset ${opts.offset} of partition ${partition!.partition} (deleted by retention or compaction?)`,
        );
      const source = sourceRecordOf(entry);
      let decoded = null;
      let mapped = null;
      let verdict = null;
      if (source) {
        const pipeline = await buildPipeline(config);
        decoded = await pipeline.decoder.decode(source);
        if (decoded.ok && decoded.value.kind === 'event') {
          mapped = pipeline.map(decoded.value.event);
          verdict = await verdictNow(config, kafka, pipeline, decoded.value.event);
        }
      }
      const view = buildInspectView({
        topic: config.dlq.topic,
        entry,
        decoded,
        mapped,
        verdict,
        showPersonal: opts.showPersonalData === true,
      });
      process.stdout.write(opts.json ? `${JSON.stringify(view)}\n` : formatInspect(view));
    });

  dlq
    .command('ack')
    .description(
      'Acknowledge DLQ records that need nothing more (looked at, fixed by hand, or not worth applying): cutover-check counts them as settled. ' +
        'Default: every record retained now, in every partition. Kept durably in the compacted topic <dlq topic>.acks.',
    )
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--partition <n>', 'only this DLQ partition', intArg('--partition', 0))
    .option(
      '--through-offset <n>',
      'acknowledge up to and including this offset (with --partition when the topic has several)',
      offsetArg,
    )
    .option('--json', 'print what was acknowledged as JSON (one line)')
    .action(async (opts: CommonOptions & { throughOffset?: string }) => {
      const { config, logger } = await setup(opts.config, { kafka: true });
      const kafka = createKafka(config.kafka, logger);
      const partitions = await partitionsOf(kafka, config.dlq.topic);
      if (partitions === null)
        throw usage('--config', `DLQ topic ${config.dlq.topic} does not exist: nothing was ever dead-lettered`);
      const chosen = selectPartitions(partitions, opts.partition, opts.throughOffset !== undefined);
      const at = new Date().toISOString();
      const acks = chosen.map((p) => {
        const below = opts.throughOffset === undefined ? BigInt(p.high) : BigInt(opts.throughOffset) + 1n;
        return { partition: p.partition, below: (below < BigInt(p.high) ? below : BigInt(p.high)).toString(), at };
      });
      await writeDlqAcks(kafka, config.dlq.topic, acks);
      if (opts.json) process.stdout.write(`${JSON.stringify({ topic: config.dlq.topic, acks })}\n`);
      else
        process.stdout.write(
          `acknowledged ${config.dlq.topic}: ${acks.map((a) => `partition ${a.partition} below offset ${a.below}`).join(', ')} (cutover-check counts them as settled)\n`,
        );
    });

  dlq
    .command('redrive')
    .description(
      'Re-drive DLQ records through the current pipeline (decode, map, plan, apply) into Cognito. Progress is committed in group <groupId>.dlq-redrive, ' +
        'so each record is re-driven once; records failing again go back to the DLQ with fresh headers. Exit 3 when some failed again.',
    )
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option(
      '--from-offset <n>',
      'start at this DLQ offset instead of after the last re-drive (with --partition when the topic has several)',
      offsetArg,
    )
    .option('--partition <n>', 'only this DLQ partition', intArg('--partition', 0))
    .addOption(
      new Option(
        '--retry-for <duration>',
        'how long one record may fail with retriable errors (Cognito or registry down) before the run stops',
      )
        .argParser(durationArg)
        .default(60_000, '60s'),
    )
    .option('--json', 'print the summary as JSON (one line)')
    .action(async (opts: CommonOptions & { fromOffset?: string; retryFor: number }) => {
      const { config, logger } = await setup(opts.config, { kafka: true, registry: true, cognito: true });
      const summary = await redriveDlq({
        config,
        logger,
        partition: opts.partition,
        fromOffset: opts.fromOffset,
        retryForMs: opts.retryFor,
        events: {
          retry: (e) =>
            logger.warn({ stage: e.stage, attempt: e.attempt, delayMs: e.delayMs, err: e.error }, 'retrying'),
          dlq: (e) =>
            logger.warn(
              { topic: e.topic, partition: e.partition, offset: e.offset, stage: e.stage, err: e.error },
              'failed again: back to the DLQ',
            ),
        },
      });
      process.stdout.write(opts.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
      process.exitCode = summary.stoppedEarly !== null ? EXIT.failure : summary.failed > 0 ? EXIT.attention : EXIT.ok;
    });
}

/** The same verdict a re-drive reaches for this record (one AdminGetUser and, when it does not decide, a look-up in the deleted-users log). */
async function verdictNow(
  config: CompiledConfig,
  kafka: ReturnType<typeof createKafka>,
  pipeline: Pipeline,
  event: ChangeEvent,
): Promise<RedriveVerdict | null> {
  const subject = subjectOf(pipeline, event);
  if (subject === undefined) return null;
  // One user's entry, looked up only when Cognito's version does not decide (see userNow).
  const topic = config.state.deletedUsersTopic ?? deletedUsersTopic(config.cognito.userPoolId);
  const deletedUsers = { get: (username: string) => KafkaDeletedUsersLog.lookup(kafka, topic, username) };
  const gateway = createGateway(config);
  const shaped = poolShape(pipeline.mapping, gateway, gateway, { capacity: config.processing.stateCapacity }).gateway;
  const now = await userNow(subject, shaped, deletedUsers, pipeline.mapping.versionAttribute);
  return judgeRecord(subject, now);
}

/** Config, a stderr logger, and the dependencies the command needs answering (or one plain line, exit 1). */
async function setup(path: string, needs: Needs): Promise<{ config: CompiledConfig; logger: Logger }> {
  const config = loadConfig(path);
  await waitReachable(dependenciesOf(config, needs), config.connectTimeoutMs);
  // Logs go to stderr: stdout carries the listing or the JSON.
  const logger = createLogger({
    level: config.log.level === 'info' ? 'warn' : config.log.level,
    hashUsernames: config.log.hashUsernames,
    destination: process.stderr,
  });
  return { config, logger };
}

async function partitionsOf(kafka: ReturnType<typeof createKafka>, topic: string): Promise<DlqPartition[] | null> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await dlqPartitions(admin, topic);
  } finally {
    await admin.disconnect();
  }
}

function formatSummary(s: RedriveSummary): string {
  if (s.note) return `${s.note}\n`;
  const out = [
    `re-drove ${s.records} record(s) from ${s.topic} (progress in group ${s.groupId}): ${s.succeeded} succeeded, ${s.superseded} superseded, ${s.skipped} skipped, ${s.failed} failed again`,
  ];
  if (s.records === 0 && s.stoppedEarly === null)
    out.push(
      'nothing to re-drive: no DLQ records after the last re-drive (use --from-offset to re-drive older ones again).',
    );
  if (s.items.length > 0) {
    const header = ['PARTITION', 'OFFSET', 'SOURCE', 'OUTCOME', 'REASON'];
    const body = s.items.map((i) => [String(i.dlqPartition), i.dlqOffset, i.source ?? '-', i.outcome, i.reason ?? '']);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
    const line = (cells: string[]): string =>
      cells
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd();
    out.push('', line(header), ...body.map(line));
  }
  if (s.superseded > 0)
    out.push(
      '',
      'superseded: Cognito already holds those users at the record’s version or a newer one (fixed in the legacy row since), so nothing was written.',
    );
  if (s.failed > 0)
    out.push(
      '',
      'records that failed again are at the end of the DLQ with fresh headers: dlq list / dlq inspect show why.',
    );
  if (s.stoppedEarly) out.push('', `stopped early: ${s.stoppedEarly}`);
  return `${out.join('\n')}\n`;
}

const usage = (path: string, message: string): ConfigError => new ConfigError(message, [{ path, message }]);

function intArg(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} expects an integer >= ${min}`);
    return n;
  };
}

function offsetArg(value: string): string {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a non-negative offset');
  return BigInt(value.trim()).toString();
}

function durationArg(value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}
