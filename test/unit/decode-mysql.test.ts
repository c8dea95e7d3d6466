// Versions of MySQL/MariaDB binlog events: from the GTID when the connector read one (it orders
// transactions on every server of the topology), else from the binlog file/pos/row.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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

// ---- records captured from the stack's MariaDB (scripts/stack/capture-fixtures-mariadb.sh) ----

interface CapturedRecord {
  topic: string;
  partition: number;
  offset: number;
  key_b64: string | null;
  value_b64: string | null;
}
const FIXTURES = join(process.cwd(), 'test/fixtures/debezium');
const captured = (file: string): RawRecord[] => {
  const path = join(FIXTURES, file);
  if (!existsSync(path)) throw new Error(`${file} missing: run bash scripts/stack/capture-fixtures-mariadb.sh`);
  return (JSON.parse(readFileSync(path, 'utf8')) as CapturedRecord[]).map((c) => ({
    topic: c.topic,
    partition: c.partition,
    offset: String(c.offset),
    key: c.key_b64 === null ? null : Buffer.from(c.key_b64, 'base64'),
    value: c.value_b64 === null ? null : Buffer.from(c.value_b64, 'base64'),
    headers: {},
  }));
};
const eventsOf = async (file: string): Promise<{ raw: RawRecord; event: ChangeEvent }[]> => {
  const out: { raw: RawRecord; event: ChangeEvent }[] = [];
  for (const raw of captured(file)) {
    const r = await decoder.decode(raw);
    if (!r.ok) throw r.error;
    if (r.value.kind === 'event') out.push({ raw, event: r.value.event });
  }
  return out;
};
/** The binlog position Debezium wrote into the record, read without the decoder. */
const sourceOf = (raw: RawRecord): Record<string, unknown> => {
  const payload = (JSON.parse(raw.value!.toString('utf8')) as { payload: Record<string, unknown> }).payload;
  return payload['source'] as Record<string, unknown>;
};

describe('MariaDB binlog records (Debezium MySQL connector)', () => {
  test('every change is versioned by (binlog file number, pos, row) from its source block: no GTID', async () => {
    const events = (await eventsOf('mariadb-json.json')).filter((e) => !e.event.tombstone);
    expect(events.length).toBeGreaterThan(20);
    for (const { raw, event } of events) {
      const source = sourceOf(raw);
      expect(source['gtid']).toBeNull();
      const file = Number(/(\d+)$/.exec(String(source['file']))![1]);
      expect([raw.offset, event.version]).toEqual([
        raw.offset,
        encodeMysqlVersion(file, source['pos'] as number, source['row'] as number),
      ]);
    }
  });

  const users = async (file = 'mariadb-json.json') =>
    (await eventsOf(file)).map((e) => e.event).filter((e) => e.table === 'users' && !e.tombstone);
  const byId = (events: ChangeEvent[], id: number, op?: string) =>
    events.filter((e) => e.key['id'] === id && (op === undefined || e.op === op));

  test('the rows of one multi-row INSERT share a binlog event and order by row', async () => {
    const events = await users();
    const [eve, zoe, kim] = [20, 21, 22].map((id) => byId(events, id, 'c')[0]!) as [
      ChangeEvent,
      ChangeEvent,
      ChangeEvent,
    ];
    expect(compareVersions(eve.version, zoe.version)).toBe(-1);
    expect(compareVersions(zoe.version, kim.version)).toBe(-1);
    expect(eve.version.slice(0, 24)).toBe(kim.version.slice(0, 24)); // same file and pos
  });

  test('the initial snapshot reads share one version, below every streamed change', async () => {
    const events = await users();
    const reads = events.filter((e) => e.op === 'r').map((e) => e.version);
    const first = [...reads].sort(compareVersions)[0]!;
    // alice, yamada and jose were read at the snapshot's binlog position (the incremental
    // snapshot's reads later carry the position of their window)
    expect(reads.filter((v) => v === first)).toHaveLength(3);
    const streamed = events.filter((e) => !e.snapshot);
    for (const c of streamed) expect(compareVersions(first, c.version)).toBe(-1);
  });

  test('values arrive typed as PostgreSQL sends them: booleans, exact decimals, dates, zoned timestamps', async () => {
    const alice = byId(await users(), 1, 'r')[0]!;
    expect(alice.after).toMatchObject({
      email_verified: true, // TINYINT(1) through TinyIntOneToBooleanConverter
      marketing_opt_in: true,
      legacy_customer_no: '123456789012', // Connect Decimal, scale 0
      birthdate: '1990-02-28', // io.debezium.time.Date
      created_at: '2019-03-04T05:06:07.123456Z', // TIMESTAMP(6) as io.debezium.time.ZonedTimestamp
      given_name: 'Alice',
    });
    // full row images: an update carries every column, the long bio included (no TOAST placeholder)
    const update = byId(await users(), 1, 'u')[0]!;
    expect(update.after?.['bio']).toBe(alice.after?.['bio']);
    expect(update.before).toMatchObject({
      id: 1,
      username: 'alice.fixture',
      last_login_at: '2025-12-30T10:00:00.000000Z', // TIMESTAMP(6): always six digits
    });
  });

  test('a primary-key change is a delete and a create at one position; its FK cascade is not in the binlog', async () => {
    const all = await eventsOf('mariadb-json.json');
    const events = all.map((e) => e.event);
    const [gone] = byId(
      events.filter((e) => e.table === 'users' && !e.tombstone),
      3,
      'd',
    );
    const [born] = byId(
      events.filter((e) => e.table === 'users'),
      1003,
      'c',
    );
    expect(gone!.version).toBe(born!.version);
    const roles = events.filter((e) => e.table === 'user_roles' && !e.snapshot);
    // jose's role re-keyed to 1003 and dave's roles deleted with him: no event for either
    expect(roles.filter((e) => e.key['user_id'] === 1003 || e.key['user_id'] === 3)).toEqual([]);
    expect(roles.filter((e) => e.key['user_id'] === 10).map((e) => e.op)).toEqual(['c', 'c']);
  });

  test('TRUNCATE is skipped as a truncate, per table', async () => {
    const reasons: string[] = [];
    for (const raw of captured('mariadb-json.json')) {
      const r = await decoder.decode(raw);
      if (r.ok && r.value.kind === 'skip' && r.value.reason === 'truncate') reasons.push(raw.topic.split('.').pop()!);
    }
    expect(reasons.sort()).toEqual(['user_roles', 'users']);
  });

  test('the ExtractNewRecordState form (__gtid, __file, __pos, __row) decodes to the same versions', async () => {
    const versionsByChange = (events: ChangeEvent[]) => {
      const out = new Map<string, string[]>();
      for (const e of events.filter((x) => !x.snapshot && !x.tombstone)) {
        const key = `${e.table} ${JSON.stringify(e.key)} ${e.op}`;
        out.set(key, [...(out.get(key) ?? []), e.version]);
      }
      return out;
    };
    const envelope = versionsByChange((await eventsOf('mariadb-json.json')).map((e) => e.event));
    const flat = versionsByChange((await eventsOf('mariadb-unwrap-json.json')).map((e) => e.event));
    expect(envelope.size).toBeGreaterThan(10);
    for (const [key, versions] of envelope)
      expect([key, (flat.get(key) ?? []).sort()]).toEqual([key, [...versions].sort()]);
  });
});
