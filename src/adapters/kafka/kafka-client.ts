// Build the kafkajs client from config: plaintext, TLS, SASL PLAIN/SCRAM, or AWS MSK IAM.
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig, type KafkaMessage, type SASLOptions } from 'kafkajs';
import type { RawRecord } from '../../core/types.js';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../ops/logger.js';
import { KafkaLogFilter } from './kafka-log.js';

/**
 * `onTransientError`: called for each retriable broker error kafkajs reports while a group or a
 * topic settles (see kafka-log.ts); those are logged at debug unless they persist.
 */
export function createKafka(
  config: Config['kafka'],
  logger: Logger,
  onTransientError?: (error: string) => void,
): Kafka {
  const filter = new KafkaLogFilter();
  const kafkaConfig: KafkaConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: sslOptions(config.ssl),
    sasl: saslOptions(config.sasl),
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      const { message, ...rest } = entry.log;
      const { level, transient, persistingMs } = filter.decide(entry);
      if (transient) onTransientError?.(transient);
      const extra = transient ? { transient, ...(persistingMs !== undefined ? { persistingMs } : {}) } : {};
      logger[level]({ kafka: { namespace: entry.namespace, ...pickSafe(rest), ...extra } }, message);
    },
    retry: { initialRetryTime: 300, retries: 10, maxRetryTime: 30_000 },
  };
  return new Kafka(kafkaConfig);
}

function sslOptions(ssl: Config['kafka']['ssl']): KafkaConfig['ssl'] {
  if (typeof ssl === 'boolean') return ssl;
  return {
    rejectUnauthorized: ssl.rejectUnauthorized,
    ca: ssl.caFile ? [readFileSync(ssl.caFile, 'utf8')] : undefined,
    cert: ssl.certFile ? readFileSync(ssl.certFile, 'utf8') : undefined,
    key: ssl.keyFile ? readFileSync(ssl.keyFile, 'utf8') : undefined,
  };
}

function saslOptions(sasl: Config['kafka']['sasl']): SASLOptions | undefined {
  if (!sasl) return undefined;
  if (sasl.mechanism === 'aws-msk-iam') {
    const region = sasl.region;
    return {
      mechanism: 'oauthbearer',
      oauthBearerProvider: async () => {
        // Loaded lazily: only MSK users pay for it. Credentials come from the default chain.
        const { generateAuthToken } = await import('aws-msk-iam-sasl-signer-js');
        const token = await generateAuthToken({ region });
        return { value: token.token };
      },
    };
  }
  return { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as SASLOptions;
}

/** kafkajs log extras can hold broker addresses and ids, never record payloads; keep scalars only. */
function pickSafe(extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(extra))
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) out[k] = v;
  return out;
}

/** A fetched kafkajs message as the pipeline's RawRecord. */
export const toRawRecord = (topic: string, partition: number, m: KafkaMessage): RawRecord => ({
  topic,
  partition,
  offset: m.offset,
  timestamp: m.timestamp,
  key: m.key,
  value: m.value,
  headers: (m.headers ?? {}) as RawRecord['headers'],
});
