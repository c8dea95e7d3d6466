// Decoding Debezium records written by Kafka Connect's JsonConverter, with and without schemas.
import {
  UNWRAP_DELETES_SETTING,
  UNWRAP_FIELDS_SETTING,
  UnwrapSettingsError,
} from '../../src/pipeline/decode/unwrap-settings.js';
import type { ChangeEvent, DecodeOutcome, RawRecord, Result } from '../../src/core/types.js';
import { DecodeError, type SyncError } from '../../src/errors.js';
import { UNAVAILABLE_VALUE, createDecoder, encodePostgresVersion } from '../../src/pipeline/decode/index.js';
import { epochAt } from '../../src/pipeline/decode/epochs.js';
import { withEpoch } from '../../src/pipeline/decode/version.js';
import {
  ENVELOPE_SCHEMA,
  KEY_SCHEMA,
  TOPIC,
  UNWRAPPED_SCHEMA,
  base64,
  envelope,
  jsonBytes,
  pgSource,
  rawRecord,
  unwrapEnvelope,
  userRow,
} from '../../bench/decode-records.js';

const decoder = createDecoder({ format: 'json' });

const decode = (record: RawRecord): Promise<Result<DecodeOutcome, SyncError>> => decoder.decode(record);

const eventOf = async (record: RawRecord): Promise<ChangeEvent> => {
  const result = await decode(record);
  if (!result.ok) throw new Error(`expected an event, got ${result.error.message}`);
  if (result.value.kind !== 'event') throw new Error(`expected an event, got skip ${result.value.reason}`);
  return result.value.event;
};

const errorOf = async (record: RawRecord): Promise<SyncError> => {
  const result = await decode(record);
  if (result.ok) throw new Error(`expected an error, got ${result.value.kind}`);
  return result.error;
};

const enveloped = (value: unknown, key: unknown = { id: 1 }): RawRecord =>
  rawRecord(jsonBytes(key, KEY_SCHEMA), jsonBytes(value, ENVELOPE_SCHEMA));
const bare = (value: unknown, key: unknown = { id: 1 }): RawRecord => rawRecord(jsonBytes(key), jsonBytes(value));

describe('JSON with schemas.enable=true', () => {
  test('an insert decodes to op c with logical types converted to exact strings', async () => {
    const e = await eventOf(
      enveloped(
        envelope('c', null, userRow(1), pgSource({ lsn: 24023960, lastCommitLsn: 24023928, tsMs: 1_700_000_000_000 })),
      ),
    );
    expect(e).toMatchObject({
      table: 'users',
      key: { id: 1 },
      op: 'c',
      before: null,
      tombstone: false,
      snapshot: false,
      sourceTsMs: 1_700_000_000_000,
    });
    expect(e.after).toEqual({
      id: 1,
      email: 'user1@example.com',
      given_name: 'Ada',
      family_name: 'Lovelace',
      phone: '+15555550100',
      status: 'active',
      bio: 'Analyst',
      balance: '123.45',
      score: '-1.234',
      birth_date: '2022-01-08',
      created_at: '2023-11-14T22:13:20.123456Z',
      updated_at: '2024-02-29T12:00:00.5+01:00',
      login_count: 42,
      avatar: null,
    });
    // sequence [24023928, 24023960]: the change is past the last commit, so (LSN, LSN)
    expect(e.version).toBe('00000000016e9398' + '00000000016e9398');
    expect(e.version).toBe(encodePostgresVersion(24023928n, 24023960n));
    expect(e.origin).toEqual({ topic: TOPIC, partition: 0, offset: expect.any(String) });
  });

  test('an update carries before and after; a delete carries before only', async () => {
    const u = await eventOf(
      enveloped(
        envelope('u', userRow(1), userRow(1, { status: 'disabled' }), pgSource({ lsn: 100, lastCommitLsn: 90 })),
      ),
    );
    expect(u.op).toBe('u');
    expect(u.before?.['status']).toBe('active');
    expect(u.after?.['status']).toBe('disabled');
    const d = await eventOf(enveloped(envelope('d', userRow(1), null, pgSource({ lsn: 200, lastCommitLsn: 190 }))));
    expect(d).toMatchObject({ op: 'd', after: null, tombstone: false });
    expect(d.before?.['email']).toBe('user1@example.com');
  });

  test('snapshot reads are op r and snapshot=true, also for "last" and incremental snapshots', async () => {
    for (const snapshot of ['true', 'first', 'last', 'incremental']) {
      const e = await eventOf(enveloped(envelope('r', null, userRow(1), pgSource({ lsn: 100, snapshot }))));
      expect(e.snapshot).toBe(true);
      expect(e.op).toBe('r');
    }
    const streaming = await eventOf(
      enveloped(envelope('u', userRow(1), userRow(1), pgSource({ lsn: 100, snapshot: 'false' }))),
    );
    expect(streaming.snapshot).toBe(false);
  });

  test('a version without source.sequence is (lsn, lsn): a snapshot read sorts at its own position', async () => {
    const e = await eventOf(enveloped(envelope('r', null, userRow(1), pgSource({ lsn: 0x16b3748 }))));
    expect(e.version).toBe('00000000016b3748' + '00000000016b3748');
  });

  test('a mapping epoch is stamped by the source commit time; tombstones stay position-less', async () => {
    const since = 1_800_000_000_000;
    const epoched = createDecoder({ format: 'json', epochAt: epochAt([{ epoch: 3, sinceMs: since }]) });
    const at = async (tsMs: number): Promise<string> => {
      const result = await epoched.decode(enveloped(envelope('u', null, userRow(1), pgSource({ lsn: 4096, tsMs }))));
      if (!result.ok || result.value.kind !== 'event') throw new Error('expected an event');
      return result.value.event.version;
    };
    expect(await at(since - 1)).toBe(encodePostgresVersion(0n, 4096n));
    expect(await at(since)).toBe(withEpoch(3, encodePostgresVersion(0n, 4096n)));
  });

  test('sequence ["null","<lsn>"] keeps a zero commit LSN', async () => {
    const e = await eventOf(enveloped(envelope('c', null, userRow(1), pgSource({ lsn: 4096, lastCommitLsn: null }))));
    expect(e.version).toBe(encodePostgresVersion(0n, 4096n));
  });

  test('the enveloped key is unwrapped to its payload', async () => {
    const e = await eventOf(enveloped(envelope('c', null, userRow(77), pgSource({ lsn: 1 })), { id: 77 }));
    expect(e.key).toEqual({ id: 77 });
  });

  test('dates, times and timestamps of every Debezium precision become ISO strings', async () => {
    const schema = {
      type: 'struct',
      name: 'legacy.public.times.Envelope',
      fields: [
        {
          field: 'after',
          type: 'struct',
          optional: true,
          name: 'legacy.public.times.Value',
          fields: [
            { field: 'ts', type: 'int64', optional: true, name: 'io.debezium.time.Timestamp' },
            { field: 'ts_micro', type: 'int64', optional: true, name: 'io.debezium.time.MicroTimestamp' },
            { field: 'ts_nano', type: 'int64', optional: true, name: 'io.debezium.time.NanoTimestamp' },
            { field: 'ts_zoned', type: 'string', optional: true, name: 'io.debezium.time.ZonedTimestamp' },
            { field: 'day', type: 'int32', optional: true, name: 'io.debezium.time.Date' },
            { field: 'connect_day', type: 'int32', optional: true, name: 'org.apache.kafka.connect.data.Date' },
            { field: 'connect_ts', type: 'int64', optional: true, name: 'org.apache.kafka.connect.data.Timestamp' },
            { field: 't', type: 'int32', optional: true, name: 'io.debezium.time.Time' },
            { field: 't_micro', type: 'int64', optional: true, name: 'io.debezium.time.MicroTime' },
            { field: 't_nano', type: 'int64', optional: true, name: 'io.debezium.time.NanoTime' },
            { field: 'before_epoch', type: 'int64', optional: true, name: 'io.debezium.time.MicroTimestamp' },
            { field: 'forever', type: 'int64', optional: true, name: 'io.debezium.time.MicroTimestamp' },
          ],
        },
        {
          field: 'source',
          type: 'struct',
          fields: [
            { field: 'lsn', type: 'int64' },
            { field: 'table', type: 'string' },
          ],
        },
        { field: 'op', type: 'string' },
      ],
    };
    const payload = {
      after: {
        ts: 1_700_000_000_123,
        ts_micro: 1_700_000_000_123_456,
        ts_nano: 1_700_000_000_123_456_789n, // beyond 2^53: must survive JSON parsing exactly
        ts_zoned: '2023-11-14T22:13:20.123456Z',
        day: -1,
        connect_day: 0,
        connect_ts: 0,
        t: 45_296_789,
        t_micro: 45_296_789_012,
        t_nano: 45_296_789_012_345,
        before_epoch: -1,
        forever: 9_223_372_036_825_200_000n, // Debezium's encoding of Postgres 'infinity'
      },
      source: { lsn: 5, table: 'times' },
      op: 'c',
    };
    const e = await eventOf(
      rawRecord(jsonBytes({ id: 1 }), jsonBytes(payload, schema as never), 'legacy.public.times'),
    );
    expect(e.after).toEqual({
      ts: '2023-11-14T22:13:20.123Z',
      ts_micro: '2023-11-14T22:13:20.123456Z',
      ts_nano: '2023-11-14T22:13:20.123456789Z',
      ts_zoned: '2023-11-14T22:13:20.123456Z',
      day: '1969-12-31',
      connect_day: '1970-01-01',
      connect_ts: '1970-01-01T00:00:00.000Z',
      t: '12:34:56.789',
      t_micro: '12:34:56.789012',
      t_nano: '12:34:56.789012345',
      before_epoch: '1969-12-31T23:59:59.999999Z',
      forever: 'infinity',
    });
    expect(e.table).toBe('times');
  });

  test('Connect Decimal and VariableScaleDecimal become exact decimal strings, however large', async () => {
    // 2^70 + 1 unscaled with scale 4: far beyond double precision.
    const huge = (1n << 70n) + 1n;
    const hex = huge.toString(16).padStart(18, '0');
    const e = await eventOf(
      enveloped(
        envelope(
          'c',
          null,
          userRow(1, {
            balance: Buffer.from(hex, 'hex').toString('base64'),
            score: { scale: 0, value: base64([0x80]) },
          }),
          pgSource({ lsn: 1 }),
        ),
      ),
    );
    expect(e.after?.['balance']).toBe('11805916207174113034.25'); // 2^70 + 1 = 1180591620717411303425, scale 2
    expect(e.after?.['score']).toBe('-128');
  });

  test('int64 columns beyond 2^53 keep every digit (as bigint), safe ones stay numbers', async () => {
    const e = await eventOf(
      enveloped(envelope('c', null, userRow(9_007_199_254_740_993n, { login_count: 7 }), pgSource({ lsn: 1 })), {
        id: 9_007_199_254_740_993n,
      }),
    );
    expect(e.after?.['id']).toBe(9_007_199_254_740_993n);
    expect(e.key).toEqual({ id: 9_007_199_254_740_993n });
    expect(e.after?.['login_count']).toBe(7);
  });

  test('an LSN beyond 2^53 is read exactly into the version', async () => {
    const lsn = (1n << 60n) + 3n;
    const e = await eventOf(
      enveloped(envelope('u', userRow(1), userRow(1), pgSource({ lsn, lastCommitLsn: lsn - 1n }))),
    );
    expect(e.version).toBe('1000000000000003' + '1000000000000003');
  });
});

describe('JSON with schemas.enable=false', () => {
  test('values are left as they come: no schema, no conversion', async () => {
    const e = await eventOf(
      bare(envelope('c', null, userRow(1), pgSource({ lsn: 24023960, lastCommitLsn: 24023928 }))),
    );
    expect(e.after).toMatchObject({
      balance: 'MDk=',
      birth_date: 19000,
      created_at: 1_700_000_000_123_456,
      score: { scale: 3, value: '+y4=' },
    });
    expect(e.version).toBe(encodePostgresVersion(24023928n, 24023960n));
    expect(e.key).toEqual({ id: 1 });
  });

  test('ts_ns beyond 2^53 in the envelope does not force a slow exact parse of anything else', async () => {
    const e = await eventOf(bare(envelope('c', null, userRow(1), pgSource({ lsn: 10 }))));
    expect(typeof e.after?.['id']).toBe('number');
  });

  test('a keyless table takes the row as key', async () => {
    const e = await eventOf(rawRecord(null, jsonBytes(envelope('c', null, { name: 'x' }, pgSource({ lsn: 10 })))));
    expect(e.key).toEqual({ name: 'x' });
  });

  test('tableOf overrides the table name', async () => {
    const d = createDecoder({
      format: 'json',
      tableOf: (topic) => (topic.endsWith('.users') ? 'app_users' : undefined),
    });
    const r = await d.decode(bare(envelope('c', null, userRow(1), pgSource({ lsn: 10 }))));
    expect(r.ok && r.value.kind === 'event' && r.value.event.table).toBe('app_users');
  });

  test('MySQL source positions order by (binlog file number, pos, row)', async () => {
    const mysql = (file: string, pos: number, row: number) => ({
      connector: 'mysql',
      name: 'legacy',
      ts_ms: 1,
      db: 'legacy',
      table: 'users',
      file,
      pos,
      row,
      snapshot: 'false',
    });
    const a = await eventOf(bare(envelope('u', userRow(1), userRow(1), mysql('mysql-bin.000003', 154, 0))));
    const b = await eventOf(bare(envelope('u', userRow(1), userRow(1), mysql('mysql-bin.000003', 154, 1))));
    const c = await eventOf(bare(envelope('u', userRow(1), userRow(1), mysql('mysql-bin.000004', 4, 0))));
    expect(a.version).toBe('00000003' + '000000000000009a' + '00000000');
    expect(a.version < b.version && b.version < c.version).toBe(true);
  });
});

describe('records that are not row changes', () => {
  test('a tombstone is op d with tombstone=true, the key, and no version', async () => {
    const e = await eventOf(rawRecord(jsonBytes({ id: 5 }, KEY_SCHEMA), null));
    expect(e).toMatchObject({
      op: 'd',
      tombstone: true,
      key: { id: 5 },
      before: null,
      after: null,
      version: '',
      table: 'users',
      sourceTsMs: null,
    });
  });

  test('truncate events are skipped as truncate', async () => {
    const r = await decode(rawRecord(null, jsonBytes(envelope('t', null, null, pgSource({ lsn: 10 })))));
    expect(r).toEqual({
      ok: true,
      value: { kind: 'skip', reason: 'truncate', origin: expect.objectContaining({ topic: TOPIC }) },
    });
  });

  test('heartbeats are skipped by topic without reading the bytes', async () => {
    const r = await decode(
      rawRecord(Buffer.from('{"serverName":"legacy"}'), Buffer.from('not even json'), '__debezium-heartbeat.legacy'),
    );
    expect(r.ok && r.value).toMatchObject({ kind: 'skip', reason: 'heartbeat' });
  });

  test('heartbeats on a custom topic are recognised by shape', async () => {
    const r = await decode(
      rawRecord(jsonBytes({ serverName: 'legacy' }), jsonBytes({ ts_ms: 1_700_000_000_000 }), 'hb.legacy'),
    );
    expect(r.ok && r.value).toMatchObject({ kind: 'skip', reason: 'heartbeat' });
  });

  test('schema change records are skipped as schema-change', async () => {
    const value = {
      source: { connector: 'mysql', file: 'mysql-bin.000003', pos: 1 },
      ts_ms: 1,
      databaseName: 'legacy',
      schemaName: null,
      ddl: 'ALTER TABLE users ADD COLUMN x INT',
      tableChanges: [],
    };
    const r = await decode(rawRecord(jsonBytes({ databaseName: 'legacy' }), jsonBytes(value), 'legacy'));
    expect(r.ok && r.value).toMatchObject({ kind: 'skip', reason: 'schema-change' });
  });

  test('transaction metadata records are skipped as transaction-metadata', async () => {
    const begin = { status: 'BEGIN', id: '571:53195829', event_count: null, data_collections: null, ts_ms: 1 };
    const r = await decode(rawRecord(jsonBytes({ id: '571:53195829' }), jsonBytes(begin), 'legacy.transaction'));
    expect(r.ok && r.value).toMatchObject({ kind: 'skip', reason: 'transaction-metadata' });
  });
});

describe('ExtractNewRecordState (unwrap) rows', () => {
  test('a flat row becomes the same event as its envelope, metadata stripped', async () => {
    const value = envelope(
      'u',
      userRow(1),
      userRow(1, { status: 'disabled' }),
      pgSource({ lsn: 500, tsMs: 1_700_000_000_000 }),
    );
    const fromEnvelope = await eventOf(bare(value));
    const fromRow = await eventOf(bare(unwrapEnvelope(value)));
    expect(fromRow).toMatchObject({
      op: 'u',
      table: 'users',
      key: { id: 1 },
      before: null,
      tombstone: false,
      sourceTsMs: 1_700_000_000_000,
    });
    expect(fromRow.after).toEqual(fromEnvelope.after);
    expect(fromRow.version).toBe(fromEnvelope.version); // no sequence in either: (lsn, lsn)
  });

  test('__deleted=true is a delete with the row as before', async () => {
    const value = unwrapEnvelope(envelope('d', userRow(3), null, pgSource({ lsn: 600 })));
    const e = await eventOf(bare(value, { id: 3 }));
    expect(e).toMatchObject({ op: 'd', after: null, key: { id: 3 } });
    expect(e.before?.['email']).toBe('user3@example.com');
    expect(Object.keys(e.before ?? {}).some((k) => k.startsWith('__'))).toBe(false);
  });

  test('with schemas the row is converted like the envelope', async () => {
    const value = unwrapEnvelope(envelope('c', null, userRow(1), pgSource({ lsn: 700 })));
    const e = await eventOf(rawRecord(jsonBytes({ id: 1 }, KEY_SCHEMA), jsonBytes(value, UNWRAPPED_SCHEMA)));
    expect(e.after).toMatchObject({
      balance: '123.45',
      birth_date: '2022-01-08',
      created_at: '2023-11-14T22:13:20.123456Z',
    });
    expect(e.version).toBe(encodePostgresVersion(0n, 700n));
  });

  test('a row under the SMT defaults (no __deleted, no __op, no position) is refused naming the settings', async () => {
    const error = await errorOf(bare({ id: 1, email: 'a@example.com' }));
    expect(error).toBeInstanceOf(UnwrapSettingsError);
    expect(error.message).toContain('delete.tombstone.handling.mode=rewrite');
    expect(error.message).toContain('add.fields=op,lsn,source.ts_ms');
    expect((error as UnwrapSettingsError).fixes).toEqual([UNWRAP_DELETES_SETTING, UNWRAP_FIELDS_SETTING]);
  });

  test('a changed row without a position is refused; a snapshot read without one (incremental) is not', async () => {
    const row = { id: 1, email: 'a@example.com', __deleted: 'false' };
    const error = await errorOf(bare({ ...row, __op: 'u' }));
    expect(error.message).toMatch(/no source position .*add\.fields=op,lsn,source\.ts_ms/);
    const read = await eventOf(bare({ ...row, __op: 'r', __lsn: null }));
    expect(read).toMatchObject({ op: 'r', version: '' });
  });

  test('with delete rewriting only (no add.fields) the row is refused naming add.fields', async () => {
    const error = await errorOf(bare({ id: 1, email: 'a@example.com', __deleted: 'true' }));
    expect(error.message).toMatch(/no __op field.*add\.fields=op,lsn/);
    expect(error.message).not.toContain('delete.tombstone.handling.mode');
  });
});

describe('the unavailable-value placeholder (TOASTed columns)', () => {
  test('stays visible as UNAVAILABLE_VALUE in text, bytes, decimal and array columns', async () => {
    const placeholderBytes = Buffer.from(UNAVAILABLE_VALUE).toString('base64');
    const after = userRow(1, { bio: UNAVAILABLE_VALUE, avatar: placeholderBytes, balance: placeholderBytes });
    for (const record of [
      enveloped(envelope('u', null, after, pgSource({ lsn: 1 }))),
      bare(envelope('u', null, { ...after, tags: [UNAVAILABLE_VALUE] }, pgSource({ lsn: 1 }))),
    ]) {
      const e = await eventOf(record);
      expect(e.after?.['bio']).toBe(UNAVAILABLE_VALUE);
      expect(e.after?.['avatar']).toBe(UNAVAILABLE_VALUE);
      expect(e.after?.['balance']).toBe(UNAVAILABLE_VALUE);
    }
    const withArray = await eventOf(
      bare(envelope('u', null, { id: 1, tags: [UNAVAILABLE_VALUE] }, pgSource({ lsn: 1 }))),
    );
    expect(withArray.after?.['tags']).toBe(UNAVAILABLE_VALUE);
  });

  test('a custom unavailable.value.placeholder is mapped to UNAVAILABLE_VALUE', async () => {
    const d = createDecoder({ format: 'json', unavailableValuePlaceholder: '<toast>' });
    const r = await d.decode(bare(envelope('u', null, userRow(1, { bio: '<toast>' }), pgSource({ lsn: 1 }))));
    expect(r.ok && r.value.kind === 'event' && r.value.event.after?.['bio']).toBe(UNAVAILABLE_VALUE);
  });
});

describe('undecodable records are DecodeErrors that say where and what', () => {
  const context = (record: RawRecord) => ({ topic: record.topic, partition: record.partition, offset: record.offset });

  test('invalid JSON', async () => {
    const record = rawRecord(null, Buffer.from('{"before":nul'));
    const error = await errorOf(record);
    expect(error).toBeInstanceOf(DecodeError);
    expect(error.retriable).toBe(false);
    expect(error.stage).toBe('decode');
    expect(error.message).toMatch(/^value is not valid JSON: /);
    expect(error.context).toMatchObject(context(record));
  });

  test('an LSN beyond 64 bits (found by the mutation fuzzer)', async () => {
    for (const record of [
      bare(envelope('u', null, userRow(1), pgSource({ lsn: 1n << 64n }))),
      bare(envelope('u', null, userRow(1), { ...pgSource({ lsn: 1 }), sequence: `["1","${1n << 64n}"]` })),
      bare({ ...unwrapEnvelope(envelope('u', null, userRow(1), pgSource({ lsn: 1 }))), __lsn: 2 ** 64 }),
    ]) {
      const error = await errorOf(record);
      expect(error).toBeInstanceOf(DecodeError);
      expect(error.message).toMatch(/LSN \d+ is not an integer in 0\.\.18446744073709551615$/);
    }
  });

  test('Avro bytes on a JSON decoder', async () => {
    const error = await errorOf(rawRecord(null, Buffer.from([0, 0, 0, 0, 1, 2])));
    expect(error.message).toBe(
      'value starts with 0x00 (Confluent Avro wire format?) but the decoder is configured for JSON',
    );
  });

  test('an envelope without source', async () => {
    const error = await errorOf(bare({ before: null, after: { id: 1 }, op: 'c' }));
    expect(error.message).toBe('envelope has no "source" block: cannot derive a version');
  });

  test('an insert without after', async () => {
    const error = await errorOf(bare({ before: null, after: null, op: 'c', source: pgSource({ lsn: 1 }) }));
    expect(error.message).toBe('op "c" envelope has no "after" row');
  });

  test('an unknown op', async () => {
    const error = await errorOf(bare({ before: null, after: { id: 1 }, op: 'x', source: pgSource({ lsn: 1 }) }));
    expect(error.message).toBe('envelope has unknown op "x" (expected c, u, d, r or t)');
  });

  test('a source without a position', async () => {
    const error = await errorOf(
      bare({ before: null, after: { id: 1 }, op: 'c', source: { connector: 'postgresql', table: 'users' } }),
    );
    expect(error.message).toMatch(/source has no source position/);
  });

  test('a malformed sequence', async () => {
    const error = await errorOf(
      bare({ before: null, after: { id: 1 }, op: 'c', source: { lsn: 5, sequence: 'garbage' } }),
    );
    expect(error.message).toBe('source.sequence is not a JSON array of two LSN strings: "garbage"');
  });

  test('a payload that contradicts its schema', async () => {
    const record = enveloped(envelope('c', null, userRow(1, { birth_date: 'yesterday' }), pgSource({ lsn: 1 })));
    const error = await errorOf(record);
    expect(error.message).toBe('value payload does not match its embedded schema: Date expects an integer, got string');
  });

  test('a key that is not a struct', async () => {
    const error = await errorOf(
      rawRecord(Buffer.from('"just-a-string"'), jsonBytes(envelope('c', null, userRow(1), pgSource({ lsn: 1 })))),
    );
    expect(error.message).toBe('record key is not a struct of key columns (got string)');
  });

  test('a tombstone without key', async () => {
    const error = await errorOf(rawRecord(null, null));
    expect(error.message).toMatch(/^tombstone \(null value\) without a key/);
  });

  test('an empty value', async () => {
    const error = await errorOf(rawRecord(null, Buffer.alloc(0)));
    expect(error.message).toBe('value is empty (0 bytes)');
  });
});

describe('performance shape', () => {
  test('the JSON path resolves without waiting on anything (a settled promise)', async () => {
    let settled = false;
    void decoder.decode(bare(envelope('c', null, userRow(1), pgSource({ lsn: 1 })))).then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(true);
  });
});
