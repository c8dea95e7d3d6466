// The runtime half of "an update that races a just-in-time creation is not lost"
// (createPolicy existing-only).
//
// The race: the User Migration Lambda reads the legacy row (state A), the legacy application
// commits an update (state B), the sync consumes B while the user does not exist yet and skips
// it ('not-existing'), then Cognito finishes creating the user from A. B is lost: nothing
// will ever bring it.
//
// The fix: a 'not-existing' skip is only final once the event is older than the longest a
// just-in-time creation can take from its read to the created user. Cognito gives a trigger 5 s
// to answer and creates the user right after, so with graceMs = 10 s (margin for clock skew
// between the database, whose commit time Debezium reports, and this host):
//   - an event whose commit is older than graceMs (backfills, replays, a lagging consumer) is
//     skipped at once: any creation that read the row before that commit has finished, and its
//     user was there to be seen;
//   - a fresh one waits until commit + graceMs and is planned again. If the user now exists, it
//     holds the Lambda's read position: B applies unless the read already saw it (B's change
//     is past that position, or B was writing the row when it was read and the Lambda stamped
//     the cautious (0, lsn); see PgLegacyDatabase.inSnapshot).
// Offsets are not committed while a record waits (the BatchProcessor awaits apply), so a crash
// during the wait redelivers the event and the check happens again.
//
// graceMs must stay well below kafka.sessionTimeoutMs (30 s by default): the batch does not
// heartbeat while an apply waits.
import type { UserIntent } from '../core/types.js';
import { UserApplier, type UserApplierOptions, type UserApplyReport } from '../pipeline/apply/user-applier.js';
import { systemClock, type Clock } from '../pipeline/apply/token-bucket.js';

export const DEFAULT_JIT_GRACE_MS = 10_000;

export interface JitGraceOptions {
  graceMs: number;
  /** Sleeps (injected in tests). */
  clock?: Clock;
  /** Wall-clock time in ms since the epoch, comparable to Debezium's source.ts_ms. */
  wallNow?: () => number;
  /** Called when a skip is deferred (metrics / logs). */
  onDefer?: (username: string, waitMs: number) => void;
}

export class JitGraceApplier extends UserApplier {
  private readonly clock: Clock;
  private readonly wallNow: () => number;

  constructor(
    applier: Omit<UserApplierOptions, 'waitForMissingUsers' | 'trustAbsence'>,
    private readonly grace: JitGraceOptions,
  ) {
    // Under existing-only absent users are the rule: nothing waits for them, and "absent" is
    // always read, never taken from the pool state (the trigger creates users all day).
    super({ ...applier, waitForMissingUsers: false, trustAbsence: false });
    this.clock = grace.clock ?? systemClock;
    this.wallNow = grace.wallNow ?? Date.now;
  }

  override async apply(username: string, intents: UserIntent[]): Promise<UserApplyReport> {
    const first = await super.apply(username, intents);
    if (first.calls.length > 0 || !first.skips.includes('not-existing')) return first;
    const waitMs = this.waitFor(intents);
    if (waitMs <= 0) return first;
    this.grace.onDefer?.(username, waitMs);
    await this.clock.sleep(waitMs);
    this.state.forget(username); // read again: the trigger may have created the user meanwhile
    const second = await super.apply(username, intents);
    return { username, calls: second.calls, skips: second.skips, reads: first.reads + second.reads };
  }

  /** How long until the newest intent's commit is older than the grace period. */
  private waitFor(intents: readonly UserIntent[]): number {
    let newest: number | null = null;
    for (const intent of intents)
      if (intent.sourceTsMs !== null && (newest === null || intent.sourceTsMs > newest)) newest = intent.sourceTsMs;
    // No commit time (a record form without source.ts_ms): assume it was just committed.
    const committed = newest ?? this.wallNow();
    return Math.min(this.grace.graceMs, committed + this.grace.graceMs - this.wallNow());
  }
}
