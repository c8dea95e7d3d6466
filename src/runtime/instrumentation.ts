// Typed events the pipeline emits; metrics, logs and progress bars subscribe to them.
import type { CognitoCall, Op, SkipReason } from '../core/types.js';
import type { Stage } from '../errors.js';

export type RecordOutcome = 'applied' | 'skipped' | 'dlq';

export interface SyncEvents {
  batchStart(e: {
    topic: string;
    partition: number;
    size: number;
    firstOffset: string;
    lastOffset: string;
    firstTimestampMs: number | null;
  }): void;
  batchEnd(e: {
    topic: string;
    partition: number;
    size: number;
    durationMs: number;
    users: number;
    calls: number;
    commitOffset: string | null;
  }): void;
  record(e: {
    topic: string;
    partition: number;
    op: Op | 'none';
    outcome: RecordOutcome;
    reason?: SkipReason | Stage;
  }): void;
  /** `droppedGroupGuards`: groups whose per-group version no longer fit in groups.versionAttribute. */
  applied(e: {
    username: string;
    calls: CognitoCall['api'][];
    sourceTsMs: number | null;
    droppedGroupGuards?: string[];
    /** Attributes this apply left unwritten because nothing knew their value (unknown-values.ts). */
    incomplete?: string[];
  }): void;
  /**
   * Events of one user whose versions could not be ordered with the stored one (GTID vs binlog
   * file/pos in one source epoch): handled by state, or skipped when irreversible. No username:
   * the remedy (a new epoch) is the same for all.
   */
  incomparableVersions(e: { count: number }): void;
  retry(e: { stage: Stage; attempt: number; delayMs: number; error: Error }): void;
  dlq(e: { topic: string; partition: number; offset: string; stage: Stage; error: Error }): void;
  /** A retriable broker error while a group or topic settles (kafka-log.ts), by kafkajs' error type. */
  kafkaTransientError(e: { error: string }): void;
}

export const noEvents: SyncEvents = {
  batchStart() {},
  batchEnd() {},
  record() {},
  applied() {},
  incomparableVersions() {},
  retry() {},
  dlq() {},
  kafkaTransientError() {},
};

/** Fan one event out to several listeners. */
export function combineEvents(...listeners: Partial<SyncEvents>[]): SyncEvents {
  const out = {} as SyncEvents;
  for (const name of Object.keys(noEvents) as (keyof SyncEvents)[]) {
    const fns = listeners.map((l) => l[name]).filter((f): f is NonNullable<typeof f> => typeof f === 'function');
    (out as unknown as Record<string, (e: unknown) => void>)[name] = (e: unknown) => {
      for (const fn of fns) (fn as (e: unknown) => void)(e);
    };
  }
  return out;
}
