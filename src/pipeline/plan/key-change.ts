// A primary-key change arrives from Debezium as a delete of the old key and a create of the new
// one, both at the source position of the one UPDATE. When the username does not come from the
// key (a login or email column, allowed with REPLICA IDENTITY FULL), both name the same user:
// the row lives on, so the create wins. Nothing else puts a delete and a create of one user at
// one position, so at equal versions a create is never stale against a delete, and a delete is
// stale against a user created at its position (planDelete's ordinary version guard).
import type { UserIntent, Version } from '../../core/types.js';
import { NO_VERSION } from '../decode/version.js';

type Upsert = Extract<UserIntent, { kind: 'upsert' }>;
type Delete = Extract<UserIntent, { kind: 'delete' }>;

/** An upsert older than a remembered delete of its user: a replay that must not resurrect it. */
export const staleAfterDelete = (version: Version, deletedVersion: Version | undefined): boolean =>
  version !== NO_VERSION && deletedVersion !== undefined && version < deletedVersion;

/** The create half of a key change right after its delete half (the delete is then dropped). */
export const isKeyChangeCreate = (deletion: Delete | undefined, upsert: Upsert): boolean =>
  deletion !== undefined && deletion.version !== NO_VERSION && upsert.version === deletion.version;
