// The shared vocabulary of the pipeline: decode -> map -> plan -> apply -> commit.
// Everything here is plain data so the pure stages stay free of I/O.

/** Where a Kafka record came from; carried through every stage for errors, DLQ and commits. */
export interface RecordOrigin {
  topic: string;
  partition: number;
  offset: string; // Kafka offsets are int64: kept as strings, compared as bigint
  timestamp?: string;
}

/** The raw Kafka record as the source adapter hands it over. */
export interface RawRecord extends RecordOrigin {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | string | undefined>;
}

/**
 * Debezium operations: create, update, delete, read (snapshot), truncate.
 * A tombstone (null value) decodes to op 'd' with `tombstone: true`.
 */
export type Op = 'c' | 'u' | 'd' | 'r' | 't';

export type Row = Record<string, unknown>;

/**
 * A per-row, totally ordered version derived from the source position.
 * Postgres: (max(lastCommitLsn, lsn), lsn) from `source.sequence`, else (lsn, lsn).
 * MySQL/MariaDB: (GTID sequence number, binlog position, row) when the connector reads GTIDs,
 * else (binlog file number, position, row).
 * Both within a source epoch (decode/version.ts): a later epoch outranks every earlier one.
 * Encoded as a fixed-width lowercase hex string so that string order == version order,
 * which lets it live in a Cognito string attribute and compare without parsing.
 */
export type Version = string;

export interface ChangeEvent {
  /** Logical table name, e.g. "users" or "user_roles" (schema/prefix stripped). */
  table: string;
  /** Primary key columns of the row, from the record key (or `after`/`before` when keyless). */
  key: Row;
  op: Op;
  before: Row | null;
  after: Row | null;
  version: Version;
  /** Source commit time in ms since epoch (for end-to-end latency). */
  sourceTsMs: number | null;
  /** True when the record was a Kafka tombstone (null value). */
  tombstone: boolean;
  /** True for snapshot reads, including incremental snapshots. */
  snapshot: boolean;
  origin: RecordOrigin;
  /**
   * A delete that is the old half of a primary-key change (Debezium's `__debezium.newkey`
   * header): the row lives on under its new key, whose create follows at the same position.
   */
  keyChanged?: true;
}

/** Decoding a record can also legitimately yield "nothing to do" with a named reason. */
export type DecodeOutcome =
  | { kind: 'event'; event: ChangeEvent }
  | { kind: 'skip'; reason: SkipReason; origin: RecordOrigin };

export type SkipReason =
  | 'heartbeat'
  | 'schema-change'
  | 'transaction-metadata'
  | 'truncate'
  | 'tombstone-after-delete'
  | 'stale-version'
  /** A delete, or a creation over a remembered delete, whose version cannot be ordered with the stored one (GTID vs binlog file/pos in one epoch). */
  | 'incomparable-version'
  | 'no-change'
  | 'unmapped-table'
  /** The user is outside the migration's cohort (mapping cohort): never created, changed or deleted. */
  | 'outside-cohort'
  | 'filtered'
  | 'not-existing' // createPolicy existing-only and the user is not in Cognito
  | 'already-deleted'
  | 'already-dead-lettered' // a replay meets a record the DLQ already holds
  | 'key-change'; // the delete half of a primary-key change whose username does not come from the key

/** Cognito attributes as name -> string value (Cognito only stores strings). */
export type Attributes = Record<string, string>;

/** What the legacy row says the Cognito user should look like. */
export interface DesiredUser {
  username: string;
  /** Attributes to hold exactly these values. An empty string means "remove the attribute". */
  attributes: Attributes;
  /**
   * Attributes whose source value is unknown in this event (Debezium's unavailable-value
   * placeholder for TOASTed columns, or a missing before-image): keep whatever Cognito has.
   */
  unknown?: string[];
  enabled: boolean;
  /** Groups the user must be in, when the mapping manages groups; undefined = unmanaged. */
  groups?: string[];
}

/** A value as of a version: what an earlier event knew (see `UpsertFallback`). */
export interface VersionedValue<T> {
  value: T;
  version: Version;
}

/**
 * Set by coalesce only: values that earlier events of the batch knew for the attributes (and
 * groups) that the upsert's own event marks unknown. The planner uses one only when its
 * version is newer than what Cognito holds; otherwise Cognito's value is the newer one.
 */
export interface UpsertFallback {
  attributes: Record<string, VersionedValue<string>>;
  groups?: VersionedValue<string[]>;
}

/**
 * `supersededVersion` (set by coalesce only): the highest version of an earlier intent folded
 * into this one. When the folded-away state was newer than what Cognito holds, the planner must
 * write the version even if the net change is nothing, or a replay of that intermediate event
 * would look newer than Cognito's version and overwrite the final state.
 */
export type UserIntent =
  | {
      kind: 'upsert';
      user: DesiredUser;
      version: Version;
      origin: RecordOrigin;
      sourceTsMs: number | null;
      supersededVersion?: Version;
      fallback?: UpsertFallback;
      /**
       * A snapshot read (op=r, full or incremental): the row as it is, not a change. At the
       * version Cognito holds it is compared in full (a re-snapshot repairs drift), where a
       * change seen again only completes its follow-ups.
       */
      snapshot?: true;
    }
  | {
      kind: 'delete';
      username: string;
      version: Version;
      origin: RecordOrigin;
      sourceTsMs: number | null;
      supersededVersion?: Version;
    }
  /** A role row change: add or remove one group for a user (may arrive before the user exists). */
  | {
      kind: 'group';
      username: string;
      group: string;
      member: boolean;
      /**
       * The role row's role text as the row holds it (untrimmed): with groups.versionAttribute
       * each row that grants a group is tracked on its own (plan/group-versions.ts).
       * Undefined: the row is known by its group only.
       */
      role?: string;
      version: Version;
      origin: RecordOrigin;
      sourceTsMs: number | null;
    };

/** Cognito's view of a user, as far as the planner needs it. */
export interface CurrentUser {
  username: string;
  attributes: Attributes;
  enabled: boolean;
  groups?: string[];
  /** Value of the version attribute, if any. */
  version?: Version;
  /**
   * Per-group versions parsed from groups.versionAttribute (see plan/group-versions.ts), when the
   * mapping configures it. Filled once when the user is read; the planner parses the attribute
   * itself when it is absent.
   */
  groupVersions?: ReadonlyMap<string, Version>;
}

/** One Cognito admin call, named by the API it maps to. */
export type CognitoCall =
  | {
      api: 'AdminCreateUser';
      username: string;
      attributes: Attributes;
      /** ForceAliasCreation: move a verified email / phone alias from its holder (mapping forceAliasCreation). */
      forceAliasCreation?: boolean;
    }
  | { api: 'AdminUpdateUserAttributes'; username: string; attributes: Attributes }
  | { api: 'AdminDeleteUserAttributes'; username: string; names: string[] }
  | { api: 'AdminDisableUser'; username: string }
  | { api: 'AdminEnableUser'; username: string }
  | { api: 'AdminDeleteUser'; username: string }
  | { api: 'AdminAddUserToGroup'; username: string; group: string }
  | { api: 'AdminRemoveUserFromGroup'; username: string; group: string };

export type CognitoApi =
  | CognitoCall['api']
  | 'AdminGetUser'
  | 'AdminListGroupsForUser'
  | 'ListUsers'
  | 'ListUsersInGroup'
  | 'DescribeUserPool';

/** Quota categories Cognito enforces per account and Region. */
export type QuotaCategory = 'UserCreation' | 'UserUpdate' | 'UserResourceUpdate' | 'UserRead' | 'UserList';

/** Discriminated result: stages never return null to signal failure. */
export type Result<T, E = Error> = { ok: true; value: T } | { ok: false; error: E };
export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });
