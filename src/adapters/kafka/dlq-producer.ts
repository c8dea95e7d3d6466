// Dead-letter queue: the original key, value and headers, plus headers saying where the
// record came from and what went wrong. Writes are awaited (acks=all) before any commit.
import type { Producer } from 'kafkajs';
import type { RawRecord } from '../../core/types.js';
import { DlqError, type SyncError, errorMessage } from '../../errors.js';

export const DLQ_HEADER = {
  stage: 'cognito-sync.error.stage',
  errorClass: 'cognito-sync.error.class',
  message: 'cognito-sync.error.message',
  topic: 'cognito-sync.source.topic',
  partition: 'cognito-sync.source.partition',
  offset: 'cognito-sync.source.offset',
  failedAt: 'cognito-sync.failed.at',
} as const;

/** "topic:partition:offset": how a source record is named in the DLQ's bookkeeping and messages. */
export const positionOf = (record: Pick<RawRecord, 'topic' | 'partition' | 'offset'>): string =>
  `${record.topic}:${record.partition}:${record.offset}`;

export interface DeadLetterSink {
  send(record: RawRecord, error: SyncError): Promise<void>;
  /** True when the DLQ already holds this source record (a replay meets it again). */
  holds?(record: RawRecord): boolean;
}

export class KafkaDeadLetterSink implements DeadLetterSink {
  constructor(
    private readonly producer: Producer,
    readonly topic: string,
    /** Source positions ("topic:partition:offset") the DLQ holds (dlq-reader.ts readDlqSources). */
    private readonly known?: Set<string>,
  ) {}

  holds(record: RawRecord): boolean {
    return this.known?.has(positionOf(record)) === true;
  }

  async send(record: RawRecord, error: SyncError): Promise<void> {
    const headers: Record<string, string | Buffer> = {};
    for (const [name, value] of Object.entries(record.headers)) if (value !== undefined) headers[name] = value;
    Object.assign(headers, dlqHeaders(record, error));
    try {
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        messages: [{ key: record.key, value: record.value, headers }],
      });
      this.known?.add(positionOf(record));
    } catch (cause) {
      throw new DlqError(
        `cannot write to DLQ topic ${this.topic}: ${errorMessage(cause)}`,
        { topic: record.topic, partition: record.partition, offset: record.offset },
        cause,
      );
    }
  }
}

export function dlqHeaders(record: RawRecord, error: SyncError, now = new Date()): Record<string, string> {
  return {
    [DLQ_HEADER.stage]: error.stage,
    [DLQ_HEADER.errorClass]: error.constructor.name,
    [DLQ_HEADER.message]: error.message.slice(0, 2000),
    [DLQ_HEADER.topic]: record.topic,
    [DLQ_HEADER.partition]: String(record.partition),
    [DLQ_HEADER.offset]: record.offset,
    [DLQ_HEADER.failedAt]: now.toISOString(),
  };
}
