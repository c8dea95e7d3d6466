// Group memberships for `reconcile`: which groups a legacy row says the user belongs to, a set
// hash that both sides can build in any order, and the per-user difference.
//
// Cognito side: ListUsersInGroup per owned group (UserList, 60 members a page) rather than
// AdminListGroupsForUser per user (UserRead, one call per user at least). With m memberships over
// n users that is about m/60 calls instead of n; at the default shares (UserList 15/s, UserRead
// 60/s) the group listing of a pool where every user has one group takes 1/15 of the time a
// per-user listing would, and only users whose hash differs are then read one by one.
import { createHash } from 'node:crypto';
import type { Row } from '../core/types.js';
import { MappingError } from '../errors.js';
import type { CompiledMapping } from '../pipeline/map/index.js';

export type GroupHash = [number, number];

/** 64 bits of SHA-1 of one group name. */
export const groupHash = (group: string): GroupHash => {
  const d = createHash('sha1').update(group).digest();
  return [d.readUInt32BE(0), d.readUInt32BE(4)];
};

/**
 * XOR of the members' hashes: order-free, so the Cognito side can fold memberships in one group
 * at a time while the legacy side hashes a whole set. Sets differ with probability 2^-64 of a
 * false "same" (no adversary picks group names here).
 */
export const groupSetHash = (groups: Iterable<string>): GroupHash => {
  let hi = 0;
  let lo = 0;
  for (const g of groups) {
    const [h, l] = groupHash(g);
    hi = (hi ^ h) >>> 0;
    lo = (lo ^ l) >>> 0;
  }
  return [hi, lo];
};

/** Whether reconcile compares memberships: the mapping derives groups from a column or a roles table. */
export const comparesGroups = (mapping: CompiledMapping): boolean =>
  mapping.groupsFromRow !== undefined || mapping.rolesTable !== undefined;

/**
 * The groups the mapping names up front (groups.map); undefined when roles are group names
 * as they are (then the pool's own group list is the set to check).
 */
export const namedGroups = (mapping: CompiledMapping): string[] | undefined => {
  const map = mapping.spec.groups?.map;
  return map ? [...new Set(Object.values(map))].sort() : undefined;
};

export interface DesiredGroups {
  groups: string[];
  /** Roles that broke the mapping's rules (unmapped: error, or a bad group name): left out. */
  refusedRoles: number;
}

/**
 * Groups of one user: the groups column (if any) plus the user's rows in the roles table (if
 * any), each role through groups.map, sorted. A role the mapping refuses is counted, not fatal:
 * the sync sends that role row to the DLQ and still syncs the user.
 */
export const desiredGroups = (
  mapping: CompiledMapping,
  fromRow: readonly string[] | undefined,
  roles: readonly unknown[],
): DesiredGroups => {
  const out = new Set(fromRow ?? []);
  let refusedRoles = 0;
  for (const role of roles) {
    try {
      const group = mapping.groupForRole(role);
      if (group !== undefined) out.add(group);
    } catch (error) {
      if (!(error instanceof MappingError)) throw error;
      refusedRoles++;
    }
  }
  return { groups: [...out].sort(), refusedRoles };
};

/** The users-table value the roles table refers to, as rolesOf keys its answer (text). */
export const rolesKeyOf = (mapping: CompiledMapping, row: Row): string | undefined => {
  const column = mapping.rolesTable?.usersKeyColumn;
  const value = column === undefined ? undefined : row[column];
  return value === undefined || value === null ? undefined : String(value);
};

export interface GroupDifference {
  /** The legacy data says member, Cognito says not. */
  missing: string[];
  /** Cognito says member, the legacy data says not, and the sync would remove it. */
  extra: string[];
}

export interface MembershipRules {
  /** groups.managed: the sync removes memberships; add-only mappings never call one extra. */
  removeGroups: boolean;
  /** Groups the mapping controls; memberships in others are somebody else's. */
  ownsGroup: (group: string) => boolean;
}

/** Exactly what the planner would change: adds for missing, removals for owned extras when managed. */
export const diffGroups = (
  desired: readonly string[],
  current: readonly string[],
  rules: MembershipRules,
): GroupDifference => {
  const have = new Set(current);
  const want = new Set(desired);
  return {
    missing: desired.filter((g) => !have.has(g)).sort(),
    extra: rules.removeGroups ? current.filter((g) => !want.has(g) && rules.ownsGroup(g)).sort() : [],
  };
};
