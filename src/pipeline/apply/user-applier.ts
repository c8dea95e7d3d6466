// Apply the intents of one user, in order: decide from the pool state whether Cognito must be
// read at all (pool-state.ts), read it once when it must, plan, execute the calls.
// Races with other writers (a just-in-time migration creating the user, an admin deleting
// it) show up as UsernameExists / UserNotFound: re-read and re-plan, a bounded number of times.
// One user is applied by one caller at a time in this process (role rows of one user arrive on
// several partitions; each read-plan-write of the per-group versions must see the last one's).
import type { Attributes, CognitoCall, CurrentUser, SkipReason, UserIntent, Version } from '../../core/types.js';
import { CognitoApiError, MissingUserError, SyncError, errorMessage } from '../../errors.js';
import type { CognitoGateway } from '../../adapters/cognito/cognito-gateway.js';
import { MemoryDeletedUsers, type DeletedUsersStore } from '../../adapters/kafka/deleted-users-log.js';
import { NO_VERSION, orderOf } from '../decode/version.js';
import { carriedIntents, rowsNewerThan } from '../plan/carried-rows.js';
import { desiredDigest } from '../plan/state-digest.js';
import { afterCalls } from './cognito-effects.js';
import type { KnownUser, PoolState } from './pool-state.js';
import type { AliasConflicts } from './alias-conflicts.js';
import { applyUnitByUnit, isValueRefusal, splitUpdate } from './attribute-refusals.js';
import { unknownsToFill, unwritten, withKnownValues, type UnknownValuesSource } from './unknown-values.js';

export interface PlanOutcome {
  calls: CognitoCall[];
  skip?: SkipReason;
  /** The version whose state Cognito reflects once the calls are done (see UserPlan). */
  appliedVersion?: Version | undefined;
  /** Groups whose per-group version guard was dropped (groups.versionAttribute overflow). */
  droppedGroupGuards?: string[];
  /** The intent's version could not be ordered with the stored one (see UserPlan). */
  incomparableVersion?: true;
}

/** The pure planner, bound to the mapping's policies. */
export type PlanFn = (
  current: CurrentUser | null,
  intent: UserIntent,
  deletedVersion: Version | undefined,
) => PlanOutcome;
export type CoalesceFn = (intents: UserIntent[]) => UserIntent[];

export interface UserApplyReport {
  username: string;
  calls: CognitoCall['api'][];
  skips: SkipReason[];
  reads: number;
  /** Groups whose version guard no longer fit in groups.versionAttribute (see group-versions.ts). */
  droppedGroupGuards?: string[];
  /**
   * Intents whose version could not be ordered with the stored one (GTID vs binlog file/pos in
   * one epoch, see orderOf): handled by state or skipped, never by version.
   */
  incomparableVersions?: number;
  /** This apply created the user (memberships waiting for it can follow). */
  created?: boolean;
  /**
   * Attributes left unwritten because no event or source knew their value (a creation from an
   * event with TOAST placeholders, a derived attribute over one): see unknown-values.ts.
   */
  incomplete?: string[];
}

export interface UserApplierOptions {
  gateway: CognitoGateway;
  plan: PlanFn;
  coalesce: CoalesceFn;
  state: PoolState;
  /** The mapping manages group memberships (reads may need the user's groups). */
  manageGroups: boolean;
  /** The attributes the planner compares (state-digest.ts), for the "nothing changes" check. */
  comparedAttributes: readonly string[];
  groupsVersionAttribute?: string;
  /** createPolicy always: a membership for an absent user waits for the user (MissingUserError). */
  waitForMissingUsers?: boolean;
  /**
   * Plan against "absent" without a read when the state says so. Only where a racing creation
   * cannot lose an update: under createPolicy always our create then fails (UsernameExists) and
   * re-plans; under existing-only the User Migration trigger creates users all day, and an
   * update skipped as 'not-existing' on old knowledge would be lost.
   */
  trustAbsence?: boolean;
  /** Durable versions of deletes, so a replayed older create cannot resurrect a user. */
  deletedUsers?: DeletedUsersStore;
  /**
   * Asked right before a user is created: memberships waiting for that user, to fold into the
   * creation (their versions ride on AdminCreateUser). `settle` says whether they were applied.
   */
  waitingFor?: (username: string) => { intents: UserIntent[]; settle: (applied: boolean) => void } | undefined;
  /** AliasExistsException: find the holder, wait, release or dead-letter (alias-conflicts.ts). Unset: the error's own end. */
  aliasConflicts?: AliasConflicts;
  /** AdminCreateUser with ForceAliasCreation (mapping forceAliasCreation). */
  forceAliasCreation?: boolean;
  /**
   * Pools with email or phone as username (adapters/cognito/pool-usernames.ts): told the
   * changes of a user before anything is read or written, so a user its index does not hold
   * can be found by the email (phone) they carry.
   */
  usernames?: { hint(username: string, intents: readonly UserIntent[]): void };
  /** Where values the events do not carry are read (the legacy row, when configured; unknown-values.ts). */
  unknownValues?: UnknownValuesSource;
  /** The version attributes (written last, and only when every other attribute was taken). */
  versionAttributes?: ReadonlySet<string>;
  /** Attributes derived from several columns (unknown-values.ts derivedAttributes). */
  derivedAttributes?: ReadonlySet<string>;
}

type AttributesCall = Extract<CognitoCall, { api: 'AdminUpdateUserAttributes' }>;
type Upsert = Extract<UserIntent, { kind: 'upsert' }>;

const RACE_CODES = new Set(['UsernameExistsException', 'UserNotFoundException']);
const MAX_REPLANS = 3;
/** Alias conflicts resolved (holder gone or released) per apply before the error ends it. */
const MAX_ALIAS_ROUNDS = 3;
const noop = (): void => undefined;
const NO_NAMES: ReadonlySet<string> = new Set();

const newer = (a: Version | undefined, b: Version | undefined): Version | undefined =>
  a === undefined || a === NO_VERSION ? b : b === undefined || b === NO_VERSION || a >= b ? a : b;

export class UserApplier {
  private readonly gateway: CognitoGateway;
  private readonly planFn: PlanFn;
  private readonly deletedUsers: DeletedUsersStore;
  private readonly locks = new Map<string, Promise<void>>();

  constructor(private readonly o: UserApplierOptions) {
    this.gateway = o.gateway;
    this.planFn = o.plan;
    this.deletedUsers = o.deletedUsers ?? new MemoryDeletedUsers();
  }

  get state(): PoolState {
    return this.o.state;
  }

  /** An apply of this user is in flight in this process. */
  busy(username: string): boolean {
    return this.locks.has(username);
  }

  apply(username: string, intents: UserIntent[]): Promise<UserApplyReport> {
    return this.exclusive(username, () => this.applyLocked(username, intents));
  }

  /** Runs `fn` after every earlier apply of the same user in this process has ended. */
  private async exclusive<T>(username: string, fn: () => Promise<T>): Promise<T> {
    const prior = this.locks.get(username);
    const run = prior === undefined ? fn() : prior.then(fn);
    const tail = run.then(noop, noop);
    this.locks.set(username, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(username) === tail) this.locks.delete(username);
    }
  }

  private async applyLocked(username: string, intents: UserIntent[]): Promise<UserApplyReport> {
    const report: UserApplyReport = { username, calls: [], skips: [], reads: 0 };
    const work = this.o.coalesce(intents);
    this.o.usernames?.hint(username, work);
    const { state } = this.o;
    const known = state.get(username);
    const newest = work.reduce<Version>((max, i) => (i.version > max ? i.version : max), NO_VERSION);
    const groupWork = work.some((i) => i.kind === 'group');
    // Role rows carry versions of their own, unrelated to the user row's: memberships always
    // go through the planner (which compares them with Cognito's groups and group versions).
    const vsKnown = known?.version === undefined || newest === NO_VERSION ? undefined : orderOf(newest, known.version);
    if (
      !groupWork &&
      known !== undefined &&
      (vsKnown === 'older' || (vsKnown === 'same' && this.completeAt(work, known)))
    ) {
      report.skips.push('stale-version');
      return report;
    }
    if (
      !groupWork &&
      known?.present === true &&
      known.digest !== undefined &&
      work.every((i) => i.kind === 'upsert' && this.changesNothing(i, known))
    ) {
      // Cognito already holds exactly this: it now reflects the newest of these events too.
      if (newest !== NO_VERSION && (known.version === undefined || vsKnown === 'newer')) known.version = newest;
      if (vsKnown === 'incomparable') report.incomparableVersions = (report.incomparableVersions ?? 0) + 1;
      report.skips.push('no-change');
      return report;
    }

    const start = this.startWithoutRead(username, known, work);
    let partial = start?.partial ?? false;
    let current = start === undefined ? await this.read(username, report, this.needsGroups(work)) : start.user;
    let reflects: Version | undefined;
    let deletedAt: Version | undefined;
    // With per-group versions, each applied group intent also writes the versions attribute.
    // Consecutive group intents of a user share one such write: each is planned against the
    // value the previous one would leave, and only the last value is written, after all their
    // membership calls (so a batch cut short leaves the old versions behind and is redone).
    let deferred: AttributesCall | undefined;
    let consumed = 0;
    let aliasRounds = 0;
    for (const [index, intent] of work.entries()) {
      if (index < consumed) continue; // memberships folded into the creation before them
      if (deferred && intent.kind !== 'group') {
        await this.execute(deferred, report);
        deferred = undefined;
      }
      for (let attempt = 1; ; attempt++) {
        const cached = state.get(username);
        const deletedVersion = this.deletedUsers.get(username) ?? (cached?.deleted ? cached.version : undefined);
        let planned = this.planFn(current, intent, deletedVersion);
        if (intent.kind === 'upsert' && intent.user.unknown !== undefined)
          planned = await this.fillUnknowns(current, intent, planned, deletedVersion, report);
        const creates = planned.calls[0]?.api === 'AdminCreateUser';
        const waiting = creates ? this.o.waitingFor?.(username) : undefined;
        // Role rows the user's last delete found newer than itself: this incarnation's.
        const carried = creates ? carriedIntents(username, this.deletedUsers.carried(username)) : [];
        const folded = creates
          ? this.foldMemberships(
              planned,
              [...work.slice(index + 1), ...(waiting?.intents ?? []), ...carried],
              deletedVersion,
            )
          : undefined;
        if (folded) planned = folded;
        else waiting?.settle(false);
        if (
          planned.skip === 'not-existing' &&
          intent.kind === 'group' &&
          intent.member &&
          this.o.waitForMissingUsers &&
          // After a remembered delete only a versioned row can wait: the planner found it newer
          // than the delete (older ones are stale), so it is for the user's next incarnation.
          (deletedVersion === undefined || intent.version !== NO_VERSION)
        ) {
          throw new MissingUserError(`group ${intent.group} is for a user that is not in Cognito yet`, {
            username: intent.username,
          });
        }
        // A group plan's attribute write is the per-group versions: deferred (see above).
        const last = planned.calls[planned.calls.length - 1];
        const defer = intent.kind === 'group' && last?.api === 'AdminUpdateUserAttributes' ? last : undefined;
        const calls = defer ? planned.calls.slice(0, -1) : planned.calls;
        let attempting: CognitoCall | undefined;
        try {
          for (const call of calls) {
            attempting = call;
            await this.execute(call, report);
            if (call.api === 'AdminCreateUser') report.created = true;
          }
          if (folded) waiting?.settle(true);
        } catch (error) {
          if (folded) waiting?.settle(false);
          // Someone else changed the user between our read and our call: read again and re-plan.
          if (error instanceof CognitoApiError && RACE_CODES.has(error.code) && attempt < MAX_REPLANS) {
            current = await this.read(username, report, this.needsGroups(work));
            partial = false;
            continue;
          }
          const conflicts = this.o.aliasConflicts;
          if (
            conflicts &&
            error instanceof CognitoApiError &&
            error.code === 'AliasExistsException' &&
            (attempting?.api === 'AdminCreateUser' || attempting?.api === 'AdminUpdateUserAttributes') &&
            aliasRounds++ < MAX_ALIAS_ROUNDS
          ) {
            // Waits (AliasWaitError) or dead-letters (AliasConflictError) by throwing; returns
            // once writing again is worth it.
            await conflicts.resolve(username, attempting, current?.attributes, async (release) => {
              await this.execute(release, report);
              this.o.state.forget(release.username);
            });
            current = await this.read(username, report, this.needsGroups(work));
            partial = false;
            continue;
          }
          throw error;
        }
        if (planned.skip) report.skips.push(planned.skip);
        if (planned.droppedGroupGuards) (report.droppedGroupGuards ??= []).push(...planned.droppedGroupGuards);
        if (planned.incomparableVersion) report.incomparableVersions = (report.incomparableVersions ?? 0) + 1;
        if (intent.kind === 'delete') {
          const deleted = planned.calls.some((c) => c.api === 'AdminDeleteUser');
          // Also a delete that finds the user already gone: an older create replayed later (say,
          // by a new consumer group) must still see that the user was deleted at this version.
          const remembered = this.deletedUsers.get(username);
          if (
            (deleted || current === null) &&
            planned.skip !== 'stale-version' &&
            (remembered === undefined || remembered < intent.version)
          ) {
            const gva = this.o.groupsVersionAttribute;
            const carriedRows =
              deleted && gva !== undefined ? rowsNewerThan(current?.attributes[gva], intent.version) : undefined;
            await this.deletedUsers.record(username, intent.version, intent.origin, carriedRows);
            deletedAt = newer(deletedAt, intent.version);
          }
        }
        current = afterCalls(current, defer ? [...calls, defer] : calls);
        if (current !== null) reflects = newer(reflects, planned.appliedVersion);
        if (defer) deferred = defer;
        if (folded) consumed = work.length;
        break;
      }
    }
    if (deferred) await this.execute(deferred, report);
    if (partial && current !== null) {
      const gva = this.o.groupsVersionAttribute;
      state.observeGroups(username, current.groups, gva === undefined ? undefined : current.attributes[gva]);
    } else state.observe(username, current, reflects, deletedAt);
    this.o.aliasConflicts?.settled(username);
    return report;
  }

  /**
   * An upsert whose event leaves attributes unknown that the plan would leave wrong (a
   * creation, a derived attribute): fill them from the legacy row when a source is configured,
   * re-plan, and report what stays unknown (unknown-values.ts).
   */
  private async fillUnknowns(
    current: CurrentUser | null,
    intent: Upsert,
    planned: PlanOutcome,
    deletedVersion: Version | undefined,
    report: UserApplyReport,
  ): Promise<PlanOutcome> {
    const creates = planned.calls[0]?.api === 'AdminCreateUser';
    if (!creates && !planned.calls.some((c) => c.api === 'AdminUpdateUserAttributes')) return planned;
    const derived = this.o.derivedAttributes ?? NO_NAMES;
    const names = unknownsToFill(intent.user, creates, derived);
    // Values the batch's earlier events knew (the planner's fallback) are newer than Cognito's,
    // except a derived one: another of its columns may have changed since.
    let missing = names.filter(
      (n) =>
        derived.has(n) ||
        (creates ? unwritten([n], planned.calls).length > 0 : intent.fallback?.attributes[n] === undefined),
    );
    if (missing.length === 0) return planned;
    const values = await this.o.unknownValues?.(intent.user).catch(() => undefined);
    if (values !== undefined) {
      const known: Attributes = {};
      for (const name of missing) if (values[name] !== undefined) known[name] = values[name];
      const user = withKnownValues(intent.user, known);
      if (user !== intent.user) {
        planned = this.planFn(current, { ...intent, user }, deletedVersion);
        missing = missing.filter((n) => known[n] === undefined);
      }
    }
    if (missing.length > 0) (report.incomplete ??= []).push(...missing);
    return planned;
  }

  /**
   * A creation followed by memberships of the same user (role rows that waited for it): their
   * per-group versions ride on the AdminCreateUser and their adds follow it, instead of one
   * more AdminUpdateUserAttributes (UserUpdate budget) per user. Safe because the planner
   * completes an add whose version is recorded but whose membership is missing (a crash
   * between the create and the add). Undefined when the rest is not only memberships.
   */
  private foldMemberships(
    create: PlanOutcome,
    rest: readonly UserIntent[],
    deletedVersion: Version | undefined,
  ): PlanOutcome | undefined {
    const attribute = this.o.groupsVersionAttribute;
    if (attribute === undefined || rest.length === 0 || !rest.every((i) => i.kind === 'group')) return undefined;
    let user = afterCalls(null, create.calls);
    const memberships: CognitoCall[] = [];
    let versions: string | undefined;
    for (const intent of this.o.coalesce([...rest])) {
      // Rows older than a remembered delete are an earlier incarnation's: stale, not folded in.
      const plan = this.planFn(user, intent, deletedVersion);
      for (const call of plan.calls) {
        if (call.api === 'AdminUpdateUserAttributes') versions = call.attributes[attribute];
        else memberships.push(call);
      }
      user = afterCalls(user, plan.calls);
    }
    const [first, ...others] = create.calls as [Extract<CognitoCall, { api: 'AdminCreateUser' }>, ...CognitoCall[]];
    const createCall: CognitoCall =
      versions === undefined ? first : { ...first, attributes: { ...first.attributes, [attribute]: versions } };
    return { ...create, calls: [createCall, ...others, ...memberships] };
  }

  /**
   * Events at exactly the version Cognito holds: already applied, unless a creation's
   * follow-ups (its disable) were cut short; the planner completes those. Skip them only when
   * the known state shows nothing is missing (an upsert's fingerprint matches; a delete's
   * version is written last, after its disable).
   */
  private completeAt(work: readonly UserIntent[], known: KnownUser): boolean {
    return work.every(
      (i) =>
        i.kind === 'delete' ||
        (i.kind === 'upsert' &&
          known.present &&
          known.digest !== undefined &&
          desiredDigest(i.user, this.o.comparedAttributes) === known.digest),
    );
  }

  /** An upsert the known state shows to change nothing: equal fingerprints, no newer folded state. */
  private changesNothing(intent: Upsert, known: KnownUser): boolean {
    // A folded-away intermediate state newer than what Cognito reflects: its version must move
    // on (see coalesce), so the planner has to see it.
    if (
      intent.supersededVersion !== undefined &&
      intent.supersededVersion !== NO_VERSION &&
      (known.version === undefined || intent.supersededVersion > known.version)
    )
      return false;
    return desiredDigest(intent.user, this.o.comparedAttributes) === known.digest;
  }

  /**
   * The state to plan against when the known state is enough: a user known to be absent, or
   * (for membership adds) a user whose memberships and group versions are known. `partial`:
   * the attributes are not known, so afterwards only the memberships are learnt.
   */
  private startWithoutRead(
    username: string,
    known: KnownUser | undefined,
    work: readonly UserIntent[],
  ): { user: CurrentUser | null; partial: boolean } | undefined {
    const { state } = this.o;
    // "Absent" is safe to act on for a creation (one that finds the user answers UsernameExists
    // and re-plans) and for a membership (it waits, and re-checks read), never for a delete: it
    // would be skipped as "already deleted", silently, while another instance (or the trigger)
    // created the user after the listing. Deletes are rare; they always read.
    if (this.o.trustAbsence === true && state.knowsAbsent(username) && work.every((i) => i.kind !== 'delete')) {
      return { user: null, partial: false };
    }
    if (known === undefined || !known.present) return undefined;
    // Removals always read: the state may not know a membership someone else added (the Post
    // Authentication trigger), and a missed removal would leave a user in a group for good.
    if (!work.every((i) => i.kind === 'group' && i.member)) return undefined;
    const groups = state.knownGroups(known);
    const gva = this.o.groupsVersionAttribute;
    if (groups === undefined || (gva !== undefined && known.groupVersions === undefined)) return undefined;
    const user: CurrentUser = {
      username,
      attributes: gva === undefined ? {} : { [gva]: known.groupVersions as string },
      enabled: true,
      groups: [...groups],
    };
    return { user, partial: true };
  }

  private needsGroups(work: readonly UserIntent[]): boolean {
    if (!this.o.manageGroups) return false;
    return work.some(
      (i) =>
        i.kind === 'group' ||
        (i.kind === 'upsert' && (i.user.groups !== undefined || i.fallback?.groups !== undefined)),
    );
  }

  /** One call; a failure forgets what the state knows of the user and surfaces as a SyncError. */
  private async execute(call: CognitoCall, report: UserApplyReport): Promise<void> {
    try {
      await this.gateway.execute(
        call.api === 'AdminCreateUser' && this.o.forceAliasCreation === true
          ? { ...call, forceAliasCreation: true }
          : call,
      );
    } catch (error) {
      this.o.state.forget(call.username);
      // One refused value fails that value, not the event's other changes (attribute-refusals.ts).
      if (call.api === 'AdminUpdateUserAttributes' && isValueRefusal(error)) {
        const split = splitUpdate(call, this.o.versionAttributes ?? NO_NAMES);
        if (split) return applyUnitByUnit(call, split, (unit) => this.execute(unit, report));
      }
      throw error instanceof SyncError
        ? error
        : new CognitoApiError(errorMessage(error), { api: 'unknown', code: 'Unknown', retriable: false, cause: error });
    }
    report.calls.push(call.api);
  }

  private async read(username: string, report: UserApplyReport, withGroups: boolean): Promise<CurrentUser | null> {
    report.reads++;
    const user = await this.gateway.getUser(username, withGroups);
    this.o.state.observe(username, user);
    return user;
  }
}
