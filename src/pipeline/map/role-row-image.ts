// A role row whose key is a surrogate (`user_roles(id PK, user_id, role)`) names its membership
// only in non-key columns. Under REPLICA IDENTITY DEFAULT a DELETE carries just the key (Debezium
// fills the other columns with null, 0 or ""), and an UPDATE carries no old row at all: the
// revoked or replaced role cannot be told, and the user would keep the group. Such events are
// refused (MappingError: DLQ, or a stop under tolerance none) naming the fix; the source check
// (check-source, and run at start with legacyDatabase.url) refuses the table before any event.
// Role rows keyed by (user, role) carry both in every key: always fine.
import { isUnavailable } from '../decode/unavailable.js';
import type { ChangeEvent, Row } from '../../core/types.js';
import { MappingError } from '../../errors.js';
import type { RolesTableSpec } from './mapping-spec.js';

/** A value the before-image did not really carry: absent, or a filler Debezium puts in a NOT NULL column. */
const filler = (value: unknown): boolean =>
  value === undefined ||
  value === null ||
  value === '' ||
  value === 0 ||
  value === 0n ||
  value === '0' ||
  isUnavailable(value);

const keyHolds = (key: Row, roles: RolesTableSpec): boolean => roles.userColumn in key && roles.roleColumn in key;

const fix = (roles: RolesTableSpec): string =>
  `ALTER TABLE ${roles.table} REPLICA IDENTITY FULL (PostgreSQL; MySQL/MariaDB: binlog_row_image=FULL), or key the table by (${roles.userColumn}, ${roles.roleColumn})`;

/** Throws when a removal-relevant role event lacks the old row that names its membership. */
export const assertRoleRowImage = (roles: RolesTableSpec, event: ChangeEvent): void => {
  if (event.tombstone || keyHolds(event.key, roles)) return;
  if (event.op === 'u' && event.before === null)
    throw new MappingError(
      `an update of a ${roles.table} row keyed by ${Object.keys(event.key).join(', ')} came without its old row: which membership it replaced is unknown. Fix: ${fix(roles)}`,
      'groups',
    );
  if (
    event.op === 'd' &&
    (event.before === null || (filler(event.before[roles.userColumn]) && filler(event.before[roles.roleColumn])))
  )
    throw new MappingError(
      `a delete of a ${roles.table} row keyed by ${Object.keys(event.key).join(', ')} carries neither ${roles.userColumn} nor ${roles.roleColumn}: the revoked role is unknown. Fix: ${fix(roles)}`,
      'groups',
    );
};
