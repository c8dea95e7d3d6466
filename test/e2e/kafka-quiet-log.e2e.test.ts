// The real broker's "not there yet" answers reach the sync's logger at debug, counted, and the
// caller still gets the error: the quiet start hides kafkajs' retry chatter, not failures.
import { expect, test } from '@jest/globals';
import { createKafka } from '../../src/adapters/kafka/kafka-client.js';
import type { Logger } from '../../src/ops/logger.js';
import { runId, stackEnv } from './support/stack.js';

test('a topic-partition the broker does not host: kafkajs retries logged at debug and counted, the error still thrown', async () => {
  const env = stackEnv();
  const lines: { level: string; error?: unknown; transient?: unknown }[] = [];
  const capture = (level: string) => (obj: { kafka?: Record<string, unknown> }) =>
    void lines.push({ level, error: obj.kafka?.error, transient: obj.kafka?.transient });
  const logger = {
    error: capture('error'),
    warn: capture('warn'),
    info: capture('info'),
    debug: capture('debug'),
  } as unknown as Logger;
  const counted: string[] = [];
  const kafka = createKafka(
    { brokers: env.KAFKA_BROKERS.split(','), clientId: 'quiet-log-test', ssl: false } as Parameters<
      typeof createKafka
    >[0],
    logger,
    (e) => counted.push(e),
  );
  const admin = kafka.admin({ retry: { retries: 2, initialRetryTime: 50 } });
  await admin.connect();
  try {
    await expect(admin.fetchTopicOffsets(`quiet-log.absent.${runId()}`)).rejects.toThrow(
      'This server does not host this topic-partition',
    );
  } finally {
    await admin.disconnect();
  }
  const fromBroker = lines.filter((l) => l.error === 'This server does not host this topic-partition');
  expect(fromBroker.length).toBeGreaterThan(0);
  expect(fromBroker.every((l) => l.level === 'debug' && l.transient === 'UNKNOWN_TOPIC_OR_PARTITION')).toBe(true);
  expect(lines.filter((l) => l.level === 'error')).toEqual([]);
  expect(counted).toEqual(fromBroker.map(() => 'UNKNOWN_TOPIC_OR_PARTITION'));
});
