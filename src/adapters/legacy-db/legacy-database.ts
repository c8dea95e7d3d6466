// The LegacyDatabase port: the few reads that `assess`, `reconcile` and the User Migration
// Lambda make against the legacy database directly (the sync itself only sees it through
// Debezium). Narrow on purpose, so a MySQL/MariaDB adapter is a small class: keyset pages in key
// order, one user by key or login, roles for a page of users, and a source position taken in
// the same snapshot as the rows.
import type { Result, Row, Version } from '../../core/types.js';
import { SyncError } from '../../errors.js';

/** One page of users in key order, read in one snapshot. */
export interface UserPage {
  rows: Row[];
  /**
   * The source position of the read (see `inSnapshot` in the Postgres adapter): above every
   * change event this snapshot saw, below every one it did not, so users written from these
   * rows neither re-apply their history on a replay nor lose a later change.
   */
  snapshotVersion: Version;
  /**
   * Per row, when the adapter can tell rows apart: the version for that row (a row another
   * transaction was writing when it was read gets a lower, cautious one). Else snapshotVersion.
   */
  rowVersions?: readonly Version[];
  /** Per row, the password hash (ScanOptions.secretColumn), never part of `rows`; null where the row has none. */
  secrets?: readonly (string | null)[];
}

export interface ScanOptions {
  /** Columns to read besides the key; never a password column. */
  columns: readonly string[];
  /** Column holding the password hash (`cognito-sync import`): read into `secrets`, never into `rows`. */
  secretColumn?: string;
  /** Rows per page (the memory bound of the scan). */
  pageSize: number;
}

/** How the Lambda finds the user who signs in. */
export type UserLookup =
  /** By primary key values (parsed back out of the Cognito username, e.g. legacy_{id}). */
  | { by: 'key'; key: Row }
  /** By a login column (legacy username, email), compared case-insensitively. */
  | { by: 'login'; columns: readonly string[]; value: string };

export interface FoundUser {
  row: Row;
  /** The stored password hash, read only when asked for; never part of `row`. */
  secret: string | null;
  snapshotVersion: Version;
}

export type LookupProblem = 'not-found' | 'ambiguous';

export interface FindOptions {
  columns: readonly string[];
  /** Column holding the password hash; read into `secret`, never into `row`. */
  secretColumn?: string;
}

export interface LegacyDatabase {
  /** Primary key column(s) of the users table, in key order. */
  keyColumns(): Promise<readonly string[]>;
  /** Columns that exist in the users table (to name a mapping column that is missing). */
  columnNames(): Promise<ReadonlySet<string>>;
  /** Every users row in key order, page by page: memory is bounded by the page size. */
  scanUsers(options: ScanOptions): AsyncIterable<UserPage>;
  /** Rows in the table (planner estimate where the database has one; for progress only). */
  estimateUsers(): Promise<number>;
  /** One user by key or login; two matches for a login are 'ambiguous', never a guess. */
  findUser(lookup: UserLookup, options: FindOptions): Promise<Result<FoundUser, LookupProblem>>;
  /** Roles of the given users (by users key value, as text) from the roles table. */
  rolesOf(userKeys: readonly unknown[]): Promise<Map<string, string[]>>;
  close(): Promise<void>;
}

/** The database could not be read (connection, permissions, missing table or column). */
export class LegacyDatabaseError extends SyncError {
  constructor(message: string, cause?: unknown, retriable = false) {
    super(message, { stage: 'map', retriable, cause, context: { api: 'legacy-database' } });
  }
}
