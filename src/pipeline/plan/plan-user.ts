// (what Cognito has, what the source wants) -> the fewest admin calls that make them equal.
//
// Versions: an intent not newer than the version Cognito holds is stale and makes no call
// (a snapshot read at exactly that version is compared in full: a re-snapshot repairs drift;
// one older than it is a replayed old snapshot, stale like any older event);
// the version attribute is written whenever anything else is, in the same
// AdminUpdateUserAttributes call, and that call comes last, so a plan cut short by a crash
// leaves the old version behind and is re-planned in full on redelivery. A create carries
// the version in AdminCreateUser; its follow-ups (disable, groups) are completed by
// re-planning an intent whose version equals the stored one (see planUpsert).
// Memberships from role rows are guarded the same way by per-group versions when the mapping
// sets groups.versionAttribute (see planGroup and group-versions.ts).
//
// Hot path (a replay of an already-applied topic is planning and nothing else): no copies of
// the current user, and the update/removal lists exist only once something differs.
import type {
  Attributes,
  CognitoCall,
  CurrentUser,
  DesiredUser,
  SkipReason,
  UpsertFallback,
  UserIntent,
  Version,
} from '../../core/types.js';
import { incomparable, NO_VERSION, orderOf } from '../decode/version.js';
import {
  encodeGroupStates,
  parseGroupStates,
  parseGroupVersions,
  type GroupStates,
  type GroupVersions,
  type RoleRowState,
} from './group-versions.js';
import type { PlanOptions } from './plan-options.js';
import { staleAfterDelete } from './key-change.js';

export interface UserPlan {
  calls: CognitoCall[];
  skip?: SkipReason;
  /**
   * The version whose state Cognito reflects once the calls are done (for the pool state):
   * the intent's version when applied or already equal, the stored one when the intent was
   * stale, undefined when nothing is known (user absent and not created).
   */
  appliedVersion: Version | undefined;
  /**
   * Groups whose per-group version no longer fits in groups.versionAttribute and was dropped
   * (oldest first): they are unguarded from now on. For a metric and a log line, never an error.
   */
  droppedGroupGuards?: string[];
  /**
   * The intent's version could not be ordered with the one it was judged against (GTID vs
   * binlog file/pos in one epoch, see orderOf): it was handled by state, not by version. For a
   * metric and a warning naming the fix (a new epoch).
   */
  incomparableVersion?: true;
}

// Cognito sets a verified flag to false when its attribute changes unless the same call sets it.
const VERIFIED_FLAGS: readonly { readonly attribute: string; readonly flag: string }[] = [
  { attribute: 'email', flag: 'email_verified' },
  { attribute: 'phone_number', flag: 'phone_number_verified' },
];

const skipped = (skip: SkipReason, appliedVersion: Version | undefined): UserPlan => ({
  calls: [],
  skip,
  appliedVersion,
});

/**
 * An intent whose version cannot be ordered with `against` (see orderOf) and whose effect could
 * not be undone if it were the older one: a delete, or a creation over a remembered delete.
 * Skipped, never guessed: `reconcile --repair` finds what it leaves.
 */
const unordered = (against: Version | undefined): UserPlan => ({
  ...skipped('incomparable-version', against),
  incomparableVersion: true,
});

/** True when `version` must not be applied over `stored` (position-less versions are never stale). */
const isStale = (version: Version, stored: Version | undefined): boolean =>
  version !== NO_VERSION && stored !== undefined && version <= stored;

/** A folded-away intermediate state newer than what Cognito holds: the version must move on. */
const supersedesStored = (superseded: Version | undefined, stored: Version | undefined): boolean =>
  superseded !== undefined && superseded !== NO_VERSION && (stored === undefined || superseded > stored);

/**
 * Fills what the upsert's own event did not know from values earlier events of the batch knew,
 * each only when newer than Cognito's version (and than a remembered delete): an older value
 * would overwrite a newer one that Cognito already holds.
 */
const withFallback = (
  user: DesiredUser,
  fallback: UpsertFallback,
  stored: Version | undefined,
  deletedVersion: Version | undefined,
): DesiredUser => {
  const floor =
    stored === undefined
      ? deletedVersion
      : deletedVersion === undefined || stored > deletedVersion
        ? stored
        : deletedVersion;
  const usable = (version: Version): boolean => floor === undefined || version > floor;
  let attributes: Attributes | undefined;
  const unknown: string[] = [];
  for (const name of user.unknown ?? []) {
    const known = fallback.attributes[name];
    if (known && usable(known.version)) (attributes ??= { ...user.attributes })[name] = known.value;
    else unknown.push(name);
  }
  const groups =
    user.groups === undefined && fallback.groups && usable(fallback.groups.version) ? fallback.groups.value : undefined;
  if (!attributes && !groups) return user;
  const filled: DesiredUser = { ...user, attributes: attributes ?? user.attributes };
  if (unknown.length > 0) filled.unknown = unknown;
  else delete filled.unknown;
  if (groups) filled.groups = groups;
  return filled;
};

const statusCall = (username: string, enabled: boolean): CognitoCall =>
  enabled ? { api: 'AdminEnableUser', username } : { api: 'AdminDisableUser', username };

/** Membership calls: adds always (idempotent), removals only when Cognito's groups are known. */
const groupCalls = (user: DesiredUser, current: CurrentUser, options: PlanOptions, calls: CognitoCall[]): void => {
  const want = user.groups;
  if (want === undefined) return;
  const have = current.groups;
  if (have !== undefined && options.removeGroups) {
    for (const group of have) {
      if (!want.includes(group) && options.ownsGroup(group))
        calls.push({ api: 'AdminRemoveUserFromGroup', username: user.username, group });
    }
  }
  for (const group of want) {
    if (have === undefined || !have.includes(group))
      calls.push({ api: 'AdminAddUserToGroup', username: user.username, group });
  }
};

const planCreate = (user: DesiredUser, version: Version, options: PlanOptions): UserPlan => {
  const attributes: Attributes = {};
  for (const name in user.attributes) {
    const value = user.attributes[name] as string;
    if (value !== '') attributes[name] = value;
  }
  if (version !== NO_VERSION) attributes[options.versionAttribute] = version;
  const calls: CognitoCall[] = [{ api: 'AdminCreateUser', username: user.username, attributes }];
  if (!user.enabled) calls.push(statusCall(user.username, false));
  for (const group of user.groups ?? []) calls.push({ api: 'AdminAddUserToGroup', username: user.username, group });
  return { calls, appliedVersion: version === NO_VERSION ? undefined : version };
};

const planUpsert = (
  current: CurrentUser | null,
  stored: Version | undefined,
  intent: Extract<UserIntent, { kind: 'upsert' }>,
  options: PlanOptions,
  deletedVersion: Version | undefined,
): UserPlan => {
  const { version } = intent;
  if (incomparable(version, deletedVersion)) {
    // Was the user deleted before or after this row? No order says: re-creating a deleted user
    // cannot be taken back. (A user that exists again is judged by its own stored version.)
    if (current === null) return unordered(deletedVersion);
  } else if (staleAfterDelete(version, deletedVersion)) return skipped('stale-version', deletedVersion);
  const user = intent.fallback ? withFallback(intent.user, intent.fallback, stored, deletedVersion) : intent.user;
  if (current === null) {
    if (options.createPolicy === 'existing-only') return skipped('not-existing', undefined);
    return planCreate(user, version, options);
  }
  // A version that cannot be ordered with the stored one is handled as a snapshot read of
  // unknown position: Cognito is compared with the row in full and what differs is written, but
  // the stored version stays (moving it could only be a guess). An older row may so be written
  // over a newer one during a replay; the replay's later events put it right, and every event
  // of the row keeps being compared this way until a new epoch orders them again.
  const byState = incomparable(version, stored);
  const sameVersion = version !== NO_VERSION && version === stored;
  if (sameVersion && intent.snapshot !== true) {
    // The same event again. Its attributes and version were written in one call, but a create's
    // disable/group follow-ups may have been cut short: complete those, write nothing else.
    const calls: CognitoCall[] = [];
    if (user.enabled !== current.enabled) calls.push(statusCall(user.username, user.enabled));
    if (current.groups !== undefined) groupCalls(user, current, options, calls);
    return calls.length > 0 ? { calls, appliedVersion: version } : skipped('stale-version', stored);
  }
  if (!sameVersion && !byState && isStale(version, stored)) return skipped('stale-version', stored);

  // Most events of a replay or of a login burst change nothing: allocate only on a difference.
  let update: Attributes | undefined;
  let removals: string[] | undefined;
  const wanted = user.attributes;
  const have = current.attributes;
  if (options.attributesMatch?.(wanted, have) !== true) {
    for (const name in wanted) {
      const want = wanted[name] as string;
      const held = have[name];
      if (want === (held === undefined ? '' : held) || options.createOnlyAttributes.has(name)) continue;
      if (want === '') (removals ??= []).push(name);
      else (update ??= {})[name] = want;
    }
  }
  if (update !== undefined) {
    for (const { attribute, flag } of VERIFIED_FLAGS) {
      const flagValue = wanted[flag];
      if (update[attribute] !== undefined && flagValue && update[flag] === undefined) update[flag] = flagValue;
    }
  }

  let calls: CognitoCall[] | undefined;
  if (removals !== undefined)
    (calls ??= []).push({ api: 'AdminDeleteUserAttributes', username: user.username, names: removals });
  if (user.enabled !== current.enabled) (calls ??= []).push(statusCall(user.username, user.enabled));
  if (user.groups !== undefined) groupCalls(user, current, options, (calls ??= []));

  const versioned = version !== NO_VERSION && !byState;
  if (
    update === undefined &&
    (calls === undefined || calls.length === 0) &&
    !(versioned && supersedesStored(intent.supersededVersion, stored))
  ) {
    const plan = skipped('no-change', versioned ? version : stored);
    return byState ? { ...plan, incomparableVersion: true } : plan;
  }
  calls ??= [];
  // At the stored version (a snapshot read compared in full) the version is already there.
  if (versioned && !sameVersion) (update ??= {})[options.versionAttribute] = version;
  if (update !== undefined)
    calls.push({ api: 'AdminUpdateUserAttributes', username: user.username, attributes: update });
  const plan: UserPlan = { calls, appliedVersion: versioned ? version : stored };
  if (byState) plan.incomparableVersion = true;
  return plan;
};

const planDelete = (
  current: CurrentUser | null,
  stored: Version | undefined,
  intent: Extract<UserIntent, { kind: 'delete' }>,
  options: PlanOptions,
  deletedVersion: Version | undefined,
): UserPlan => {
  const { username, version } = intent;
  const versioned = version !== NO_VERSION;
  if (current === null) return skipped('already-deleted', versioned ? version : deletedVersion);
  // A delete that cannot be ordered with the stored version might be older than the row Cognito
  // holds; a deleted user (password, sub) cannot be brought back.
  if (incomparable(version, stored)) return unordered(stored);
  if (!incomparable(version, deletedVersion) && isStale(version, deletedVersion))
    return skipped('stale-version', deletedVersion);
  if (isStale(version, stored)) return skipped('stale-version', stored);
  if (options.deletePolicy === 'delete')
    return { calls: [{ api: 'AdminDeleteUser', username }], appliedVersion: versioned ? version : undefined };

  // disable: the user stays, so its version must move on to keep older events out.
  const calls: CognitoCall[] = [];
  if (current.enabled) calls.push(statusCall(username, false));
  if (calls.length === 0 && !(versioned && supersedesStored(intent.supersededVersion, stored))) {
    return skipped('no-change', versioned ? version : stored);
  }
  if (versioned)
    calls.push({ api: 'AdminUpdateUserAttributes', username, attributes: { [options.versionAttribute]: version } });
  return { calls, appliedVersion: versioned ? version : stored };
};

/**
 * Role rows have versions of their own that say nothing about the user row's version.
 * Without groups.versionAttribute, membership changes are not version-guarded: adds and
 * removals are idempotent, and a membership is only touched when Cognito differs (when its
 * groups are known); a replay of the roles topic then flaps memberships that were later changed,
 * and revoking one of two rows that grant one group removes the membership.
 * With it, each role row has its own stored version under its group (group-versions.ts): a row
 * not newer than its stored version is stale (no call); a newer one is applied and recorded in
 * the attribute, written after the membership call so that a plan cut short leaves the old
 * version behind. A group stays while any of its rows grants it. The version is recorded even
 * when the membership already matches (a re-snapshot, a second row granting the same group, a
 * change applied before a crash): otherwise an older row delivered later (a replayed range)
 * would look newer than the stored version and flap the membership. That costs one attribute
 * write per user and batch for such rows, and makes every replay of rows already seen free.
 * A row not newer than a remembered delete of the user belongs to an earlier incarnation: stale.
 */
const planGroup = (
  current: CurrentUser | null,
  stored: Version | undefined,
  intent: Extract<UserIntent, { kind: 'group' }>,
  options: PlanOptions,
  deletedVersion: Version | undefined,
): UserPlan => {
  const { username, group, member, version } = intent;
  if (current === null) {
    if (!incomparable(version, deletedVersion) && isStale(version, deletedVersion))
      return skipped('stale-version', stored);
    return skipped('not-existing', undefined);
  }
  if (!incomparable(version, deletedVersion) && isStale(version, deletedVersion))
    return skipped('stale-version', stored);
  const attribute = options.groupsVersionAttribute;
  const guarded = attribute !== undefined && version !== NO_VERSION;
  const states = guarded ? groupStatesOf(current, attribute) : undefined;
  const state = states?.get(group);
  const rowKey = intent.role ?? group;
  const row = state?.rows?.get(rowKey);
  // An entry that does not list its rows guards the group as a whole (written before rows were kept).
  const rowVersion = state === undefined ? undefined : state.rows === undefined ? state.version : row?.version;
  const isMember = current.groups?.includes(group);
  if (incomparable(version, rowVersion))
    return planGroupByState(intent, state?.rows, rowKey, isMember, options, stored);
  if (rowVersion !== undefined && version < rowVersion) return skipped('stale-version', stored);
  if (rowVersion !== undefined && version === rowVersion) {
    // The same row again. A creation records the versions of the memberships it brings along
    // in its AdminCreateUser, before their adds (see UserApplier): complete an add cut short
    // there, write no version. (Elsewhere a version is written after its membership call.)
    if (member && isMember === false)
      return { calls: [{ api: 'AdminAddUserToGroup', username, group }], appliedVersion: stored };
    return skipped('stale-version', stored);
  }
  let rows: Map<string, RoleRowState> | undefined;
  if (states !== undefined) {
    rows = new Map(state?.rows);
    rows.set(rowKey, { version, granted: member });
  }
  let call: CognitoCall | undefined;
  if (member) {
    if (isMember !== true) call = { api: 'AdminAddUserToGroup', username, group };
  } else {
    if (!options.removeGroups || !options.ownsGroup(group)) return skipped('filtered', stored);
    // Another row of the user still grants the group: the membership stays.
    const stillGranted = rows !== undefined && [...rows.values()].some((r) => r.granted);
    if (!stillGranted && isMember !== false) call = { api: 'AdminRemoveUserFromGroup', username, group };
  }
  if (states === undefined || rows === undefined)
    return call === undefined ? skipped('no-change', stored) : { calls: [call], appliedVersion: stored };
  const next = new Map(states);
  next.set(group, {
    version: state === undefined || orderOf(version, state.version) === 'newer' ? version : state.version,
    rows,
  });
  const encoded = encodeGroupStates(next);
  const calls: CognitoCall[] = call === undefined ? [] : [call];
  calls.push({ api: 'AdminUpdateUserAttributes', username, attributes: { [attribute as string]: encoded.value } });
  const plan: UserPlan = { calls, appliedVersion: stored };
  if (encoded.dropped.length > 0) plan.droppedGroupGuards = encoded.dropped;
  return plan;
};

/**
 * A role row whose version cannot be ordered with the one stored for it (see orderOf): the
 * membership is compared with Cognito and changed when it differs (adds and removals can be
 * undone by the row's next event), and no version is recorded, so the stored one stays.
 */
const planGroupByState = (
  intent: Extract<UserIntent, { kind: 'group' }>,
  rows: ReadonlyMap<string, RoleRowState> | undefined,
  rowKey: string,
  isMember: boolean | undefined,
  options: PlanOptions,
  stored: Version | undefined,
): UserPlan => {
  const { username, group, member } = intent;
  let call: CognitoCall | undefined;
  if (member) {
    if (isMember !== true) call = { api: 'AdminAddUserToGroup', username, group };
  } else if (options.removeGroups && options.ownsGroup(group)) {
    const otherGrant = [...(rows ?? [])].some(([key, r]) => key !== rowKey && r.granted);
    if (!otherGrant && isMember !== false) call = { api: 'AdminRemoveUserFromGroup', username, group };
  }
  return call === undefined
    ? { ...skipped('no-change', stored), incomparableVersion: true }
    : { calls: [call], appliedVersion: stored, incomparableVersion: true };
};

/**
 * Cognito returns the version as an ordinary attribute; the adapter does not know which one,
 * so the planner reads it here. An explicit `version` (e.g. from a cache) wins.
 */
export const storedVersionOf = (current: CurrentUser, versionAttribute: string): Version | undefined => {
  if (current.version !== undefined) return current.version;
  const stored = current.attributes[versionAttribute];
  return stored === undefined || stored === '' ? undefined : stored;
};

/** The per-group versions Cognito holds (parsed now unless the reader filled them in). */
export const groupVersionsOf = (current: CurrentUser, attribute: string): GroupVersions =>
  current.groupVersions ?? parseGroupVersions(current.attributes[attribute]);

/** The per-group states (versions and granting rows) Cognito holds. */
export const groupStatesOf = (current: CurrentUser, attribute: string): GroupStates =>
  current.groupVersions !== undefined
    ? new Map([...current.groupVersions].map(([group, version]) => [group, { version }]))
    : parseGroupStates(current.attributes[attribute]);

/**
 * The calls that bring Cognito's `current` user to what `intent` wants.
 * `deletedVersion`: a remembered delete of this username (the user is gone, so Cognito cannot
 * hold its version); intents not newer than it are stale, so an older create replayed after a
 * delete does not resurrect the user.
 */
export const planUser = (
  current: CurrentUser | null,
  intent: UserIntent,
  options: PlanOptions,
  deletedVersion?: Version,
): UserPlan => {
  const stored = current === null ? undefined : storedVersionOf(current, options.versionAttribute);
  switch (intent.kind) {
    case 'upsert':
      return planUpsert(current, stored, intent, options, deletedVersion);
    case 'delete':
      return planDelete(current, stored, intent, options, deletedVersion);
    case 'group':
      return planGroup(current, stored, intent, options, deletedVersion);
  }
};
