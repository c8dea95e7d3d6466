// `cognito-sync lag`: is the sync keeping up? Samples the group's committed offsets and the
// log end offsets over a window and judges each partition from how they move (see
// src/ops/lag-status.ts), then reads the first unconsumed record of each lagging partition
// to tell how old the backlog is.
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Admin, Kafka } from 'kafkajs';
import { loadConfig } from '../../config/load-config.js';
import { createLogger, type Logger } from '../../ops/logger.js';
import { createKafka } from '../../adapters/kafka/kafka-client.js';
import { fetchLag } from '../../adapters/kafka/lag.js';
import { readRange, throwawayGroupId } from '../../adapters/kafka/range-reader.js';
import { assertTopicsExist } from '../../adapters/kafka/offset-reset.js';
import { buildLagReport, formatLagTable, type LagSample } from '../../ops/lag-status.js';
import { formatDuration, parseDuration } from '../../ops/duration.js';
import { EXIT } from '../exit-codes.js';
import { dependenciesOf, waitReachable } from '../../adapters/reachability.js';

interface LagOptions {
  config: string;
  window: number;
  samples: number;
  json?: boolean;
  probe: boolean;
}

export function registerLag(program: Command): void {
  program
    .command('lag')
    .description(
      'Consumer lag per topic-partition and a status judged over a window of samples: OK, WARNING (falling behind), ' +
        'STALLED (not committing), STOPPED (no consumer), REWOUND (offsets went back). Exit 3 when any partition is not OK.',
    )
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    // 30 s: the shortest window in which a partition can be called STALLED (see STALL_MIN_MS).
    .addOption(
      new Option('--window <duration>', 'how long to watch the offsets, e.g. 30s, 2m (STALLED needs 30s or more)')
        .argParser(durationArg)
        .default(30_000, '30s'),
    )
    .option('--samples <n>', 'samples taken over the window (at least 2)', samplesArg, 4)
    .option('--no-probe', 'do not read the first unconsumed record; estimate the time lag as lag / consumption rate')
    .option('--json', 'print the report as JSON (one line)')
    .action(async (opts: LagOptions) => {
      const config = loadConfig(opts.config);
      // Logs go to stderr: stdout carries the table or the JSON.
      const logger = createLogger({
        level: config.log.level === 'info' ? 'warn' : config.log.level,
        destination: process.stderr,
      });
      await waitReachable(dependenciesOf(config, { kafka: true }), config.connectTimeoutMs);
      const kafka = createKafka(config.kafka, logger);
      const admin = kafka.admin();
      await admin.connect();
      try {
        const { groupId, topics } = config.kafka;
        await assertTopicsExist(admin, topics);
        const series = await sample(
          admin,
          groupId,
          topics,
          opts.window,
          opts.samples,
          samplingFeedback(groupId, opts.window, opts.samples),
        );
        const described = (await admin.describeGroups([groupId])).groups[0];
        const members = described?.members.length ?? 0;
        const firstUnconsumedTs = opts.probe
          ? await probeFirstUnconsumed(kafka, logger, groupId, series)
          : new Map<string, number>();
        const report = buildLagReport({
          groupId,
          groupState: described?.state ?? 'Unknown',
          members,
          series,
          firstUnconsumedTs,
          nowMs: Date.now(),
        });
        process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatLagTable(report));
        process.exitCode = report.status === 'OK' ? EXIT.ok : EXIT.attention;
      } finally {
        await admin.disconnect();
      }
    });
}

/**
 * On a terminal, say what the wait is for and count the samples (on stderr: stdout is the
 * report). Scripts and cron jobs get only the report.
 */
function samplingFeedback(groupId: string, windowMs: number, samples: number): (taken: number) => void {
  if (!process.stderr.isTTY) return () => undefined;
  process.stderr.write(
    `sampling the offsets of group ${groupId} over ${formatDuration(windowMs)} (${samples} samples)…\n`,
  );
  return (taken) => {
    process.stderr.write(`\r  sample ${taken}/${samples}`);
    if (taken === samples) process.stderr.write('\n');
  };
}

async function sample(
  admin: Admin,
  groupId: string,
  topics: string[],
  windowMs: number,
  samples: number,
  onSample: (taken: number) => void,
): Promise<Map<string, LagSample[]>> {
  const series = new Map<string, LagSample[]>();
  const intervalMs = windowMs / (samples - 1);
  const started = Date.now();
  for (let i = 0; i < samples; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, Math.max(0, started + i * intervalMs - Date.now())));
    const timeMs = Date.now();
    for (const p of await fetchLag(admin, groupId, topics)) {
      const key = `${p.topic}:${p.partition}`;
      if (!series.has(key)) series.set(key, []);
      series.get(key)!.push({ timeMs, committed: p.committed, start: p.start, end: p.end });
    }
    onSample(i + 1);
  }
  return series;
}

/**
 * Kafka timestamp of the record at the committed offset of every lagging partition, read by
 * a short-lived consumer in a throwaway group (the sync's own offsets are never touched).
 * Partitions it could not read in time fall back to lag / rate in the report.
 */
async function probeFirstUnconsumed(
  kafka: Kafka,
  logger: Logger,
  groupId: string,
  series: Map<string, LagSample[]>,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const ranges = [];
  for (const [key, samples] of series) {
    const last = samples[samples.length - 1]!;
    const from = last.committed ?? last.start;
    if (BigInt(from) >= BigInt(last.end)) continue;
    const sep = key.lastIndexOf(':');
    ranges.push({ topic: key.slice(0, sep), partition: Number(key.slice(sep + 1)), from, to: last.end });
  }
  if (ranges.length === 0) return out;
  try {
    await readRange({
      kafka,
      logger,
      groupId: throwawayGroupId(groupId, 'lag-probe'),
      start: 'seek',
      ranges,
      idleMs: 10_000,
      timeoutMs: 30_000,
      handle: async (record) => {
        if (record.timestamp !== undefined) out.set(`${record.topic}:${record.partition}`, Number(record.timestamp));
        return 'partition-done';
      },
    });
  } catch (error) {
    logger.warn(
      { err: error },
      'could not read the first unconsumed records: time lag estimated from the consumption rate',
    );
  }
  return out;
}

function durationArg(value: string): number {
  try {
    const ms = parseDuration(value);
    if (ms <= 0) throw new Error('must be positive');
    return ms;
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

function samplesArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 2 || n > 100)
    throw new InvalidArgumentError('expected an integer from 2 to 100: the status needs movement between samples');
  return n;
}
