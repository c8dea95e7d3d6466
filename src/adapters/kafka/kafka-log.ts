// kafkajs log entries -> the sync's log levels. kafkajs logs every error answer of a broker at
// error level, also the retriable ones it retries and gets past a moment later: while a group
// coordinator loads its offsets after a broker start, while a new topic's leaders are elected,
// while a group rebalances. A person reads those as failures. Here they go to debug and are
// counted (cognito_sync_kafka_transient_errors_total), unless the same error keeps coming back
// for longer than `persistMs`: then it is logged at kafkajs' own level again.
import { logLevel, type LogEntry } from 'kafkajs';

/** Retriable broker answers that are part of a group or a topic settling (kafkajs' messages). */
export const TRANSIENT_KAFKA_ERRORS: readonly { type: string; text: string }[] = [
  { type: 'GROUP_LOAD_IN_PROGRESS', text: 'The coordinator is loading' },
  { type: 'GROUP_COORDINATOR_NOT_AVAILABLE', text: 'The group coordinator is not available' },
  { type: 'NOT_COORDINATOR_FOR_GROUP', text: 'This is not the correct coordinator for this group' },
  { type: 'REBALANCE_IN_PROGRESS', text: 'The group is rebalancing, so a rejoin is needed' },
  { type: 'UNKNOWN_TOPIC_OR_PARTITION', text: 'This server does not host this topic-partition' },
  { type: 'LEADER_NOT_AVAILABLE', text: 'There is no leader for this topic-partition' },
  { type: 'NOT_LEADER_FOR_PARTITION', text: 'This server is not the leader for that topic-partition' },
];

export type KafkaLogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface KafkaLogDecision {
  level: KafkaLogLevel;
  /** The transient error's type, when the entry is one. */
  transient?: string;
  /** How long the same transient error has been coming back, once that is longer than `persistMs`. */
  persistingMs?: number;
}

export interface KafkaLogFilterOptions {
  /** A transient error still coming back after this long is logged at its own level (default 30 s). */
  persistMs?: number;
  /** A gap this long ends a run of the same error (default 60 s: kafkajs retries back off to 30 s). */
  quietMs?: number;
  now?: () => number;
}

export class KafkaLogFilter {
  private readonly persistMs: number;
  private readonly quietMs: number;
  private readonly now: () => number;
  private readonly runs = new Map<string, { since: number; last: number }>();

  constructor(o: KafkaLogFilterOptions = {}) {
    this.persistMs = o.persistMs ?? 30_000;
    this.quietMs = o.quietMs ?? 60_000;
    this.now = o.now ?? Date.now;
  }

  decide(entry: Pick<LogEntry, 'level'> & { log: { message: string; error?: unknown } }): KafkaLogDecision {
    const own: KafkaLogLevel =
      entry.level <= logLevel.ERROR
        ? 'error'
        : entry.level === logLevel.WARN
          ? 'warn'
          : entry.level === logLevel.INFO
            ? 'info'
            : 'debug';
    if (own !== 'error' && own !== 'warn') return { level: own };
    // "Crash: KafkaJSNumberOfRetriesExceeded: <the broker's message>": kafkajs gave up, never quiet
    if (entry.log.message.startsWith('Crash')) return { level: own };
    const text = `${entry.log.message} ${typeof entry.log.error === 'string' ? entry.log.error : ''}`;
    const known = TRANSIENT_KAFKA_ERRORS.find((t) => text.includes(t.text));
    if (!known) return { level: own };
    const now = this.now();
    let run = this.runs.get(known.type);
    if (!run || now - run.last > this.quietMs) this.runs.set(known.type, (run = { since: now, last: now }));
    run.last = now;
    const persistingMs = now - run.since;
    return persistingMs >= this.persistMs
      ? { level: own, transient: known.type, persistingMs }
      : { level: 'debug', transient: known.type };
  }
}
