// Apply the intents of one user, in order: read Cognito once, plan, execute the calls.
// Races with other writers (a just-in-time migration creating the user, an admin deleting
// it) show up as UsernameExists / UserNotFound: re-read and re-plan, a bounded number of times.
import type { CognitoCall, CurrentUser, SkipReason, UserIntent, Version } from '../../core/types.js';
import { CognitoApiError, MissingUserError, SyncError, errorMessage } from '../../errors.js';
import type { CognitoGateway } from '../../adapters/cognito/cognito-gateway.js';
import type { VersionCache } from './version-cache.js';
import { MemoryDeletedUsers, type DeletedUsersStore } from '../../adapters/kafka/deleted-users-log.js';

export interface PlanOutcome {
  calls: CognitoCall[];
  skip?: SkipReason;
  /** Groups whose per-group version guard was dropped (groups.versionAttribute overflow). */
  droppedGroupGuards?: string[];
}

/** The pure planner, bound to the mapping's policies. */
export type PlanFn = (current: CurrentUser | null, intent: UserIntent, deletedVersion: Version | undefined) => PlanOutcome;
export type CoalesceFn = (intents: UserIntent[]) => UserIntent[];

export interface UserApplyReport {
  username: string;
  calls: CognitoCall['api'][];
  skips: SkipReason[];
  reads: number;
  /** Groups whose version guard no longer fit in groups.versionAttribute (see group-versions.ts). */
  droppedGroupGuards?: string[];
}

type AttributesCall = Extract<CognitoCall, { api: 'AdminUpdateUserAttributes' }>;

/**
 * Cognito after a group intent's membership call and its (deferred) per-group versions write:
 * later group intents of the same batch are for other groups, so this local view replaces a
 * re-read.
 */
const afterGroupPlan = (current: CurrentUser, calls: readonly CognitoCall[], deferred: AttributesCall | undefined): CurrentUser => {
  let groups = current.groups;
  for (const call of calls) {
    if (call.api === 'AdminAddUserToGroup' && groups !== undefined && !groups.includes(call.group)) groups = [...groups, call.group];
    if (call.api === 'AdminRemoveUserFromGroup' && groups !== undefined) groups = groups.filter((g) => g !== call.group);
  }
  const next: CurrentUser = { ...current, attributes: deferred ? { ...current.attributes, ...deferred.attributes } : current.attributes };
  delete next.groupVersions; // re-parsed from the attribute
  if (groups !== undefined) next.groups = groups;
  return next;
};

const RACE_CODES = new Set(['UsernameExistsException', 'UserNotFoundException']);
const MAX_REPLANS = 3;

export class UserApplier {
  constructor(
    private readonly gateway: CognitoGateway,
    private readonly plan: PlanFn,
    private readonly coalesce: CoalesceFn,
    private readonly cache: VersionCache,
    private readonly manageGroups: boolean,
    /** createPolicy always: a membership for an absent user waits for the user to appear. */
    private readonly waitForMissingUsers = false,
    /** Durable versions of deletes, so a replayed older create cannot resurrect a user. */
    private readonly deletedUsers: DeletedUsersStore = new MemoryDeletedUsers(),
  ) {}

  async apply(username: string, intents: UserIntent[]): Promise<UserApplyReport> {
    const report: UserApplyReport = { username, calls: [], skips: [], reads: 0 };
    const work = this.coalesce(intents);
    const cached = this.cache.get(username);
    const newest = work.reduce<Version>((max, i) => (i.version > max ? i.version : max), '');
    // Role rows carry versions of their own, unrelated to the user row's: memberships always
    // go through the planner (which compares them with Cognito's groups, not with versions).
    if (cached && newest <= cached.version && !work.some((i) => i.kind === 'group')) {
      report.skips.push('stale-version');
      return report;
    }

    let current = await this.read(username, report);
    // With per-group versions, each applied group intent also writes the versions attribute.
    // Consecutive group intents of a user share one such write: each is planned against the
    // value the previous one would leave, and only the last value is written, after all their
    // membership calls (so a batch cut short leaves the old versions behind and is redone).
    let deferred: AttributesCall | undefined;
    for (const [index, intent] of work.entries()) {
      if (deferred && intent.kind !== 'group') {
        await this.execute(deferred, report);
        deferred = undefined;
        current = await this.read(username, report);
      }
      const step = await this.applyOne(username, intent, current, report, index < work.length - 1);
      current = step.current;
      if (step.deferred) deferred = step.deferred;
    }
    if (deferred) await this.execute(deferred, report);
    return report;
  }

  /** One call; a failure forgets the user's cached version and surfaces as a SyncError. */
  private async execute(call: CognitoCall, report: UserApplyReport): Promise<void> {
    try {
      await this.gateway.execute(call);
    } catch (error) {
      this.cache.forget(call.username);
      throw error instanceof SyncError ? error : new CognitoApiError(errorMessage(error), { api: 'unknown', code: 'Unknown', retriable: false, cause: error });
    }
    report.calls.push(call.api);
  }

  private async applyOne(
    username: string,
    intent: UserIntent,
    start: CurrentUser | null,
    report: UserApplyReport,
    moreToCome: boolean,
  ): Promise<{ current: CurrentUser | null; deferred?: AttributesCall }> {
    let current = start;
    for (let attempt = 1; ; attempt++) {
      const cached = this.cache.get(username);
      const deletedVersion = this.deletedUsers.get(username) ?? (cached?.deleted ? cached.version : undefined);
      const planned = this.plan(current, intent, deletedVersion);
      if (planned.skip === 'not-existing' && intent.kind === 'group' && intent.member && this.waitForMissingUsers && deletedVersion === undefined) {
        throw new MissingUserError(`group ${intent.group} is for a user that is not in Cognito yet`, { username: intent.username });
      }
      if (planned.skip) report.skips.push(planned.skip);
      if (planned.droppedGroupGuards) (report.droppedGroupGuards ??= []).push(...planned.droppedGroupGuards);
      // A group plan's attribute write is the per-group versions: deferred (see apply).
      const last = planned.calls[planned.calls.length - 1];
      const deferred = intent.kind === 'group' && last?.api === 'AdminUpdateUserAttributes' ? last : undefined;
      const calls = deferred ? planned.calls.slice(0, -1) : planned.calls;
      try {
        for (const call of calls) await this.execute(call, report);
      } catch (error) {
        // Someone else changed the user between our read and our call: read again and re-plan.
        if (error instanceof CognitoApiError && RACE_CODES.has(error.code) && attempt < MAX_REPLANS) {
          current = await this.read(username, report);
          continue;
        }
        throw error;
      }
      if (planned.skip === 'stale-version' || planned.skip === 'not-existing') return { current };
      if (intent.kind === 'group') {
        if (current === null || (calls.length === 0 && !deferred)) return { current };
        return deferred ? { current: afterGroupPlan(current, calls, deferred), deferred } : { current: afterGroupPlan(current, calls, undefined) };
      }
      if (intent.kind === 'delete') {
        const deleted = planned.calls.some((c) => c.api === 'AdminDeleteUser');
        // Also a delete that finds the user already gone: an older create replayed later (say,
        // by a new consumer group) must still see that the user was deleted at this version.
        const known = this.deletedUsers.get(username);
        if ((deleted || current === null) && (known === undefined || known < intent.version)) await this.deletedUsers.record(username, intent.version);
        this.cache.set(username, intent.version, true);
        if (deleted) return { current: null };
        // deletePolicy disable: a re-insert later in the batch must see the user disabled.
        return { current: moreToCome && planned.calls.length > 0 ? await this.read(username, report) : current };
      }
      this.cache.set(username, intent.version, false);
      // Later intents of this user in the same batch (rare: delete + recreate) need fresh state.
      return { current: moreToCome && planned.calls.length > 0 ? await this.read(username, report) : current };
    }
  }

  private async read(username: string, report: UserApplyReport): Promise<CurrentUser | null> {
    report.reads++;
    return this.gateway.getUser(username, this.manageGroups);
  }
}
