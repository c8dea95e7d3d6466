// A quiet, truthful start: kafkajs' retriable errors while a group or topic settles go to debug
// and are counted; the same error coming back for longer than persistMs is an error again;
// anything else keeps kafkajs' level.
import { describe, expect, test } from '@jest/globals';
import { createRequire } from 'node:module';
import { logLevel } from 'kafkajs';
import { createKafka } from '../../src/adapters/kafka/kafka-client.js';
import { KafkaLogFilter, TRANSIENT_KAFKA_ERRORS } from '../../src/adapters/kafka/kafka-log.js';
import { createMetrics } from '../../src/ops/metrics.js';
import type { Logger } from '../../src/ops/logger.js';

// kafkajs' own table of broker errors (the messages its Connection logs).
const { errorCodes } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as {
  errorCodes: { type: string; message: string; retriable: boolean }[];
};

const LOADING = "The coordinator is loading and hence can't process requests for this group";
const NOT_HOSTED = 'This server does not host this topic-partition';

/** An entry as kafkajs' Connection logs an error answer. */
const response = (error: string, level = logLevel.ERROR) => ({
  level,
  log: { message: 'Response GroupCoordinator(key: 10, version: 2)', error },
});

describe('KafkaLogFilter', () => {
  test("every transient error is one of kafkajs' broker errors that it gets past by itself, matched by its own message", () => {
    for (const t of TRANSIENT_KAFKA_ERRORS) {
      const code = errorCodes.find((c) => c.type === t.type);
      // REBALANCE_IN_PROGRESS is not retried as such: the consumer rejoins the group.
      const handled = code?.retriable === true || t.type === 'REBALANCE_IN_PROGRESS';
      expect({ type: t.type, handled, matches: code?.message.startsWith(t.text) }).toEqual({
        type: t.type,
        handled: true,
        matches: true,
      });
    }
  });

  test('a transient error is debug until it has come back for persistMs, then error again', () => {
    let now = 0;
    const filter = new KafkaLogFilter({ persistMs: 30_000, quietMs: 60_000, now: () => now });
    expect(filter.decide(response(LOADING))).toEqual({ level: 'debug', transient: 'GROUP_LOAD_IN_PROGRESS' });
    now = 20_000;
    expect(filter.decide(response(LOADING))).toEqual({ level: 'debug', transient: 'GROUP_LOAD_IN_PROGRESS' });
    now = 45_000;
    expect(filter.decide(response(LOADING))).toEqual({
      level: 'error',
      transient: 'GROUP_LOAD_IN_PROGRESS',
      persistingMs: 45_000,
    });
    // another kind of error has its own clock
    expect(filter.decide(response(NOT_HOSTED))).toEqual({ level: 'debug', transient: 'UNKNOWN_TOPIC_OR_PARTITION' });
    // a quiet gap longer than quietMs ends the run: the next one is transient again
    now = 45_000 + 60_001;
    expect(filter.decide(response(LOADING))).toEqual({ level: 'debug', transient: 'GROUP_LOAD_IN_PROGRESS' });
  });

  test('other errors and warnings keep their level; a transient warning is debug too', () => {
    const filter = new KafkaLogFilter();
    expect(filter.decide(response('Not authorized to access topics: [Topic authorization failed]'))).toEqual({
      level: 'error',
    });
    // kafkajs gave up after its retries: the crash names the broker's message, and is no retry chatter
    expect(
      filter.decide({ level: logLevel.ERROR, log: { message: `Crash: KafkaJSNumberOfRetriesExceeded: ${LOADING}` } }),
    ).toEqual({ level: 'error' });
    expect(
      filter.decide({
        level: logLevel.WARN,
        log: { message: 'Heartbeat failed', error: 'The group is rebalancing, so a rejoin is needed' },
      }),
    ).toEqual({ level: 'debug', transient: 'REBALANCE_IN_PROGRESS' });
    expect(filter.decide({ level: logLevel.INFO, log: { message: 'Starting' } })).toEqual({ level: 'info' });
  });
});

describe('createKafka logs through the filter and counts', () => {
  test("kafkajs' own logger: a coordinator loading is debug and counted, an unknown error stays error", async () => {
    const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
    const capture = (level: string) => (obj: Record<string, unknown>, msg: string) =>
      void lines.push({ level, obj, msg });
    const logger = {
      error: capture('error'),
      warn: capture('warn'),
      info: capture('info'),
      debug: capture('debug'),
    } as unknown as Logger;
    const metrics = createMetrics();
    const kafka = createKafka(
      { brokers: ['127.0.0.1:1'], clientId: 'test', ssl: false } as Parameters<typeof createKafka>[0],
      logger,
      (error) => metrics.events.kafkaTransientError!({ error }),
    );
    const connectionLog = kafka.logger().namespace('Connection');
    connectionLog.error('Response GroupCoordinator(key: 10, version: 2)', {
      error: LOADING,
      correlationId: 3,
      size: 60,
    });
    connectionLog.error('Response Metadata(key: 3, version: 6)', { error: NOT_HOSTED, correlationId: 4, size: 80 });
    connectionLog.error('Response Metadata(key: 3, version: 6)', {
      error: 'Not authorized to access topics: [Topic authorization failed]',
      correlationId: 5,
      size: 80,
    });

    expect(lines.map((l) => l.level)).toEqual(['debug', 'debug', 'error']);
    expect(lines[0]!.obj).toMatchObject({
      kafka: { namespace: 'Connection', error: LOADING, transient: 'GROUP_LOAD_IN_PROGRESS' },
    });
    const counted = (
      await metrics.registry.getSingleMetric('cognito_sync_kafka_transient_errors_total')!.get()
    ).values.map((v) => [v.labels.error, v.value]);
    expect(counted.sort()).toEqual([
      ['GROUP_LOAD_IN_PROGRESS', 1],
      ['UNKNOWN_TOPIC_OR_PARTITION', 1],
    ]);
  });
});
