// The GTID of a binlog transaction, as Debezium writes it in `source.gtid` (or `__gtid`):
//   MySQL:   "<server uuid>:<transaction number>", since 8.4 also "<uuid>:<tag>:<number>"
//            https://dev.mysql.com/doc/refman/8.4/en/replication-gtids-concepts.html
//   MariaDB: "<domain id>-<server id>-<sequence number>" (Debezium's MariaDB connector)
//            https://mariadb.com/kb/en/gtid/
// The number orders the transactions of one origin (MySQL's source uuid, MariaDB's replication
// domain: in a domain the sequence keeps growing across a failover). Across origins the numbers
// do not compare: the origin is what an epoch names, not part of the version.
import type { PositionNumber } from './version.js';

export interface Gtid {
  /** What the sequence number counts within: "<uuid>" or "<uuid>:<tag>" (MySQL), "domain <id>" (MariaDB). */
  origin: string;
  sequence: PositionNumber;
}

const MYSQL = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(:[a-z_][a-z0-9_]{0,31})?:(\d{1,20})$/i;
const MARIADB = /^(\d{1,10})-(\d{1,10})-(\d{1,20})$/;

const number = (digits: string): PositionNumber => (digits.length <= 15 ? Number(digits) : BigInt(digits));

/** The GTID's origin and sequence number, or undefined when the text is neither form. */
export const parseGtid = (text: string): Gtid | undefined => {
  const mysql = MYSQL.exec(text);
  if (mysql)
    return { origin: `${mysql[1]!.toLowerCase()}${mysql[2]?.toLowerCase() ?? ''}`, sequence: number(mysql[3]!) };
  const mariadb = MARIADB.exec(text);
  if (mariadb) return { origin: `domain ${mariadb[1]!}`, sequence: number(mariadb[3]!) };
  return undefined;
};

/**
 * The last transaction number of each origin in a MySQL GTID set (`@@GLOBAL.gtid_executed`):
 * "uuid:1-5:7,uuid2:1-3", since 8.4 with tags "uuid:1-5:tag:1-3" (a tag applies to the ranges
 * after it). Undefined when the text is not a GTID set.
 * https://dev.mysql.com/doc/refman/8.4/en/replication-gtids-concepts.html#replication-gtids-concepts-gtid-sets
 */
export const lastOfGtidSet = (text: string): Map<string, bigint> | undefined => {
  const out = new Map<string, bigint>();
  for (const part of text.split(',')) {
    const segments = part.trim().split(':');
    if (segments.length === 1 && segments[0] === '') continue; // an empty set
    const uuid = segments[0]!.toLowerCase();
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(uuid) || segments.length < 2)
      return undefined;
    let origin = uuid;
    for (const segment of segments.slice(1)) {
      const range = /^(\d{1,20})(?:-(\d{1,20}))?$/.exec(segment);
      if (range === null) {
        if (!/^[a-z_][a-z0-9_]{0,31}$/i.test(segment)) return undefined;
        origin = `${uuid}:${segment.toLowerCase()}`;
        continue;
      }
      const last = BigInt(range[2] ?? range[1]!);
      const known = out.get(origin);
      if (known === undefined || last > known) out.set(origin, last);
    }
  }
  return out;
};
