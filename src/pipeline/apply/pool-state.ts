// What this sync knows about the user pool, per username, so that most events need no Cognito
// read: the newest version whose state Cognito reflects, a fingerprint of the compared
// attributes (state-digest.ts), the memberships and per-group versions, or that the user is
// absent. An optimisation only: Cognito stays the truth. Every write is still planned against
// a read, except where the known state makes the outcome certain:
//   - an event not newer than the known version is stale (no read, no write);
//   - an upsert whose desired fingerprint equals Cognito's changes nothing (no read, no write);
//   - a create for a user known to be absent (no read; a racing creation answers
//     UsernameExists and the applier reads and re-plans);
//   - a membership add for a user whose memberships are known (no read; adds are idempotent).
//
// Where it comes from: the applier's own reads and writes, and once per start a prime from
// ListUsers pages (60 users a call, every attribute, on the UserList budget) and, when the
// mapping manages groups, ListUsersInGroup pages of the groups it owns. The prime fills only
// users the applier has not seen yet, so a user read or written meanwhile keeps the fresher
// knowledge. Until the prime has listed every user, absence is not known (a user not in the
// state may exist), and memberships from it count only once every owned group was listed.
//
// Memory: one fixed-shape entry per user; `npm run bench` measures 1,000,000 primed users at
// about 270 bytes each with the username (RSS 448 MiB). Bounded by `capacity`: the least
// recently used entries are dropped, and once one was, absence is no longer known (reads again).
import type { CurrentUser, Version } from '../../core/types.js';
import { cognitoDigest, type StateDigest } from '../plan/state-digest.js';

export interface KnownUser {
  /** False: not in Cognito (read as absent, deleted by us). */
  present: boolean;
  /** The newest version whose state Cognito reflects (>= the version attribute); for absent users, a delete's version. */
  version?: Version;
  /** True when `version` is a delete's (so an older create must not resurrect the user). */
  deleted: boolean;
  /** Fingerprint of the compared attributes and the enabled flag. */
  digest?: StateDigest;
  /** Memberships (at least every owned group), when known. */
  groups?: readonly string[];
  /** Raw value of groups.versionAttribute, when known ('' = none). */
  groupVersions?: string;
  /** From the prime (not from this sync's own reads and writes). */
  primed: boolean;
}

/** One fixed shape for every entry (all fields set in the constructor): small, in-object. */
class Entry implements KnownUser {
  version: Version | undefined = undefined;
  digest: StateDigest | undefined = undefined;
  groups: readonly string[] | undefined = undefined;
  groupVersions: string | undefined = undefined;
  constructor(
    public present: boolean,
    public deleted: boolean,
    public primed: boolean,
  ) {}
}

export interface PoolStateOptions {
  capacity: number;
  /**
   * Other instances of the consumer group write the same pool (cognito.instances > 1): what
   * they write is invisible here, so only versions are kept (Cognito's versions only grow) and
   * absence; fingerprints and memberships would go stale and hide changes.
   */
  shared?: boolean;
  /** The attributes the planner compares (state-digest.ts comparedAttributes). */
  comparedAttributes: readonly string[];
  versionAttribute: string;
  groupsVersionAttribute?: string;
}

/** What a prime reads: the CognitoDirectory's listing calls. */
export interface PoolListing {
  listUsers(
    pageSize?: number,
  ): AsyncIterable<{ username: string; attributes: Record<string, string>; enabled: boolean }[]>;
  listUsersInGroup(group: string): AsyncIterable<string[]>;
}

export interface PrimeReport {
  users: number;
  memberships: number;
  listUsersPages: number;
  groupPages: number;
}

// Interned membership lists: most users share a handful of distinct lists.
const interned = new Map<string, readonly string[]>();
const intern = (groups: readonly string[]): readonly string[] => {
  const sorted = [...groups].sort();
  const key = sorted.join('\u0000');
  let list = interned.get(key);
  if (list === undefined) {
    list = Object.freeze(sorted);
    if (interned.size < 10_000) interned.set(key, list);
  }
  return list;
};

export class PoolState {
  private readonly entries = new Map<string, KnownUser>();
  /** Every user of the pool was listed (and none dropped since): absence is known. */
  private listed = false;
  /** Every owned group was listed: memberships from the prime count. */
  private groupsListed = false;
  private evicted = false;

  constructor(private readonly o: PoolStateOptions) {}

  get size(): number {
    return this.entries.size;
  }

  /** True when a username missing from the state is known to be absent from the pool. */
  get complete(): boolean {
    return this.listed && !this.evicted;
  }

  get(username: string): KnownUser | undefined {
    const hit = this.entries.get(username);
    if (hit) {
      this.entries.delete(username);
      this.entries.set(username, hit);
    }
    return hit;
  }

  /** Known to be absent from the pool (and not because of a remembered delete). */
  knowsAbsent(username: string): boolean {
    const known = this.entries.get(username);
    return known === undefined ? this.complete : !known.present;
  }

  /** Memberships the planner may rely on (undefined: read them). */
  knownGroups(known: KnownUser): readonly string[] | undefined {
    return known.primed && !this.groupsListed ? undefined : known.groups;
  }

  /**
   * What Cognito holds after a read or after our calls: `user` null means absent.
   * `reflects`: a version whose state Cognito is known to reflect beyond its attribute (a
   * "no change" plan), never moving the known version backwards.
   */
  observe(username: string, user: CurrentUser | null, reflects?: Version, deletedVersion?: Version): void {
    if (this.o.capacity === 0) return;
    const prior = this.entries.get(username);
    let entry: KnownUser;
    if (user === null) {
      entry = new Entry(false, deletedVersion !== undefined || prior?.deleted === true, false);
      const version = newest(deletedVersion, prior?.present === false ? prior.version : undefined);
      if (version !== undefined) entry.version = version;
    } else {
      const stored = user.attributes[this.o.versionAttribute];
      entry = new Entry(true, false, false);
      if (!this.o.shared) entry.digest = cognitoDigest(user.attributes, user.enabled, this.o.comparedAttributes);
      const version = newest(
        newest(stored === '' ? undefined : stored, reflects),
        prior?.present ? prior.version : undefined,
      );
      if (version !== undefined) entry.version = version;
      // Shared with other instances: versions only (see PoolStateOptions.shared).
      if (!this.o.shared) {
        if (user.groups !== undefined) entry.groups = intern(user.groups);
        else if (prior?.present && prior.groups !== undefined && (!prior.primed || this.groupsListed))
          entry.groups = prior.groups;
        if (this.o.groupsVersionAttribute !== undefined)
          entry.groupVersions = user.attributes[this.o.groupsVersionAttribute] ?? '';
      }
    }
    this.put(username, entry);
  }

  /**
   * Forget what is known of a user (a write failed halfway, or a creation may be in flight
   * elsewhere): the next apply reads it. Once the pool was listed, a missing entry means
   * "absent", so an entry that knows nothing stays in its place.
   */
  forget(username: string): void {
    if (this.listed) this.put(username, new Entry(true, false, false));
    else this.entries.delete(username);
  }

  /**
   * This instance was given partitions another member worked on meanwhile (a rebalance): what
   * that member wrote is not known here. Keep versions and absence (safe: versions only grow, a
   * creation that meets a user re-plans, a delete always reads); forget fingerprints and
   * memberships, so those users are read before anything is judged unchanged.
   */
  distrust(): void {
    for (const entry of this.entries.values()) {
      entry.digest = undefined;
      entry.groups = undefined;
      entry.groupVersions = undefined;
    }
    this.groupsListed = false;
  }

  /** Memberships (and the per-group versions) after calls planned without reading the user. */
  observeGroups(username: string, groups: readonly string[] | undefined, groupVersions: string | undefined): void {
    if (this.o.shared) return;
    const entry = this.entries.get(username);
    if (entry === undefined || !entry.present) return;
    if (groups !== undefined) entry.groups = intern(groups);
    if (groupVersions !== undefined) entry.groupVersions = groupVersions;
  }

  private put(username: string, entry: KnownUser): void {
    this.entries.delete(username);
    this.entries.set(username, entry);
    if (this.entries.size > this.o.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
      this.evicted = true;
    }
  }

  /**
   * Lists the pool (ListUsers) and, with `groups`, the members of each owned group
   * (ListUsersInGroup), filling the users the applier has not seen. Safe to run while the
   * applier works: its own observations win.
   */
  async prime(listing: PoolListing, groups: readonly string[] | undefined): Promise<PrimeReport> {
    const report: PrimeReport = { users: 0, memberships: 0, listUsersPages: 0, groupPages: 0 };
    const primedHere = new Set<string>();
    for await (const page of listing.listUsers(60)) {
      report.listUsersPages++;
      for (const u of page) {
        report.users++;
        if (this.entries.has(u.username) || this.o.capacity === 0) continue;
        const stored = u.attributes[this.o.versionAttribute];
        const entry = new Entry(true, false, true);
        if (stored !== undefined && stored !== '') entry.version = stored;
        if (!this.o.shared) {
          entry.digest = cognitoDigest(u.attributes, u.enabled, this.o.comparedAttributes);
          if (groups !== undefined) entry.groups = intern([]);
          if (this.o.groupsVersionAttribute !== undefined)
            entry.groupVersions = u.attributes[this.o.groupsVersionAttribute] ?? '';
        }
        this.put(u.username, entry);
        primedHere.add(u.username);
      }
    }
    this.listed = true;
    if (groups === undefined || this.o.shared) return report;
    for (const group of groups) {
      for await (const names of listing.listUsersInGroup(group)) {
        report.groupPages++;
        for (const name of names) {
          const entry = this.entries.get(name);
          // Only entries the prime made and nobody touched since (own knowledge is fresher).
          if (entry === undefined || !entry.primed || !primedHere.has(name)) continue;
          entry.groups = intern([...(entry.groups ?? []), group]);
          report.memberships++;
        }
      }
    }
    this.groupsListed = true;
    return report;
  }
}

const newest = (a: Version | undefined, b: Version | undefined): Version | undefined =>
  a === undefined ? b : b === undefined || a >= b ? a : b;
