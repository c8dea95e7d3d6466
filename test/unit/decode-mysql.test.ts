// Versions of MySQL/MariaDB binlog events: from the GTID when the connector read one (it orders
// transactions on every server of the topology), else from the binlog file/pos/row.
import type { ChangeEvent, RawRecord } from '../../src/core/types.js';
import { DecodeError } from '../../src/errors.js';
import {
  compareVersions,
  createDecoder,
  encodeMysqlGtidVersion,
  encodeMysqlVersion,
  parseGtid,
} from '../../src/pipeline/decode/index.js';
import { envelope, jsonBytes, rawRecord, userRow } from '../../bench/decode-records.js';

const decoder = createDecoder({ format: 'json' });
const UUID = '3e11fa47-71ca-11e1-9e33-c80aa9429562';

const binlogSource = (p: { gtid?: string | null; file?: string; pos?: number; row?: number; snapshot?: string }) => ({
  version: '3.6.1.Final',
  connector: 'mysql',
  name: 'legacymaria',
  ts_ms: 1_700_000_000_000,
  snapshot: p.snapshot ?? 'false',
  db: 'legacy',
  table: 'users',
  server_id: 1,
  gtid: p.gtid ?? null,
  file: p.file ?? 'mariadb-bin.000003',
  pos: p.pos ?? 154,
  row: p.row ?? 0,
  thread: 7,
  query: null,
});

const record = (source: Record<string, unknown>): RawRecord =>
  rawRecord(jsonBytes({ id: 1 }), jsonBytes(envelope('u', userRow(1), userRow(1), source)));
const unwrapped = (fields: Record<string, unknown>): RawRecord =>
  rawRecord(
    jsonBytes({ id: 1 }),
    jsonBytes({ ...userRow(1), __op: 'u', __table: 'users', __deleted: 'false', ...fields }),
  );

const decoded = async (raw: RawRecord): Promise<ChangeEvent> => {
  const r = await decoder.decode(raw);
  if (!r.ok) throw r.error;
  if (r.value.kind !== 'event') throw new Error(`skipped: ${r.value.reason}`);
  return r.value.event;
};
const versionOf = async (source: Parameters<typeof binlogSource>[0]): Promise<string> =>
  (await decoded(record(binlogSource(source)))).version;

describe('GTIDs', () => {
  test("MySQL's uuid:number, with or without a tag, and MariaDB's domain-server-sequence", () => {
    expect(parseGtid(`${UUID}:23`)).toEqual({ origin: UUID, sequence: 23 });
    expect(parseGtid(`${UUID.toUpperCase()}:Ops_1:9`)).toEqual({ origin: `${UUID}:ops_1`, sequence: 9 });
    expect(parseGtid('0-1-42')).toEqual({ origin: 'domain 0', sequence: 42 });
    expect(parseGtid('2-17-18446744073709551615')).toEqual({ origin: 'domain 2', sequence: 18446744073709551615n });
    for (const bad of ['', '42', `${UUID}`, `${UUID}:1-5`, `${UUID}:1,${UUID}:2`, '0-1', 'a-b-c'])
      expect([bad, parseGtid(bad)]).toEqual([bad, undefined]);
  });
});

describe('versions of binlog events', () => {
  test('with a GTID: (sequence, pos, row), whatever the binlog file', async () => {
    const v = await versionOf({ gtid: `${UUID}:23`, file: 'mysql-bin.000009', pos: 4242, row: 2 });
    expect(v).toBe(encodeMysqlGtidVersion(23, 4242, 2));
    expect(v).toBe('0000000000000017' + '0000000000001092' + '00000002');
    // a later transaction sorts later even from an older-numbered file (a replica's binlog after a failover)
    expect(compareVersions(await versionOf({ gtid: `${UUID}:24`, file: 'mysql-bin.000001', pos: 4 }), v)).toBe(1);
    // inside one transaction: by position, then row
    expect(compareVersions(await versionOf({ gtid: `${UUID}:23`, pos: 4242, row: 3 }), v)).toBe(1);
    expect(compareVersions(await versionOf({ gtid: `${UUID}:23`, pos: 5000, row: 0 }), v)).toBe(1);
    expect(await versionOf({ gtid: '0-1-23', file: 'x.000001', pos: 4242, row: 2 })).toBe(v); // MariaDB's form
  });

  test('without one (the MySQL connector on MariaDB): (file number, pos, row)', async () => {
    const v = await versionOf({ gtid: null, file: 'mariadb-bin.000003', pos: 154, row: 1 });
    expect(v).toBe(encodeMysqlVersion(3, 154, 1));
    expect(compareVersions(await versionOf({ file: 'mariadb-bin.000004', pos: 4 }), v)).toBe(1);
    expect(compareVersions(await versionOf({ file: 'mariadb-bin.000003', pos: 154, row: 0 }), v)).toBe(-1);
  });

  test('GTID versions sort above every file/pos version: turning GTIDs on moves forward', async () => {
    const filePos = await versionOf({ file: 'mysql-bin.999999', pos: 2 ** 40 });
    const gtid = await versionOf({ gtid: `${UUID}:1`, file: 'mysql-bin.000001', pos: 4 });
    expect(compareVersions(gtid, filePos)).toBe(1);
  });

  test('the unwrapped form reads __gtid, __file, __pos and __row', async () => {
    const e = await decoded(unwrapped({ __gtid: '0-1-7', __file: 'mariadb-bin.000002', __pos: 900, __row: 1 }));
    expect(e.version).toBe(encodeMysqlGtidVersion(7, 900, 1));
    const f = await decoded(unwrapped({ __gtid: null, __file: 'mariadb-bin.000002', __pos: 900, __row: 1 }));
    expect(f.version).toBe(encodeMysqlVersion(2, 900, 1));
  });

  test('a GTID in neither form, or without a position, is bad input with a reason', async () => {
    for (const [source, reason] of [
      [binlogSource({ gtid: 'not-a-gtid' }), /source\.gtid is neither a MySQL .* nor a MariaDB .* GTID: "not-a-gtid"/],
      [{ ...binlogSource({ gtid: `${UUID}:5` }), pos: null }, /source has a GTID but no binlog pos/],
    ] as const) {
      const r = await decoder.decode(record(source));
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error).toBeInstanceOf(DecodeError);
        expect(r.error.message).toMatch(reason);
      }
    }
  });
});
