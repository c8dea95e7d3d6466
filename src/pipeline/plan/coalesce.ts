// Several changes to one user inside a batch -> the fewest intents with the same end state.
// Per user, in arrival order, dropping intents not newer than one already seen:
//   upsert, upsert     -> the last, with what it does not know (TOAST) from the earlier one
//   upsert, delete     -> delete
//   delete, upsert     -> delete, upsert (a recreate: the new user starts from nothing), but
//                         at one source position -> upsert (a primary-key change, key-change.ts)
//   group intents      -> the last per role row (per group when rows are not told apart); folded into the upsert when it carries the full
//                         set of groups, otherwise kept, after the user's own intent.
// Folded-away versions are remembered in `supersededVersion` (see UserIntent).
import type { DesiredUser, UpsertFallback, UserIntent, Version } from '../../core/types.js';
import { NO_VERSION } from '../decode/version.js';
import { isKeyChangeCreate } from './key-change.js';

type Upsert = Extract<UserIntent, { kind: 'upsert' }>;
type Delete = Extract<UserIntent, { kind: 'delete' }>;
type Group = Extract<UserIntent, { kind: 'group' }>;

const usernameOf = (intent: UserIntent): string => (intent.kind === 'upsert' ? intent.user.username : intent.username);

const maxVersion = (a: Version | undefined, b: Version | undefined): Version | undefined =>
  a === undefined ? b : b === undefined || a >= b ? a : b;

/** The version an intent folds away when `next` replaces it (a duplicate folds nothing). */
const foldedBy = (previous: Upsert | Delete, next: UserIntent): Version | undefined =>
  maxVersion(previous.version === next.version ? undefined : previous.version, previous.supersededVersion);

const sameList = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]));

/** Same desired state: folding one into the other leaves no distinct intermediate state behind. */
const sameState = (a: DesiredUser, b: DesiredUser): boolean => {
  if (a === b) return true; // the mapper hands out one object per distinct mapped row
  if (a.enabled !== b.enabled || !sameList(a.groups, b.groups) || !sameList(a.unknown, b.unknown)) return false;
  let count = 0;
  for (const name in a.attributes) {
    if (a.attributes[name] !== b.attributes[name]) return false;
    count++;
  }
  return count === Object.keys(b.attributes).length;
};

/**
 * `next` wins. What it marks unknown (TOAST) is taken from `previous` when that knew it, as a
 * versioned fallback rather than a plain value: the planner uses it only when it is newer than
 * Cognito. (A replayed older event arriving just before a new one is not the row's previous
 * version; Cognito then holds the newer value and must keep it.)
 */
const mergeUpserts = (previous: Upsert, next: Upsert): Upsert => {
  // Bursts of row updates that change no mapped column (last_login_at) fold to nothing to write.
  const folded = sameState(previous.user, next.user) ? previous.supersededVersion : foldedBy(previous, next);
  const supersededVersion = maxVersion(folded, next.supersededVersion);
  const merged: Upsert = { ...next };
  if (supersededVersion !== undefined) merged.supersededVersion = supersededVersion;
  const unknown = next.user.unknown;
  const groupsUnknown =
    next.user.groups === undefined && (previous.user.groups !== undefined || previous.fallback?.groups !== undefined);
  if (!unknown && !groupsUnknown) {
    delete merged.fallback;
    return merged;
  }
  const fallback: UpsertFallback = { attributes: {} };
  for (const name of unknown ?? []) {
    const earlier = previous.user.attributes[name];
    const known =
      earlier !== undefined ? { value: earlier, version: previous.version } : previous.fallback?.attributes[name];
    if (known) fallback.attributes[name] = known;
  }
  if (groupsUnknown) {
    const groups =
      previous.user.groups !== undefined
        ? { value: previous.user.groups, version: previous.version }
        : previous.fallback?.groups;
    if (groups) fallback.groups = groups;
  }
  merged.fallback = fallback;
  return merged;
};

const withGroup = (upsert: Upsert, group: Group): Upsert => {
  const groups = upsert.user.groups as string[];
  const has = groups.includes(group.group);
  if (has === group.member) return upsert;
  const next = group.member ? [...groups, group.group].sort() : groups.filter((g) => g !== group.group);
  return { ...upsert, user: { ...upsert.user, groups: next } };
};

const byVersion = (a: UserIntent, b: UserIntent): number =>
  a.version < b.version ? -1 : a.version > b.version ? 1 : 0;

const foldUser = (intents: UserIntent[], out: UserIntent[]): void => {
  let deletion: Delete | undefined;
  let upsert: Upsert | undefined;
  let newest: Version | undefined;
  const groups = new Map<string, Group>();
  for (const intent of intents) {
    if (intent.kind === 'group') {
      // The last per role row: two rows granting one group are two memberships' worth of state.
      const key = intent.role === undefined ? intent.group : `${intent.group}\u0000${intent.role}`;
      const known = groups.get(key);
      if (!known || intent.version >= known.version) groups.set(key, intent);
      continue;
    }
    // Arrival order, not version order: an intent arriving after a newer one is a duplicate or
    // a replay (Debezium re-emits after a restart), stale once the newer one is applied. It must
    // not fill the newer one's unknown attributes either: it is not the row version just before.
    // The create half of a primary-key change replaces its delete half (key-change.ts).
    const keyChange = intent.kind === 'upsert' && upsert === undefined && isKeyChangeCreate(deletion, intent);
    if (keyChange) {
      const superseded = deletion?.supersededVersion;
      upsert =
        superseded === undefined
          ? intent
          : { ...intent, supersededVersion: maxVersion(superseded, intent.supersededVersion) };
      deletion = undefined;
      continue;
    }
    if (intent.version !== NO_VERSION) {
      if (newest !== undefined && intent.version <= newest) continue;
      newest = intent.version;
    } else if (newest !== undefined) {
      // A position-less event (an incremental-snapshot read through ExtractNewRecordState)
      // cannot be ordered against a versioned one: keep the versioned change, which the
      // planner can guard, rather than fold it into an intent it would have to skip.
      continue;
    }
    if (intent.kind === 'upsert') {
      upsert = upsert ? mergeUpserts(upsert, intent) : intent;
    } else {
      let superseded = maxVersion(intent.supersededVersion, upsert ? foldedBy(upsert, intent) : undefined);
      if (deletion) superseded = maxVersion(superseded, foldedBy(deletion, intent));
      deletion = superseded === undefined ? intent : { ...intent, supersededVersion: superseded };
      upsert = undefined;
    }
  }
  if (deletion) out.push(deletion);
  const foldGroups = upsert !== undefined && upsert.user.groups !== undefined;
  if (upsert && foldGroups) for (const group of [...groups.values()].sort(byVersion)) upsert = withGroup(upsert, group);
  if (upsert) out.push(upsert);
  if (!foldGroups) out.push(...[...groups.values()].sort(byVersion));
};

/**
 * Coalesces a batch. Users keep the order of their first intent; each user's intents come out
 * in the order they must be applied (delete, then upsert, then memberships).
 */
export const coalesce = (intents: readonly UserIntent[]): UserIntent[] => {
  if (intents.length < 2) return [...intents];
  // Most users have one intent per batch: a list is made only for the second one.
  const perUser = new Map<string, UserIntent | UserIntent[]>();
  for (const intent of intents) {
    const username = usernameOf(intent);
    const known = perUser.get(username);
    if (known === undefined) perUser.set(username, intent);
    else if (Array.isArray(known)) known.push(intent);
    else perUser.set(username, [known, intent]);
  }
  if (perUser.size === intents.length) return [...intents];
  const out: UserIntent[] = [];
  for (const entry of perUser.values()) {
    if (Array.isArray(entry)) foldUser(entry, out);
    else out.push(entry);
  }
  return out;
};
