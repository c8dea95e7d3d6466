// One partition batch through decode -> map -> apply, ending with the offset that may be
// committed. The stage executor's tolerance table:
//   decode/map failure, not retriable  -> DLQ (tolerance all) or stop (tolerance none)
//   decode failure, retriable          -> cut the batch there; redeliver from that offset
//   apply failure, retriable           -> back off and retry that user; others go on; after
//                                         maxApplyRetryMs of failing, its records go to the DLQ
//   apply failure, not retriable       -> the user's records go to the DLQ (or stop)
//   apply failure, CognitoAccessError  -> stop the pipeline: no record is at fault, so nothing
//                                         goes to the DLQ and nothing of the batch is committed
//   apply failure, AliasWaitError      -> the user waits (waiting-memberships.ts) for the user
//                                         holding its alias value; retried when that one applies
import type { ChangeEvent, DecodeOutcome, RawRecord, Result, SkipReason, UserIntent } from '../core/types.js';
import { CognitoAccessError, MissingUserError, SyncError, errorMessage } from '../errors.js';
import { positionOf, type DeadLetterSink } from '../adapters/kafka/dlq-producer.js';
import type { UserApplier } from '../pipeline/apply/user-applier.js';
import { OffsetTracker } from '../pipeline/commit/offset-tracker.js';
import { DEFAULT_MAX_APPLY_RETRY_MS } from '../config/schema.js';
import { backoffDelay } from './backoff.js';
import { forEachLimit } from './concurrency.js';
import { batchGate } from './batch-gate.js';
import { WritesStoppedError, runGated, type WriteGate } from '../pipeline/apply/write-gate.js';
import type { SyncEvents } from './instrumentation.js';
import type { Clock } from '../pipeline/apply/token-bucket.js';
import type { Waiting, WaitingMemberships } from './waiting-memberships.js';
import type { MappedEvent } from '../pipeline/map/map-event.js';
import { AliasWaitError } from '../pipeline/apply/alias-conflicts.js';

export type Decoded = Result<DecodeOutcome, SyncError>;

export interface Decoder {
  decode(raw: RawRecord): Promise<Decoded>;
}

export type MapFn = (event: ChangeEvent) => Result<MappedEvent, SyncError>;

export interface BatchControl {
  /** False once the partition was revoked or the consumer is stopping. */
  isActive(): boolean;
  heartbeat(): Promise<void>;
  /** The partition's high watermark when the batch was fetched (how far behind it is). */
  highWatermark?: string;
  /**
   * Records the caller has decoded already (a DLQ re-drive decodes each to judge it first):
   * their result is used as is rather than decoded a second time.
   */
  decoded?: ReadonlyMap<RawRecord, Decoded>;
}

/**
 * The pipeline must stop: tolerance none met a poison record, the DLQ is unwritable, or Cognito
 * cannot be used at all (CognitoAccessError: credentials, permissions, an unknown pool).
 */
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
  /**
   * Whether a users partition of the whole consumer group (other instances' too) is still behind
   * by the group's committed offsets: another instance may yet create a waiting membership's
   * user. Asked only before a membership would be given up on for missingUserTimeoutMs; unset
   * (one process, a re-drive): only this member's own users partitions count.
   */
  groupUsersBehind?: () => Promise<boolean>;
  /** A user whose apply keeps failing with retriable errors goes to the DLQ after this long. */
  maxApplyRetryMs?: number;
  /**
   * Where memberships for users not in Cognito yet wait, without holding their partition
   * (waiting-memberships.ts). Without it they are retried in their batch until
   * missingUserTimeoutMs (a DLQ re-drive of one record).
   */
  waiting?: WaitingMemberships;
  /** The mapping's users table and, for a users record that goes to the DLQ, its username. */
  users?: { table: string; usernameOf: (event: ChangeEvent) => string | undefined };
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
  /**
   * Next offset to fetch: past the batch's memberships that wait for their users (whose
   * records hold commitOffset back); null when nothing new may be fetched past.
   */
  resumeOffset: string | null;
  /** So many memberships of this partition wait that it should pause until they settle. */
  backpressure: boolean;
  /** True when the batch ended early (revoked/stopping or a retriable decode failure). */
  incomplete: boolean;
  /** Distinct users touched and Cognito write calls made. */
  users: number;
  calls: number;
}

/** Users whose own record went to the DLQ, remembered for the memberships waiting for them. */
const DEAD_LETTERED_USERS_KEPT = 100_000;

export class BatchProcessor {
  /** Users partitions' lag after their last batch here, and when that was. */
  private readonly usersLag = new Map<string, { lag: bigint; at: number }>();
  /**
   * Users partitions assigned here whose lag is not known yet (no batch read, no lag seeded):
   * behind until told otherwise, so that a membership is never given up on while its user's
   * partition has not even been fetched (4 of 12 partitions in flight, a backlog behind quotas).
   */
  private readonly usersLagUnknown = new Set<string>();
  /** Since when no users partition here has a backlog (undefined while one has). */
  private caughtUpSince: number | undefined;
  /** username -> "topic:partition:offset" of its record in the DLQ. */
  private readonly deadLetteredUsers = new Map<string, string>();
  /** An error from work applied outside a batch (a hand-over) that must stop the pipeline. */
  private fatal: Error | undefined;
  /**
   * The partitions ("topic:partition") a hand-over may write for: those of the last assignment,
   * none while the group rebalances (undefined: the next owner may already be reading them).
   * Everything until a consumer says otherwise (tools and benches without a group).
   */
  private owned: ((partition: string) => boolean) | undefined = () => true;

  constructor(private readonly o: BatchProcessorOptions) {}

  async process(records: RawRecord[], control: BatchControl): Promise<BatchOutcome> {
    if (this.fatal) throw this.fatal;
    if (this.o.waiting) await this.sweep();
    const tracker = new OffsetTracker();
    const partitionKey = records.length > 0 ? `${records[0]!.topic}:${records[0]!.partition}` : '';
    let usersPartition = false;
    const users = new Map<string, UserWork>();
    const pendingByRecord = new Map<string, number>();
    /** The Debezium op of each record that became work, for the records metric. */
    const opByRecord = new Map<string, ChangeEvent['op']>();
    let cut = false;

    for (const record of records) {
      tracker.track(record.offset);
      const decoded = control.decoded?.get(record) ?? (await this.o.decoder.decode(record));
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
        this.o.events.record({
          topic: record.topic,
          partition: record.partition,
          op: 'none',
          outcome: 'skipped',
          reason: outcome.reason,
        });
        tracker.done(record.offset);
        continue;
      }
      const event = outcome.event;
      const isUsers = event.table === this.o.users?.table;
      if (isUsers && !usersPartition) {
        usersPartition = true;
        // A users batch in flight is a backlog until it ends: its users may be created minutes
        // from now (a burst applied at the granted rate), so memberships waiting for them must
        // not time out on the lag this partition had after its previous batch (often 0).
        this.noteBatchLag(partitionKey, control.highWatermark, BigInt(record.offset));
      }
      const mapped = this.o.map(event);
      if (!mapped.ok) {
        await this.deadLetter(record, mapped.error.withOrigin(record), event.op);
        if (isUsers) this.rememberDeadLettered(this.o.users?.usernameOf(event), record);
        tracker.done(record.offset);
        continue;
      }
      if (mapped.value.kind === 'skip') {
        this.o.events.record({
          topic: record.topic,
          partition: record.partition,
          op: event.op,
          outcome: 'skipped',
          reason: mapped.value.reason,
        });
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
      else {
        pendingByRecord.set(record.offset, names.size);
        opByRecord.set(record.offset, event.op);
      }
    }

    const finishRecord = (record: RawRecord): void => {
      const left = (pendingByRecord.get(record.offset) ?? 1) - 1;
      if (left <= 0) {
        pendingByRecord.delete(record.offset);
        tracker.done(record.offset);
      } else pendingByRecord.set(record.offset, left);
    };

    const waiting = this.o.waiting;
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
    // The first error that stops the pipeline: no new user starts once it is seen.
    let stop: CognitoAccessError | undefined;
    /** When each user's apply first failed with a retriable error (its retry cap counts from there). */
    const failingSince = new Map<string, number>();
    /** A worker threw (tolerance none met a poison record, the DLQ failed): the batch ends. */
    let failedWith: unknown;
    const active = (): boolean => !lostGroup && stop === undefined && control.isActive();
    // No Cognito call starts for this batch once it may not go on (write-gate.ts).
    const gate = batchGate(() => ({ lostGroup, stopping: stop !== undefined, active: control.isActive(), failedWith }));
    const beat = async (): Promise<void> => {
      if (this.o.clock.now() - lastBeat < 1000) return;
      lastBeat = this.o.clock.now();
      try {
        await control.heartbeat();
      } catch {
        lostGroup = true;
        this.revokeAll();
      }
    };
    const ticker = setInterval(() => void beat(), 1000);
    ticker.unref();
    try {
      for (let attempt = 1; todo.length > 0; attempt++) {
        const failed: UserWork[] = [];
        let lastError: Error | undefined;
        await forEachLimit(
          todo,
          this.o.concurrency,
          async (work) => {
            if (!active()) {
              failed.push(work);
              return;
            }
            // Memberships behind others of the same user that wait, or while that user is being
            // applied (maybe created: they join the creation), wait too.
            if (
              waiting &&
              (waiting.has(work.username) || this.o.applier.busy(work.username)) &&
              work.intents.every((i) => i.kind === 'group')
            ) {
              waiting.park(work.username, work.intents, work.records, this.o.clock.now());
              for (const record of work.records) finishRecord(record);
              return;
            }
            try {
              const report = await runGated(gate, () => this.o.applier.apply(work.username, work.intents));
              if (report.incomparableVersions)
                this.o.events.incomparableVersions({ count: report.incomparableVersions });
              if (waiting?.has(work.username)) void this.handOver(work.username);
              this.handOverWaitersOn(work.username);
              const applied = report.calls.length > 0;
              calls += report.calls.length;
              const sourceTsMs = work.intents.reduce<number | null>(
                (m, i) => (i.sourceTsMs !== null && (m === null || i.sourceTsMs > m) ? i.sourceTsMs : m),
                null,
              );
              if (applied)
                this.o.events.applied({
                  username: work.username,
                  calls: report.calls,
                  sourceTsMs,
                  ...(report.droppedGroupGuards ? { droppedGroupGuards: report.droppedGroupGuards } : {}),
                  ...(report.incomplete ? { incomplete: report.incomplete } : {}),
                });
              for (const record of work.records) {
                this.o.events.record({
                  topic: record.topic,
                  partition: record.partition,
                  op: opByRecord.get(record.offset) ?? 'none',
                  outcome: applied ? 'applied' : 'skipped',
                  reason: applied ? undefined : (report.skips[report.skips.length - 1] ?? 'no-change'),
                });
                finishRecord(record);
              }
            } catch (error) {
              const syncError =
                error instanceof SyncError
                  ? error
                  : new SyncError(errorMessage(error), { stage: 'apply', cause: error });
              if (syncError instanceof WritesStoppedError) {
                failed.push(work); // redone by whoever owns the partition next
                return;
              }
              if (syncError instanceof CognitoAccessError) {
                stop ??= syncError;
                failed.push(work);
                return;
              }
              if (syncError instanceof MissingUserError && waiting) {
                waiting.park(work.username, work.intents, work.records, this.o.clock.now());
                for (const record of work.records) finishRecord(record);
                return;
              }
              if (syncError instanceof AliasWaitError && waiting) {
                waiting.park(work.username, work.intents, work.records, this.o.clock.now(), false, syncError.holder);
                for (const record of work.records) finishRecord(record);
                return;
              }
              const now = this.o.clock.now();
              const since = failingSince.get(work.username) ?? now;
              failingSince.set(work.username, since);
              // A membership waiting for its user has its own bound; any other retriable failure
              // may hold its user (and so the partition's commit) for maxApplyRetryMs at most.
              const gaveUp =
                syncError instanceof MissingUserError
                  ? now - startedAt >= (this.o.missingUserTimeoutMs ?? 60_000)
                  : now - since >= (this.o.maxApplyRetryMs ?? DEFAULT_MAX_APPLY_RETRY_MS);
              if (syncError.retriable && !gaveUp) {
                lastError = syncError;
                failed.push(work);
                return;
              }
              for (const record of work.records) {
                await this.deadLetter(record, syncError, 'none');
                finishRecord(record);
              }
              if (work.intents.some((i) => i.kind === 'upsert'))
                this.rememberDeadLettered(work.username, work.records[0]);
            } finally {
              await beat();
            }
          },
          (error) => (failedWith ??= error),
        );
        if (stop) {
          // One sentence naming the cause (run prints it after "the sync stopped: ").
          throw new PipelineStoppedError(
            `${stop.reason}; fix that and run again (this batch was neither committed nor dead-lettered)`,
            {
              stage: 'apply',
              cause: stop,
              context: stop.context,
            },
          );
        }
        todo = failed;
        if (todo.length === 0 || !active()) break;
        const delayMs = backoffDelay(attempt);
        this.o.events.retry({ stage: 'apply', attempt, delayMs, error: lastError ?? new Error('revoked') });
        await this.waitWithHeartbeats(delayMs, control);
      }
    } finally {
      clearInterval(ticker);
    }

    if (usersPartition && records.length > 0) {
      // A batch cut short (retriable failure, revoked, stopping) leaves its users to be read
      // again: still behind from its first record.
      const unfinished = cut || todo.length > 0;
      const next = unfinished ? BigInt(records[0]!.offset) : BigInt(records[records.length - 1]!.offset) + 1n;
      this.noteBatchLag(partitionKey, control.highWatermark, next);
    }
    const resumeOffset = tracker.committable();
    const floor = waiting?.floor(partitionKey) ?? null;
    const commitOffset =
      floor !== null && resumeOffset !== null && BigInt(floor) < BigInt(resumeOffset) ? floor : resumeOffset;
    return {
      commitOffset,
      resumeOffset,
      backpressure: waiting?.overloaded(partitionKey) ?? false,
      incomplete: cut || todo.length > 0,
      users: users.size,
      calls,
    };
  }

  /**
   * The applier's hook right before it creates a user: what waits for that user joins the
   * creation; its records settle when the creation succeeded, or wait on.
   */
  joinCreation(username: string): { intents: UserIntent[]; settle: (applied: boolean) => void } | undefined {
    // While the group rebalances, role rows may be another member's already: they stay waiting
    // (after the new assignment only rows of partitions still here wait, dropPartitions).
    if (this.owned === undefined) return undefined;
    const waiting = this.o.waiting;
    const entry = waiting?.take(username);
    if (!waiting || !entry) return undefined;
    return {
      intents: entry.intents,
      settle: (applied) => {
        if (!applied) return waiting.putBack(entry, this.o.clock.now());
        this.settleWaiting(waiting, entry, 'applied');
      },
    };
  }

  /** Waiting records that ended applied or skipped: counted, and no longer holding their partitions' commits. */
  private settleWaiting(
    waiting: WaitingMemberships,
    entry: Waiting,
    outcome: 'applied' | 'skipped',
    reason?: SkipReason,
  ): void {
    for (const record of entry.records)
      this.o.events.record({ topic: record.topic, partition: record.partition, op: 'none', outcome, reason });
    waiting.settle(entry.records);
  }

  private rememberDeadLettered(username: string | undefined, record: RawRecord | undefined): void {
    if (username === undefined || record === undefined) return;
    this.deadLetteredUsers.delete(username);
    this.deadLetteredUsers.set(username, positionOf(record));
    if (this.deadLetteredUsers.size > DEAD_LETTERED_USERS_KEPT)
      this.deadLetteredUsers.delete(this.deadLetteredUsers.keys().next().value as string);
  }

  /**
   * A users partition's lag as a batch of it sees it: records from `next` (the first not yet
   * applied) to the high watermark it was fetched with. Not for a partition this member no
   * longer owns (its next owner reads it; dropPartitions forgot it).
   */
  private noteBatchLag(key: string, highWatermark: string | undefined, next: bigint): void {
    if (highWatermark === undefined) return;
    if (this.owned !== undefined && !this.owned(key)) return;
    const lag = BigInt(highWatermark) - next;
    this.usersLag.set(key, { lag: lag < 0n ? 0n : lag, at: this.o.clock.now() });
    this.usersLagUnknown.delete(key);
  }

  /** A users partition here still has a backlog, or is not known yet: a waiting user may yet be created. */
  private usersBehind(): boolean {
    if (this.usersLagUnknown.size > 0) return true;
    for (const { lag } of this.usersLag.values()) if (lag > 0n) return true;
    return false;
  }

  /** The users partitions assigned here ("topic:partition"): each is behind until its lag is known. */
  expectUsersPartitions(keys: Iterable<string>): void {
    for (const key of keys) if (!this.usersLag.has(key)) this.usersLagUnknown.add(key);
  }

  /** Users partitions whose lag is still unknown (to seed from the group's committed offsets). */
  get usersPartitionsUnknown(): string[] {
    return [...this.usersLagUnknown];
  }

  /** A users partition's lag from outside a batch (the group's committed offset vs the log end). A batch's own figure wins. */
  noteUsersLag(key: string, lag: bigint): void {
    if (!this.usersLagUnknown.delete(key)) return;
    this.usersLag.set(key, { lag: lag < 0n ? 0n : lag, at: this.o.clock.now() });
  }

  /**
   * The group is rebalancing (or a heartbeat failed): hand-overs start no Cognito call until the
   * new assignment is known (dropPartitions), as a batch's write gate closes for its batch.
   */
  revokeAll(): void {
    this.owned = undefined;
  }

  /** After a rebalance: forget what waits in, and the lag of, partitions this member lost. */
  dropPartitions(owned: (partition: string) => boolean): void {
    this.owned = owned;
    this.o.waiting?.dropPartitions(owned);
    for (const key of [...this.usersLag.keys()]) if (!owned(key)) this.usersLag.delete(key);
    for (const key of [...this.usersLagUnknown]) if (!owned(key)) this.usersLagUnknown.delete(key);
  }

  /**
   * Re-checks the memberships whose time has come (run before each batch and from the
   * service's timer): while the users topic here has a backlog, the creation will hand them
   * over; otherwise they are applied if their user exists now, dead-lettered once it cannot
   * come any more (its own record is in the DLQ, or missingUserTimeoutMs passed), and
   * re-checked later otherwise.
   */
  async sweep(): Promise<void> {
    const waiting = this.o.waiting;
    if (!waiting || waiting.users === 0) return;
    const now = this.o.clock.now();
    const behind = this.usersBehind();
    // missingUserTimeoutMs counts from when the users topic here caught up, not from when the
    // membership was parked: one parked early in a long backlog is not given up on at once.
    if (behind) this.caughtUpSince = undefined;
    else this.caughtUpSince ??= now;
    // Asked once per sweep, and only if a membership is about to be given up on for a timeout.
    let groupBehind: Promise<boolean> | undefined;
    const othersBehind = (): Promise<boolean> =>
      (groupBehind ??= this.o.groupUsersBehind
        ? // Not knowing is not "caught up": wait on, the next sweep asks again.
          this.o.groupUsersBehind().catch(() => true)
        : Promise.resolve(false));
    for (const entry of waiting.due(now, 64)) {
      if (entry.holder !== undefined) {
        // An alias wait: the resolver bounds it (processing.aliasWaitMs), backlog or not.
        this.o.applier.state.forget(entry.username);
        await this.handOver(entry.username);
        continue;
      }
      if (behind) {
        entry.checkAt = now + 1000;
        continue;
      }
      const origin = this.deadLetteredUsers.get(entry.username);
      const waitedSince = Math.max(entry.since, this.caughtUpSince ?? now);
      let expired = origin !== undefined || now - waitedSince >= (this.o.missingUserTimeoutMs ?? 60_000);
      // Caught up here, but another instance of the group may still be creating the user from a
      // users partition it reads: the timeout counts again from when the whole group caught up.
      if (expired && origin === undefined && (await othersBehind())) {
        this.caughtUpSince = undefined;
        expired = false;
      }
      // A re-check reads the user: "absent" in the pool state may be old (another instance, or
      // the migration trigger, may have created it since).
      this.o.applier.state.forget(entry.username);
      await this.handOver(entry.username, expired ? (origin ?? 'timeout') : undefined);
    }
  }

  /**
   * Applies what waits for a user (it was just created, or a re-check is due). `giveUp`: the
   * user cannot come any more ("topic:partition:offset" of its DLQ record, or "timeout"): a
   * membership still without its user goes to the DLQ saying why.
   */
  async handOver(username: string, giveUp?: string): Promise<void> {
    const waiting = this.o.waiting;
    const entry = waiting?.take(username);
    if (!waiting || !entry) return;
    // A hand-over writes for role rows of its partitions: once one of them may belong to another
    // member, its next owner re-reads them from the last commit, and a call started here after
    // that could put an older membership over a newer one (write-gate.ts).
    const gate: WriteGate = {
      closedBecause: () => {
        if (this.fatal) return 'the pipeline is stopping';
        const owned = this.owned;
        if (owned === undefined) return 'the consumer group is rebalancing';
        const lost = entry.records.find((r) => !owned(`${r.topic}:${r.partition}`));
        return lost ? `partition ${lost.topic}:${lost.partition} is assigned elsewhere now` : undefined;
      },
    };
    try {
      const report = await runGated(gate, () => this.o.applier.apply(username, entry.intents));
      if (report.calls.length > 0) this.settleWaiting(waiting, entry, 'applied');
      else this.settleWaiting(waiting, entry, 'skipped', report.skips[report.skips.length - 1] ?? 'no-change');
      this.handOverWaitersOn(username);
    } catch (error) {
      const syncError =
        error instanceof SyncError ? error : new SyncError(errorMessage(error), { stage: 'apply', cause: error });
      if (syncError instanceof MissingUserError && giveUp !== undefined) {
        const why =
          giveUp === 'timeout'
            ? `its user ${username} did not appear in Cognito within ${this.o.missingUserTimeoutMs ?? 60_000} ms of the users topic being caught up`
            : `its user ${username} is not in Cognito: the user's own record went to the DLQ (${giveUp}); re-drive both once the row is fixed`;
        return this.deadLetterWaiting(
          waiting,
          entry,
          new MissingUserError(`membership not applied: ${why}`, { username }),
        );
      }
      if (syncError instanceof AliasWaitError) {
        waiting.putBack(entry, this.o.clock.now(), syncError.holder);
        return;
      }
      if (syncError instanceof WritesStoppedError) return this.stoppedHandOver(waiting, entry);
      if (syncError instanceof CognitoAccessError)
        this.fatal ??= new PipelineStoppedError(syncError.reason, {
          stage: 'apply',
          cause: syncError,
          context: syncError.context,
        });
      // Still missing, or a retriable failure: wait on; anything else is this record's fault.
      if (syncError instanceof MissingUserError || syncError.retriable || syncError instanceof CognitoAccessError) {
        waiting.putBack(entry, this.o.clock.now());
        return;
      }
      await this.deadLetterWaiting(waiting, entry, syncError);
    }
  }

  /**
   * A hand-over whose gate closed: its rows of partitions still here wait on; rows of partitions
   * gone elsewhere are dropped (their offsets went with dropPartitions, their next owner re-reads
   * them). While the group rebalances nothing is known yet: all of it waits, and the coming
   * dropPartitions sorts it.
   */
  private stoppedHandOver(waiting: WaitingMemberships, entry: Waiting): void {
    const owned = this.owned;
    if (owned !== undefined) {
      entry.records = entry.records.filter((r) => owned(`${r.topic}:${r.partition}`));
      if (entry.records.length === 0) return;
    }
    waiting.putBack(entry, this.o.clock.now());
  }

  /** A user's change applied: users waiting for it to free an alias value try again. */
  private handOverWaitersOn(holder: string): void {
    const waiting = this.o.waiting;
    if (!waiting) return;
    for (const username of waiting.waitingOn(holder)) void this.handOver(username);
  }

  /** Waiting records that end in the DLQ; if the DLQ cannot take them, they wait on and the pipeline stops. */
  private async deadLetterWaiting(waiting: WaitingMemberships, entry: Waiting, error: SyncError): Promise<void> {
    try {
      for (const record of entry.records) await this.deadLetter(record, error, 'none');
      waiting.settle(entry.records);
    } catch (fatal) {
      this.fatal ??= fatal as Error;
      waiting.putBack(entry, this.o.clock.now());
    }
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
    // A replay meets a record the DLQ already holds: it is there, once, with its reason.
    if (this.o.dlq.holds?.(record)) {
      this.o.events.record({
        topic: record.topic,
        partition: record.partition,
        op,
        outcome: 'skipped',
        reason: 'already-dead-lettered',
      });
      return;
    }
    if (this.o.tolerance === 'none') {
      throw new PipelineStoppedError(`stopping on poison record (dlq.tolerance=none): ${error.message}`, {
        stage: error.stage,
        cause: error,
        context: error.context,
      });
    }
    await this.o.dlq.send(record, error);
    this.o.events.dlq({
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      stage: error.stage,
      error,
    });
    this.o.events.record({ topic: record.topic, partition: record.partition, op, outcome: 'dlq', reason: error.stage });
  }
}
