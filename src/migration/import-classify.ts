// `cognito-sync import`, per legacy row: where the user goes. Pure: the command reads the rows
// and writes what this decides.
//   - outside the mapping's cohort, or a row the mapping refuses: not imported (counted);
//   - already in the pool: never overwritten by an import (counted; `run` keeps it in sync);
//   - a hash Cognito's import cannot take (import-csv-format.ts): left to the User Migration
//     Lambda (counted by reason);
//   - a value the CSV cannot carry in a column Cognito needs at import (email, phone_number, a
//     required attribute, the version attributes), or a row it cannot carry at all: created
//     afterwards through the sync's planner (AdminCreateUser), at the same version;
//   - everyone else: a line in the job of their hash's algorithm (no hash: the job without one),
//     and, when the CSV does not say everything (disabled, groups, a value left out), a
//     follow-up through the planner once the job is done.
import type { DesiredUser, Row, Version } from '../core/types.js';
import { MappingError } from '../errors.js';
import { importableHash, jobHeader, type ImportAlgorithm } from '../adapters/cognito/import-csv-format.js';
import { parseHash, type SaltedDigestFormat } from '../lambda/password-hash.js';
import { desiredUserFromRow, type CompiledMapping } from '../pipeline/map/index.js';
import { encodeGroupStates, type RoleRowState } from '../pipeline/plan/group-versions.js';
import { csvRow, type CsvRow } from './import-csv.js';
import { desiredGroups } from './memberships.js';

/** A job's key: its algorithm, or NONE for users without a password hash. */
export type JobKey = ImportAlgorithm | 'NONE';

export interface ImportContext {
  mapping: CompiledMapping;
  /** The pool's CSV header (GetCSVHeader; in a dry run, the documented one and the mapping's attributes). */
  poolHeader: readonly string[];
  mfaEnabled: boolean;
  /** Attributes the pool requires (DescribeUserPool): a value of theirs the CSV cannot carry sends the user to the API. */
  requiredAttributes: ReadonlySet<string>;
  /**
   * The pool's AutoVerifiedAttributes (DescribeUserPool); unset in a dry run (not asked). An
   * import job refuses a row that sets none of them verified.
   */
  autoVerified?: ReadonlySet<string>;
  /** The user is in the pool already (listed before the import). */
  inPool: (username: string) => boolean;
  digestFormats?: readonly SaltedDigestFormat[];
}

export interface LegacyUserRow {
  row: Row;
  /** The password hash column; null/empty: no password. */
  secret: string | null;
  /** The read's source position for this row (reconcile's stamp, in the current epoch). */
  version: Version;
  /** The user's rows in the roles table (role text as stored), when the mapping has one. */
  roles: readonly unknown[];
}

export type ImportDecision =
  | { kind: 'outside-cohort'; username: string }
  | { kind: 'unmappable'; reason: string }
  | { kind: 'in-pool'; username: string }
  | { kind: 'lambda'; username: string; reason: string }
  | { kind: 'api'; username: string; reason: string; user: DesiredUser; version: Version }
  | {
      kind: 'job';
      job: JobKey;
      username: string;
      line: string;
      deferred: CsvRow['deferred'];
      /** The full desired user, when the CSV does not carry all of it: applied afterwards at `version`. */
      followUp?: DesiredUser;
      version: Version;
    };

/** The header of a job (the hash column for a job with an algorithm). */
export const headerOf = (poolHeader: readonly string[], job: JobKey): string[] =>
  jobHeader(poolHeader, job === 'NONE' ? undefined : job);

/**
 * groups.versionAttribute's value for a freshly imported user: each role row that grants a group,
 * at the read's version, so the roles topic replayed from the beginning skips what the import
 * already holds and applies every later row (plan/group-versions.ts).
 */
const groupStatesAt = (mapping: CompiledMapping, roles: readonly unknown[], version: Version): string | undefined => {
  const states = new Map<string, { version: Version; rows: Map<string, RoleRowState> }>();
  for (const role of roles) {
    let group: string | undefined;
    try {
      group = mapping.groupForRole(role);
    } catch (error) {
      if (error instanceof MappingError) continue; // refused role: the sync dead-letters its row
      throw error;
    }
    if (group === undefined) continue;
    const state = states.get(group) ?? { version, rows: new Map<string, RoleRowState>() };
    state.rows.set(String(role), { version, granted: true });
    states.set(group, state);
  }
  return states.size === 0 ? undefined : encodeGroupStates(states).value;
};

export const classifyUser = (ctx: ImportContext, input: LegacyUserRow): ImportDecision => {
  const { mapping } = ctx;
  const desired = desiredUserFromRow(mapping, input.row);
  if (!desired.ok) return { kind: 'unmappable', reason: desired.error.message };
  let user = desired.value;
  if (!mapping.inCohort(user.username)) return { kind: 'outside-cohort', username: user.username };
  if (ctx.inPool(user.username)) return { kind: 'in-pool', username: user.username };
  const withRoles = mapping.groupsFromRow !== undefined || mapping.rolesTable !== undefined;
  if (withRoles) user = { ...user, groups: desiredGroups(mapping, user.groups, input.roles).groups };

  // The versions ride with the user: a replay from the beginning of the topics skips what they cover.
  const versionAttributes: Record<string, string> = { [mapping.versionAttribute]: input.version };
  const groupsVersionAttribute = mapping.spec.groups?.versionAttribute;
  const groupStates =
    groupsVersionAttribute !== undefined && mapping.rolesTable !== undefined
      ? groupStatesAt(mapping, input.roles, input.version)
      : undefined;
  if (groupsVersionAttribute !== undefined && groupStates !== undefined)
    versionAttributes[groupsVersionAttribute] = groupStates;
  const toApi = (reason: string): ImportDecision => ({
    kind: 'api',
    username: user.username,
    reason,
    user: { ...user, attributes: { ...user.attributes, ...versionAttributes } },
    version: input.version,
  });

  // "At least one of the auto-verified attributes must be true for each user" (the CSV file's
  // rules, https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool-csv-header.html):
  // a job would refuse the row. Without a verified contact the user goes the way a job cannot
  // take: with a password hash to the Lambda (which keeps the password), else through the API.
  const unverified =
    ctx.autoVerified !== undefined &&
    ![...ctx.autoVerified].some((a) => user.attributes[`${a}_verified`] === 'true' && user.attributes[a]);
  const unverifiedReason = `no verified ${[...(ctx.autoVerified ?? [])].join(' or ')} (an import job refuses the row)`;
  const hasSecret = input.secret !== null && input.secret !== '';
  if (unverified && hasSecret) return { kind: 'lambda', username: user.username, reason: unverifiedReason };
  if (unverified) return toApi(unverifiedReason);

  let job: JobKey = 'NONE';
  let passwordHash: string | undefined;
  if (hasSecret && input.secret !== null) {
    const parsed = parseHash(input.secret, ctx.digestFormats);
    if (!parsed.ok)
      return {
        kind: 'lambda',
        username: user.username,
        reason: parsed.error.reason === 'malformed' ? `malformed ${parsed.error.family ?? 'hash'}` : 'unknown format',
      };
    const importable = importableHash(parsed.value);
    if (!importable.ok) return { kind: 'lambda', username: user.username, reason: importable.reason };
    job = importable.algorithm;
    passwordHash = importable.value;
  }

  const row = csvRow(headerOf(ctx.poolHeader, job), {
    username: user.username,
    attributes: { ...user.attributes, ...versionAttributes },
    mfaEnabled: ctx.mfaEnabled,
    ...(passwordHash === undefined ? {} : { passwordHash }),
  });
  if (!row.ok) return toApi(row.reason);
  const critical = row.row.deferred.find(
    (d) =>
      d.name === 'email' ||
      d.name === 'phone_number' ||
      ctx.requiredAttributes.has(d.name) ||
      versionAttributes[d.name] !== undefined,
  );
  if (critical) return toApi(`${critical.name}: ${critical.reason}`);
  const needsFollowUp = !user.enabled || (user.groups?.length ?? 0) > 0 || row.row.deferred.length > 0;
  return {
    kind: 'job',
    job,
    username: user.username,
    line: row.row.line,
    deferred: row.row.deferred,
    version: input.version,
    ...(needsFollowUp ? { followUp: user } : {}),
  };
};
