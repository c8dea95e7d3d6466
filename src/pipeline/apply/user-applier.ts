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
}

/** The pure planner, bound to the mapping's policies. */
export type PlanFn = (current: CurrentUser | null, intent: UserIntent, deletedVersion: Version | undefined) => PlanOutcome;
export type CoalesceFn = (intents: UserIntent[]) => UserIntent[];

export interface UserApplyReport {
  username: string;
  calls: CognitoCall['api'][];
  skips: SkipReason[];
  reads: number;
}

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
    for (const [index, intent] of work.entries()) {
      current = await this.applyOne(username, intent, current, report, index < work.length - 1);
    }
    return report;
  }

  private async applyOne(
    username: string,
    intent: UserIntent,
    start: CurrentUser | null,
    report: UserApplyReport,
    moreToCome: boolean,
  ): Promise<CurrentUser | null> {
    let current = start;
    for (let attempt = 1; ; attempt++) {
      const cached = this.cache.get(username);
      const deletedVersion = this.deletedUsers.get(username) ?? (cached?.deleted ? cached.version : undefined);
      const planned = this.plan(current, intent, deletedVersion);
      if (planned.skip === 'not-existing' && intent.kind === 'group' && intent.member && this.waitForMissingUsers && deletedVersion === undefined) {
        throw new MissingUserError(`group ${intent.group} is for a user that is not in Cognito yet`, { username: intent.username });
      }
      if (planned.skip) report.skips.push(planned.skip);
      try {
        for (const call of planned.calls) {
          await this.gateway.execute(call);
          report.calls.push(call.api);
        }
      } catch (error) {
        this.cache.forget(username);
        if (error instanceof CognitoApiError && RACE_CODES.has(error.code) && attempt < MAX_REPLANS) {
          current = await this.read(username, report);
          continue;
        }
        throw error instanceof SyncError ? error : new CognitoApiError(errorMessage(error), { api: 'unknown', code: 'Unknown', retriable: false, cause: error });
      }
      if (planned.skip === 'stale-version' || planned.skip === 'not-existing') return current;
      if (intent.kind === 'delete') {
        const deleted = planned.calls.some((c) => c.api === 'AdminDeleteUser');
        // Also a delete that finds the user already gone: an older create replayed later (say,
        // by a new consumer group) must still see that the user was deleted at this version.
        const known = this.deletedUsers.get(username);
        if ((deleted || current === null) && (known === undefined || known < intent.version)) await this.deletedUsers.record(username, intent.version);
        this.cache.set(username, intent.version, true);
        if (deleted) return null;
        // deletePolicy disable: a re-insert later in the batch must see the user disabled.
        return moreToCome && planned.calls.length > 0 ? await this.read(username, report) : current;
      }
      if (intent.kind === 'upsert') this.cache.set(username, intent.version, false);
      // Later intents of this user in the same batch (rare: delete + recreate) need fresh state.
      return moreToCome && planned.calls.length > 0 ? await this.read(username, report) : current;
    }
  }

  private async read(username: string, report: UserApplyReport): Promise<CurrentUser | null> {
    report.reads++;
    return this.gateway.getUser(username, this.manageGroups);
  }
}
