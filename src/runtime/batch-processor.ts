// One partition batch through decode -> map -> apply, ending with the offset that may be
// committed. The stage executor's tolerance table:
//   decode/map failure, not retriable  -> DLQ (tolerance all) or stop (tolerance none)
//   decode failure, retriable          -> cut the batch there; redeliver from that offset
//   apply failure, retriable           -> back off and retry that user; others go on
//   apply failure, not retriable       -> the user's records go to the DLQ (or stop)
import type { ChangeEvent, DecodeOutcome, RawRecord, Result, UserIntent } from '../core/types.js';
import { MissingUserError, SyncError, errorMessage } from '../errors.js';
import type { DeadLetterSink } from '../adapters/kafka/dlq-producer.js';
import type { UserApplier } from '../pipeline/apply/user-applier.js';
import { OffsetTracker } from '../pipeline/commit/offset-tracker.js';
import { backoffDelay } from './backoff.js';
import { forEachLimit } from './concurrency.js';
import type { SyncEvents } from './instrumentation.js';
import type { Clock } from '../pipeline/apply/token-bucket.js';
import type { MappedEvent } from '../pipeline/map/map-event.js';

export interface Decoder {
  decode(raw: RawRecord): Promise<Result<DecodeOutcome, SyncError>>;
}

export type MapFn = (event: ChangeEvent) => Result<MappedEvent, SyncError>;

export interface BatchControl {
  /** False once the partition was revoked or the consumer is stopping. */
  isActive(): boolean;
  heartbeat(): Promise<void>;
}

/** The pipeline must stop: tolerance none met a poison record, or the DLQ is unwritable. */
export class PipelineStoppedError extends SyncError {}

export interface BatchProcessorOptions {
  decoder: Decoder;
  map: MapFn;
  applier: UserApplier;
  dlq: DeadLetterSink;
  tolerance: 'all' | 'none';
  concurrency: number;
  /** A membership for a user that never appears goes to the DLQ after this long. */
  missingUserTimeoutMs?: number;
  events: SyncEvents;
  clock: Clock;
}

interface UserWork {
  username: string;
  intents: UserIntent[];
  records: RawRecord[];
}

export interface BatchOutcome {
  /** Next offset to read, for commit; null when nothing new is committable. */
  commitOffset: string | null;
  /** True when the batch ended early (revoked/stopping or a retriable decode failure). */
  incomplete: boolean;
  /** Distinct users touched and Cognito write calls made. */
  users: number;
  calls: number;
}

export class BatchProcessor {
  constructor(private readonly o: BatchProcessorOptions) {}

  async process(records: RawRecord[], control: BatchControl): Promise<BatchOutcome> {
    const tracker = new OffsetTracker();
    const users = new Map<string, UserWork>();
    const pendingByRecord = new Map<string, number>();
    let cut = false;

    for (const record of records) {
      tracker.track(record.offset);
      const decoded = await this.o.decoder.decode(record);
      if (!decoded.ok) {
        if (decoded.error.retriable) {
          cut = true; // e.g. schema registry down: this record and the rest come again
          break;
        }
        await this.deadLetter(record, decoded.error, 'none');
        tracker.done(record.offset);
        continue;
      }
      const outcome = decoded.value;
      if (outcome.kind === 'skip') {
        this.o.events.record({ topic: record.topic, partition: record.partition, op: 'none', outcome: 'skipped', reason: outcome.reason });
        tracker.done(record.offset);
        continue;
      }
      const event = outcome.event;
      const mapped = this.o.map(event);
      if (!mapped.ok) {
        await this.deadLetter(record, mapped.error.withOrigin(record), event.op);
        tracker.done(record.offset);
        continue;
      }
      if (mapped.value.kind === 'skip') {
        this.o.events.record({ topic: record.topic, partition: record.partition, op: event.op, outcome: 'skipped', reason: mapped.value.reason });
        tracker.done(record.offset);
        continue;
      }
      const names = new Set<string>();
      for (const intent of mapped.value.intents) {
        const username = intent.kind === 'upsert' ? intent.user.username : intent.username;
        let work = users.get(username);
        if (!work) users.set(username, (work = { username, intents: [], records: [] }));
        work.intents.push(intent);
        if (!names.has(username)) work.records.push(record);
        names.add(username);
      }
      if (names.size === 0) tracker.done(record.offset);
      else pendingByRecord.set(record.offset, names.size);
    }

    const finishRecord = (record: RawRecord): void => {
      const left = (pendingByRecord.get(record.offset) ?? 1) - 1;
      if (left <= 0) {
        pendingByRecord.delete(record.offset);
        tracker.done(record.offset);
      } else pendingByRecord.set(record.offset, left);
    };

    let todo = [...users.values()];
    let calls = 0;
    const startedAt = this.o.clock.now();
    // A batch can take longer than the group's session timeout (a backlog applied at the rate
    // the budget allows), and so can one user (its calls wait for tokens or back off on
    // throttling): heartbeat while applying, at most once a second, after each user and from a
    // timer in between. A failed heartbeat means the group is rebalancing: start no new users
    // and hand back what is done.
    let lastBeat = startedAt;
    let lostGroup = false;
    const active = (): boolean => !lostGroup && control.isActive();
    const beat = async (): Promise<void> => {
      if (this.o.clock.now() - lastBeat < 1000) return;
      lastBeat = this.o.clock.now();
      try {
        await control.heartbeat();
      } catch {
        lostGroup = true;
      }
    };
    const ticker = setInterval(() => void beat(), 1000);
    ticker.unref();
    try {
      for (let attempt = 1; todo.length > 0; attempt++) {
        const failed: UserWork[] = [];
        let lastError: Error | undefined;
        await forEachLimit(todo, this.o.concurrency, async (work) => {
          if (!active()) {
            failed.push(work);
            return;
          }
          try {
            const report = await this.o.applier.apply(work.username, work.intents);
            const applied = report.calls.length > 0;
            calls += report.calls.length;
            const sourceTsMs = work.intents.reduce<number | null>((m, i) => (i.sourceTsMs !== null && (m === null || i.sourceTsMs > m) ? i.sourceTsMs : m), null);
            if (applied) this.o.events.applied({ username: work.username, calls: report.calls, sourceTsMs, ...(report.droppedGroupGuards ? { droppedGroupGuards: report.droppedGroupGuards } : {}) });
            for (const record of work.records) {
              this.o.events.record({
                topic: record.topic,
                partition: record.partition,
                op: 'none',
                outcome: applied ? 'applied' : 'skipped',
                reason: applied ? undefined : (report.skips[report.skips.length - 1] ?? 'no-change'),
              });
              finishRecord(record);
            }
          } catch (error) {
            const syncError = error instanceof SyncError ? error : new SyncError(errorMessage(error), { stage: 'apply', cause: error });
            const gaveUp = syncError instanceof MissingUserError && this.o.clock.now() - startedAt >= (this.o.missingUserTimeoutMs ?? 60_000);
            if (syncError.retriable && !gaveUp) {
              lastError = syncError;
              failed.push(work);
              return;
            }
            for (const record of work.records) {
              await this.deadLetter(record, syncError, 'none');
              finishRecord(record);
            }
          } finally {
            await beat();
          }
        });
        todo = failed;
        if (todo.length === 0 || !active()) break;
        const delayMs = backoffDelay(attempt);
        this.o.events.retry({ stage: 'apply', attempt, delayMs, error: lastError ?? new Error('revoked') });
        await this.waitWithHeartbeats(delayMs, control);
      }
    } finally {
      clearInterval(ticker);
    }

    return { commitOffset: tracker.committable(), incomplete: cut || todo.length > 0, users: users.size, calls };
  }

  private async waitWithHeartbeats(delayMs: number, control: BatchControl): Promise<void> {
    const until = this.o.clock.now() + delayMs;
    while (control.isActive()) {
      const left = until - this.o.clock.now();
      if (left <= 0) return;
      await this.o.clock.sleep(Math.min(left, 1000));
      await control.heartbeat();
    }
  }

  private async deadLetter(record: RawRecord, error: SyncError, op: ChangeEvent['op'] | 'none'): Promise<void> {
    error.withOrigin(record);
    if (this.o.tolerance === 'none') {
      throw new PipelineStoppedError(`stopping on poison record (dlq.tolerance=none): ${error.message}`, { stage: error.stage, cause: error, context: error.context });
    }
    await this.o.dlq.send(record, error);
    this.o.events.dlq({ topic: record.topic, partition: record.partition, offset: record.offset, stage: error.stage, error });
    this.o.events.record({ topic: record.topic, partition: record.partition, op, outcome: 'dlq', reason: error.stage });
  }
}
