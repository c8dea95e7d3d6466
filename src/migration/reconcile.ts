// `reconcile`: the legacy table against the user pool, user by user, in bounded memory.
//   1. ListUsers, page by page (PaginationToken, UserList rate) -> CompactUserIndex of the users
//      whose username has the mapping's shape (username -> hash of the owned state); users of
//      any other shape are "foreign": counted, never touched. (A pool with email or phone as
//      username is read through adapters/cognito/pool-usernames.ts: users by their key
//      attribute, those without one foreign.)
//   2. The users table in key order (keyset pages) -> desired user -> look up in the index:
//      absent = missing; hash differs = candidate, confirmed by AdminGetUser and diffed per
//      attribute (only mismatches cost a UserRead).
//   3. Index entries never matched = extra: ours by shape, with no row behind them.
// Group memberships, when the mapping derives groups (a users column and/or the roles table):
// after the listing, ListUsersInGroup for each group the mapping owns folds a set hash of every
// user's groups into the index (memberships.ts says why that beats AdminListGroupsForUser per
// user); the scan reads the roles of each page in one query and compares the desired set's hash;
// a user whose hashes differ costs AdminGetUser + AdminListGroupsForUser, and only then.
// --repair sends the desired state through the sync's own planner and UserApplier (same rate
// limits, same version guard) with a version just above what Cognito holds (see repairVersion).
import { withEpoch } from '../pipeline/decode/version.js';
import type { DesiredUser, UserIntent, Version } from '../core/types.js';
import { errorMessage } from '../errors.js';
import type { CognitoDirectory, CognitoGateway } from '../adapters/cognito/cognito-gateway.js';
import type { LegacyDatabase } from '../adapters/legacy-db/legacy-database.js';
import type { UserApplier } from '../pipeline/apply/user-applier.js';
import { desiredUserFromRow, UNKNOWN, type CompiledMapping } from '../pipeline/map/index.js';
import { redactText } from '../ops/redact.js';
import type { Row } from '../core/types.js';
import { storedVersionOf } from '../pipeline/plan/index.js';
import { forEachLimit } from '../runtime/concurrency.js';
import { CompactUserIndex } from './compact-user-index.js';
import {
  comparesGroups,
  desiredGroups,
  diffGroups,
  groupHash,
  groupSetHash,
  namedGroups,
  rolesKeyOf,
  type GroupDifference,
} from './memberships.js';
import {
  bumpVersion,
  desiredHash,
  diffOwned,
  maxVersion,
  ownedNames,
  stateHash,
  type AttributeDifference,
} from './owned-state.js';
import { usernamePattern } from './username-pattern.js';

export interface ReconcileInput {
  db: LegacyDatabase;
  columns: readonly string[];
  pageSize: number;
  directory: CognitoDirectory;
  gateway: CognitoGateway;
  mapping: CompiledMapping;
  examples: number;
  repair?: { applier: UserApplier; deleteExtra: boolean; concurrency: number };
  /**
   * Whether CONFIRMED means a password the user knows (false when the sync creates users
   * CONFIRMED with a random one: createPolicy always, createdUserStatus CONFIRMED). Default true.
   */
  passwordsMeasurable?: boolean;
}

/**
 * The rollout's progress, counted on the way (no read of its own): legacy users in the cohort
 * (everyone without one) from the scan; the pool's users of the mapping's shape in the cohort,
 * and those CONFIRMED (can sign in with a password), from the listing.
 */
export interface RolloutProgress {
  legacyUsers: number;
  inCognito: number;
  /** null when CONFIRMED cannot be told from a random password (see passwordsMeasurable). */
  passwordReady: number | null;
}

export interface RepairSummary {
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  failed: number;
  errors: string[];
}

export interface ReconcileReport {
  legacy: { users: number; unmappable: number };
  cognito: { indexed: number; foreign: number; foreignExamples: string[] };
  /** In the DB, not in Cognito. With createPolicy existing-only these are "not migrated yet", not drift. */
  missing: { count: number; examples: string[] };
  notMigrated: number;
  /** In Cognito with a username of the mapping's shape, no row in the DB. */
  extra: { count: number; examples: string[] };
  /**
   * In Cognito, with a row in the DB that the mapping refuses (an invalid email, an unknown
   * status): the sync holds them at their last valid state. Fix the row; never deleted.
   */
  held: { count: number; examples: { username: string; reason: string }[] };
  /** Legacy users outside the mapping's cohort (not drift), and how many of them Cognito holds anyway. */
  outsideCohort: { legacy: number; inCognito: number };
  rollout: RolloutProgress;
  /** Users whose owned attributes, enabled flag or group memberships differ. */
  different: {
    count: number;
    byAttribute: Record<string, number>;
    examples: { username: string; differences: AttributeDifference[]; groups?: GroupDifference }[];
  };
  memberships: MembershipReport;
  drift: number;
  repair?: RepairSummary;
  memory: { indexBytes: number; bytesPerUser: number };
}

/** Group memberships compared (all zero and `compared: false` when the mapping has no groups). */
export interface MembershipReport {
  compared: boolean;
  /** Groups listed with ListUsersInGroup: the mapping's groups.map values, else the pool's groups. */
  groups: string[];
  /** Users (counted in `different` too) with at least one missing or extra membership. */
  users: number;
  /** Memberships the legacy data has and Cognito lacks. */
  missing: number;
  /** Memberships Cognito has that the sync would remove (groups.managed, owned groups only). */
  extra: number;
  byGroup: Record<string, { missing: number; extra: number }>;
  /** Role rows the mapping refuses (groups.unmapped: error): the sync sends them to the DLQ. */
  refusedRoles: number;
}

const ORIGIN = { topic: 'reconcile', partition: 0, offset: '0' };

/**
 * Above what Cognito holds (so the planner applies it) yet as low as possible: the stored
 * version + 1 keeps every later Debezium event newer; the position of the read covers users
 * Cognito holds no version for, or an older one (changes the read saw sort below it, later
 * ones above, like the Lambda's).
 */
export const repairVersion = (stored: Version | undefined, snapshotVersion: Version): Version =>
  maxVersion(bumpVersion(stored), snapshotVersion);

/** The username of a row the mapping refuses otherwise (it is usually built from the key alone). */
const usernameOfRow = (mapping: CompiledMapping, row: Row): string | undefined => {
  try {
    const username = mapping.usernameFromRow(row);
    return username === UNKNOWN ? undefined : username;
  } catch {
    return undefined;
  }
};

export const reconcile = async (input: ReconcileInput): Promise<ReconcileReport> => {
  const { mapping, examples } = input;
  const owned = ownedNames(mapping);
  const pattern = usernamePattern(mapping.spec.username);
  const existingOnly = mapping.createPolicy === 'existing-only';
  const report: ReconcileReport = {
    legacy: { users: 0, unmappable: 0 },
    cognito: { indexed: 0, foreign: 0, foreignExamples: [] },
    missing: { count: 0, examples: [] },
    notMigrated: 0,
    extra: { count: 0, examples: [] },
    held: { count: 0, examples: [] },
    outsideCohort: { legacy: 0, inCognito: 0 },
    rollout: { legacyUsers: 0, inCognito: 0, passwordReady: input.passwordsMeasurable === false ? null : 0 },
    different: { count: 0, byAttribute: {}, examples: [] },
    memberships: {
      compared: comparesGroups(mapping),
      groups: [],
      users: 0,
      missing: 0,
      extra: 0,
      byGroup: {},
      refusedRoles: 0,
    },
    drift: 0,
    memory: { indexBytes: 0, bytesPerUser: 0 },
  };
  const repair = input.repair;
  const repaired: RepairSummary = { created: 0, updated: 0, deleted: 0, unchanged: 0, failed: 0, errors: [] };
  const sample = (list: string[], value: string): void => {
    if (list.length < examples) list.push(value);
  };

  const apply = async (username: string, intent: UserIntent): Promise<void> => {
    if (!repair) return;
    try {
      const result = await repair.applier.apply(username, [intent]);
      if (result.calls.includes('AdminCreateUser')) repaired.created++;
      else if (result.calls.includes('AdminDeleteUser')) repaired.deleted++;
      else if (result.calls.length > 0) repaired.updated++;
      else repaired.unchanged++;
    } catch (error) {
      repaired.failed++;
      sample(repaired.errors, `${username}: ${errorMessage(error)}`);
    }
  };
  const upsert = (user: DesiredUser, version: Version): UserIntent => ({
    kind: 'upsert',
    user,
    version,
    origin: ORIGIN,
    sourceTsMs: null,
  });

  const withGroups = report.memberships.compared;
  const rules = { removeGroups: mapping.groupsManaged, ownsGroup: mapping.ownsGroup };
  const memberships = report.memberships;
  const countGroups = (diff: GroupDifference): void => {
    for (const g of diff.missing) (memberships.byGroup[g] ??= { missing: 0, extra: 0 }).missing++;
    for (const g of diff.extra) (memberships.byGroup[g] ??= { missing: 0, extra: 0 }).extra++;
    memberships.missing += diff.missing.length;
    memberships.extra += diff.extra.length;
    memberships.users++;
  };

  const index = new CompactUserIndex(undefined, withGroups);
  try {
    for await (const page of input.directory.listUsers()) {
      for (const user of page) {
        if (user.foreign === true || !pattern.matches(user.username)) {
          report.cognito.foreign++;
          sample(report.cognito.foreignExamples, user.username);
          continue;
        }
        index.add(user.username, stateHash(owned, user.attributes, user.enabled));
        if (mapping.inCohort(user.username)) {
          report.rollout.inCognito++;
          if (report.rollout.passwordReady !== null && user.status === 'CONFIRMED') report.rollout.passwordReady++;
        }
      }
    }
    report.cognito.indexed = index.size;

    if (withGroups) {
      memberships.groups = namedGroups(mapping) ?? (await input.directory.listPoolGroups());
      for (const group of memberships.groups) {
        const hash = groupHash(group);
        for await (const page of input.directory.listUsersInGroup(group)) {
          for (const username of page) if (pattern.matches(username)) index.addGroup(username, hash);
        }
      }
    }

    let lastSnapshot = '';
    for await (const page of input.db.scanUsers({ columns: input.columns, pageSize: input.pageSize })) {
      // The position of the read, in the source epoch the read belongs to (now: the newest begun).
      const epoch = mapping.epochAt(Date.now());
      lastSnapshot = withEpoch(epoch, page.snapshotVersion);
      // Per user: a row another transaction was writing when it was read has a lower version.
      const readVersions = new Map<string, Version>();
      const candidates: { user: DesiredUser; groups: boolean }[] = [];
      const missing: DesiredUser[] = [];
      // One query for the roles of the whole page (the roles table is read only when mapped).
      const roles =
        withGroups && mapping.rolesTable
          ? await input.db.rolesOf(page.rows.flatMap((r) => rolesKeyOf(mapping, r) ?? []))
          : undefined;
      for (const [rowIndex, row] of page.rows.entries()) {
        report.legacy.users++;
        const desired = desiredUserFromRow(mapping, row);
        if (!desired.ok) {
          report.legacy.unmappable++; // the sync sends these to the DLQ; assess lists them
          // The sync keeps such a user at its last valid state (its record is in the DLQ): a
          // person with a typo in the legacy row, held, never "extra" and never deleted.
          const username = usernameOfRow(mapping, row);
          if (username !== undefined && index.hold(username)) {
            report.held.count++;
            if (report.held.examples.length < examples)
              report.held.examples.push({ username, reason: redactText(desired.error.message) });
          }
          continue;
        }
        if (!mapping.inCohort(desired.value.username)) {
          // Not in the migration (yet): never missing. One the sync created before the cohort
          // shrank is left alone, never "extra".
          report.outsideCohort.legacy++;
          if (index.hold(desired.value.username)) report.outsideCohort.inCognito++;
          continue;
        }
        report.rollout.legacyUsers++;
        let user = desired.value;
        if (withGroups) {
          const key = rolesKeyOf(mapping, row);
          const wanted = desiredGroups(mapping, user.groups, (key !== undefined && roles?.get(key)) || []);
          memberships.refusedRoles += wanted.refusedRoles;
          // The full set, so a repair sets exactly these (see planUser); a copy, as desired users
          // may be shared (desired-user-memo.ts).
          user = { ...user, groups: wanted.groups };
        }
        const found = index.match(
          user.username,
          desiredHash(owned, user),
          withGroups ? groupSetHash(user.groups ?? []) : undefined,
        );
        const rowVersion = page.rowVersions?.[rowIndex];
        if (rowVersion !== undefined && rowVersion !== page.snapshotVersion)
          readVersions.set(user.username, withEpoch(epoch, rowVersion));
        if (!found.found) missing.push(user);
        else if (!found.sameState || !found.sameGroups) candidates.push({ user, groups: !found.sameGroups });
      }
      for (const user of missing) {
        if (existingOnly) {
          report.notMigrated++;
          continue;
        }
        report.missing.count++;
        sample(report.missing.examples, user.username);
      }
      if (repair && !existingOnly) {
        await forEachLimit(missing, repair.concurrency, (user) =>
          apply(user.username, upsert(user, readVersions.get(user.username) ?? lastSnapshot)),
        );
      }
      await forEachLimit(candidates, repair?.concurrency ?? 4, async ({ user, groups }) => {
        // Groups are read only for users whose membership hash differs.
        const current = await input.gateway.getUser(user.username, groups);
        if (current === null) return; // deleted since the listing: the next run sees it as missing
        const differences = diffOwned(owned, user, current);
        const groupDiff = groups && current.groups ? diffGroups(user.groups ?? [], current.groups, rules) : undefined;
        const groupsDrifted = groupDiff !== undefined && groupDiff.missing.length + groupDiff.extra.length > 0;
        // None: changed back since the listing, a hash collision, or (add-only groups) only
        // memberships the sync would never remove.
        if (differences.length === 0 && !groupsDrifted) return;
        report.different.count++;
        for (const d of differences)
          report.different.byAttribute[d.name] = (report.different.byAttribute[d.name] ?? 0) + 1;
        if (groupsDrifted) countGroups(groupDiff);
        if (report.different.examples.length < examples) {
          report.different.examples.push(
            groupsDrifted
              ? { username: user.username, differences, groups: groupDiff }
              : { username: user.username, differences },
          );
        }
        await apply(
          user.username,
          upsert(
            user,
            repairVersion(
              storedVersionOf(current, mapping.versionAttribute),
              readVersions.get(user.username) ?? lastSnapshot,
            ),
          ),
        );
      });
    }

    const deleteExtra = async (batch: string[]): Promise<void> => {
      if (!repair?.deleteExtra) return;
      await forEachLimit(batch, repair.concurrency, async (username) => {
        const current = await input.gateway.getUser(username, false);
        if (current === null) return;
        await apply(username, {
          kind: 'delete',
          username,
          version: repairVersion(storedVersionOf(current, mapping.versionAttribute), lastSnapshot),
          origin: ORIGIN,
          sourceTsMs: null,
        });
      });
    };
    let batch: string[] = [];
    for (const username of index.unmatched()) {
      report.extra.count++;
      sample(report.extra.examples, username);
      batch.push(username);
      if (batch.length >= input.pageSize) {
        await deleteExtra(batch);
        batch = [];
      }
    }
    await deleteExtra(batch);
    report.memory = {
      indexBytes: index.memoryBytes,
      bytesPerUser: index.size === 0 ? 0 : Math.round(index.memoryBytes / index.size),
    };
  } finally {
    index.dispose();
  }
  report.drift = report.missing.count + report.extra.count + report.different.count;
  if (repair) report.repair = repaired;
  return report;
};
