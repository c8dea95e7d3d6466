// The version of a MySQL/MariaDB row read outside the stream (User Migration Lambda,
// reconcile --repair, import): a read at binlog position P sorts above every change written
// before P and below every change after it, across binlog rotations and with GTIDs, in the
// encoding the decoder builds from source.file/pos/row (or source.gtid/pos/row).
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import {
  binlogFileNumber,
  compareVersions,
  encodeMysqlGtidVersion,
  encodeMysqlVersion,
  mysqlGtidReadVersion,
  mysqlReadPositionVersion,
} from '../../src/pipeline/decode/version.js';
import { lastOfGtidSet } from '../../src/pipeline/decode/gtid.js';
import {
  gtidReadVersion,
  MYSQL_GTID_SNAPSHOT_VERSION,
  MYSQL_SNAPSHOT_VERSION,
  snapshotStatusVersion,
} from '../../src/adapters/legacy-db/mysql/mysql-legacy-database.js';

const UUID = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const OTHER = '4f22ab58-82db-22f2-af44-d91bb0530673';

interface Change {
  version: string;
  gtidVersion: string;
  tx: number;
}
interface Binlog {
  changes: Change[];
  /** Where each transaction's first event (GTID/BEGIN) was written: file number and position. */
  starts: { file: number; pos: number }[];
  /** Where each transaction's last event ended (before a rotation that followed it). */
  ends: { file: number; pos: number }[];
  /** The position after the last transaction (what a read after all of them sees). */
  end: { file: number; pos: number };
}

// A model of a binlog: transactions are written whole at commit, in commit order; each starts
// with its GTID/BEGIN and table map events, then its row events (a rows event holds one or more
// rows, numbered from 0), then its commit. A file rotates once it passes its size limit (as
// max_binlog_size does) and the next one starts after its header (position 4 + format event).
const binlog = fc
  .record({
    transactions: fc.array(
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }), // rows per rows event
      { minLength: 1, maxLength: 15 },
    ),
    eventSize: fc.integer({ min: 19, max: 400 }),
    maxFileSize: fc.integer({ min: 300, max: 3000 }),
    firstFile: fc.integer({ min: 1, max: 999_998 }),
  })
  .map(({ transactions, eventSize, maxFileSize, firstFile }): Binlog => {
    let file = firstFile;
    let pos = 256;
    const changes: Change[] = [];
    const starts: { file: number; pos: number }[] = [];
    const ends: { file: number; pos: number }[] = [];
    transactions.forEach((rowsEvents, tx) => {
      starts.push({ file, pos });
      pos += 2 * eventSize; // GTID/BEGIN, table map
      for (const rows of rowsEvents) {
        for (let row = 0; row < rows; row++)
          changes.push({
            version: encodeMysqlVersion(file, pos, row),
            gtidVersion: encodeMysqlGtidVersion(tx + 1, pos, row),
            tx,
          });
        pos += eventSize;
      }
      pos += eventSize; // XID
      ends.push({ file, pos });
      if (pos > maxFileSize) {
        file += 1;
        pos = 256;
      }
    });
    return { changes, starts, ends, end: { file, pos } };
  });

describe('a MySQL/MariaDB read position', () => {
  test('stream order is version order, across file rotations', () => {
    fc.assert(
      fc.property(binlog, ({ changes }) => {
        for (let i = 1; i < changes.length; i++) {
          expect(compareVersions(changes[i - 1]!.version, changes[i]!.version)).toBe(-1);
          expect(compareVersions(changes[i - 1]!.gtidVersion, changes[i]!.gtidVersion)).toBe(-1);
        }
      }),
    );
  });

  test('a read at file/position P sorts above every change written before P and below every change after', () => {
    fc.assert(
      fc.property(binlog, fc.nat(), fc.boolean(), ({ changes, starts, ends, end }, pick, beforeRotation) => {
        // a read between two transactions (or after the last): P is where the next one starts,
        // or, when the file rotated in between, the end of the old file
        const boundary = pick % (starts.length + 1);
        const at = (beforeRotation && boundary > 0 ? ends[boundary - 1] : starts[boundary]) ?? end;
        const read = mysqlReadPositionVersion(at.file, at.pos);
        for (const c of changes) expect(compareVersions(c.version, read)).toBe(c.tx < boundary ? -1 : 1);
      }),
    );
  });

  test('with GTIDs a read after transaction N sorts above its changes and below those of N + 1', () => {
    fc.assert(
      fc.property(binlog, fc.nat(), ({ changes, starts }, pick) => {
        const seen = pick % (starts.length + 1); // transactions 1..seen are in gtid_executed
        const read = gtidReadVersion(seen === 0 ? '' : `${UUID}:1-${seen}`, UUID);
        for (const c of changes) expect(compareVersions(c.gtidVersion, read)).toBe(c.tx < seen ? -1 : 1);
      }),
    );
  });

  test('binlog files order by their number, not as text (mysql-bin.999999 before mysql-bin.1000000)', () => {
    expect(binlogFileNumber('mysql-bin.999999')).toBe(999_999);
    expect(binlogFileNumber('mysql-bin.1000000')).toBe(1_000_000);
    expect(binlogFileNumber('mariadb-bin')).toBeUndefined();
    const late = mysqlReadPositionVersion(999_999, 900_000_000);
    expect(compareVersions(late, mysqlReadPositionVersion(1_000_000, 4))).toBe(-1);
  });

  test("MariaDB's snapshot status gives the read version; a server without it (MySQL, no binlog) gives none", () => {
    expect(
      snapshotStatusVersion([
        { Variable_name: 'Binlog_snapshot_file', Value: 'mariadb-bin.000003' },
        { Variable_name: 'Binlog_snapshot_position', Value: '1281' },
      ]),
    ).toBe(mysqlReadPositionVersion(3, 1281));
    expect(snapshotStatusVersion([])).toBeUndefined();
    expect(
      snapshotStatusVersion([
        { Variable_name: 'Binlog_snapshot_file', Value: '' },
        { Variable_name: 'Binlog_snapshot_position', Value: '0' },
      ]),
    ).toBeUndefined();
  });

  test('the cautious floors sort below every change of their kind', () => {
    fc.assert(
      fc.property(binlog, ({ changes }) => {
        for (const c of changes) {
          expect(compareVersions(MYSQL_SNAPSHOT_VERSION, c.version)).toBe(-1);
          expect(compareVersions(MYSQL_GTID_SNAPSHOT_VERSION, c.gtidVersion)).toBe(-1);
        }
      }),
    );
  });
});

describe('GTID sets', () => {
  test('the last transaction of each origin, tags and several ranges included', () => {
    const last = lastOfGtidSet(`${UUID.toUpperCase()}:1-5:7:9-12:audit:1-3,\n${OTHER}:1-40`);
    expect(last).toEqual(
      new Map([
        [UUID, 12n],
        [`${UUID}:audit`, 3n],
        [OTHER, 40n],
      ]),
    );
    expect(lastOfGtidSet('')).toEqual(new Map());
    expect(lastOfGtidSet('0-1-1162')).toBeUndefined(); // a MariaDB GTID position is not a set
  });

  test("the read version follows the server's own uuid; a replica of one source follows that source", () => {
    expect(gtidReadVersion(`${OTHER}:1-40,${UUID}:1-12`, UUID)).toBe(mysqlGtidReadVersion(12));
    expect(gtidReadVersion(`${OTHER}:1-40`, UUID)).toBe(mysqlGtidReadVersion(40));
    expect(gtidReadVersion('', UUID)).toBe(mysqlGtidReadVersion(0));
    // several origins and none of them the server's: which one the stream numbers is unknown
    expect(gtidReadVersion(`${OTHER}:1-40,aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:1-3`, UUID)).toBe(
      MYSQL_GTID_SNAPSHOT_VERSION,
    );
    expect(gtidReadVersion('garbage', UUID)).toBe(MYSQL_GTID_SNAPSHOT_VERSION);
  });

  test('GTID sequence numbers beyond 2^53 stay exact', () => {
    const big = 2n ** 60n;
    expect(gtidReadVersion(`${UUID}:1-${big}`, UUID)).toBe(encodeMysqlGtidVersion(big + 1n, 0, 0));
  });
});
