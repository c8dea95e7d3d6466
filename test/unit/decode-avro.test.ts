// Decoding Connect-style Avro in the Confluent wire format, with schemas from a registry.
import { createRecordedSchemaRegistry } from '../../src/adapters/registry/recorded-schema-registry.js';
import { createConfluentSchemaRegistry, type SchemaRegistry } from '../../src/adapters/registry/schema-registry.js';
import type { ChangeEvent, RawRecord } from '../../src/core/types.js';
import { DecodeError, SchemaRegistryUnavailableError, type SyncError } from '../../src/errors.js';
import { UNAVAILABLE_VALUE, createDecoder, encodePostgresVersion } from '../../src/pipeline/decode/index.js';
import { writeWireHeader } from '../../src/pipeline/decode/avro/wire-format.js';
import {
  AVRO_SCHEMAS,
  ENVELOPE_SCHEMA,
  ENVELOPE_SCHEMA_ID,
  KEY_SCHEMA,
  KEY_SCHEMA_ID,
  UNWRAPPED_SCHEMA,
  UNWRAPPED_SCHEMA_ID,
  avroBytes,
  envelope,
  jsonBytes,
  pgSource,
  rawRecord,
  unwrapEnvelope,
  userRow,
} from '../../bench/decode-records.js';

/** Counts lookups on top of the recorded registry, to see what the cache saves. */
const countingRegistry = (inner: SchemaRegistry = createRecordedSchemaRegistry(AVRO_SCHEMAS)) => {
  const calls: number[] = [];
  const registry: SchemaRegistry = { getSchema: (id) => (calls.push(id), inner.getSchema(id)) };
  return { registry, calls };
};

const avroRecord = (value: unknown, key: unknown = { id: 1 }): RawRecord =>
  rawRecord(
    avroBytes(KEY_SCHEMA_ID, KEY_SCHEMA, key),
    value === null ? null : avroBytes(ENVELOPE_SCHEMA_ID, ENVELOPE_SCHEMA, value),
  );

const eventOf = async (decoder: ReturnType<typeof createDecoder>, record: RawRecord): Promise<ChangeEvent> => {
  const result = await decoder.decode(record);
  if (!result.ok) throw new Error(`expected an event, got ${result.error.message}`);
  if (result.value.kind !== 'event') throw new Error(`expected an event, got skip ${result.value.reason}`);
  return result.value.event;
};

const errorOf = async (decoder: ReturnType<typeof createDecoder>, record: RawRecord): Promise<SyncError> => {
  const result = await decoder.decode(record);
  if (result.ok) throw new Error(`expected an error, got ${result.value.kind}`);
  return result.error;
};

describe('Avro envelope records', () => {
  const decoder = createDecoder({ format: 'avro', registry: createRecordedSchemaRegistry(AVRO_SCHEMAS) });

  test('decode to the same event as the JSON converter would give', async () => {
    const e = await eventOf(
      decoder,
      avroRecord(
        envelope(
          'u',
          userRow(1),
          userRow(1, { status: 'disabled' }),
          pgSource({ lsn: 24023960, lastCommitLsn: 24023928 }),
        ),
      ),
    );
    expect(e).toMatchObject({
      table: 'users',
      key: { id: 1 },
      op: 'u',
      tombstone: false,
      snapshot: false,
      sourceTsMs: 1_700_000_000_000,
    });
    expect({ ...e.after }).toEqual({
      id: 1,
      email: 'user1@example.com',
      given_name: 'Ada',
      family_name: 'Lovelace',
      phone: '+15555550100',
      status: 'disabled',
      bio: 'Analyst',
      balance: '123.45',
      score: '-1.234',
      birth_date: '2022-01-08',
      created_at: '2023-11-14T22:13:20.123456Z',
      updated_at: '2024-02-29T12:00:00.5+01:00',
      login_count: 42,
      avatar: null,
    });
    expect(e.before?.['status']).toBe('active');
    expect(e.version).toBe(encodePostgresVersion(24023928n, 24023960n));
  });

  test('int64 beyond 2^53 decodes to an exact bigint, in rows, keys and LSNs', async () => {
    const big = 9_223_372_036_854_775_807n; // Long.MAX_VALUE
    const lsn = (1n << 62n) + 5n;
    const e = await eventOf(
      decoder,
      avroRecord(
        envelope(
          'c',
          null,
          userRow(big, { login_count: -9_007_199_254_740_993n }),
          pgSource({ lsn, lastCommitLsn: lsn }),
        ),
        { id: big },
      ),
    );
    expect(e.key).toEqual({ id: big });
    expect(e.after?.['id']).toBe(big);
    expect(e.after?.['login_count']).toBe(-9_007_199_254_740_993n);
    expect(e.version).toBe(encodePostgresVersion(lsn, lsn));
  });

  test('negative, small and 2^53-adjacent longs decode exactly as numbers', async () => {
    for (const n of [
      0,
      -1,
      1,
      63,
      -64,
      64,
      2 ** 31,
      -(2 ** 31) - 1,
      2 ** 49,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
    ]) {
      const e = await eventOf(
        decoder,
        avroRecord(envelope('c', null, userRow(1, { login_count: n }), pgSource({ lsn: 1 }))),
      );
      expect(e.after?.['login_count']).toBe(n);
    }
  });

  test('tombstones, truncates and the TOAST placeholder (string and bytes)', async () => {
    const tomb = await eventOf(decoder, avroRecord(null, { id: 4 }));
    expect(tomb).toMatchObject({ op: 'd', tombstone: true, key: { id: 4 }, version: '' });
    const truncate = await decoder.decode(
      rawRecord(null, avroBytes(ENVELOPE_SCHEMA_ID, ENVELOPE_SCHEMA, envelope('t', null, null, pgSource({ lsn: 9 })))),
    );
    expect(truncate.ok && truncate.value).toMatchObject({ kind: 'skip', reason: 'truncate' });
    const placeholderBytes = Buffer.from(UNAVAILABLE_VALUE).toString('base64');
    const toasted = await eventOf(
      decoder,
      avroRecord(
        envelope(
          'u',
          null,
          userRow(1, { bio: UNAVAILABLE_VALUE, avatar: placeholderBytes, balance: placeholderBytes }),
          pgSource({ lsn: 9 }),
        ),
      ),
    );
    expect(toasted.after).toMatchObject({
      bio: UNAVAILABLE_VALUE,
      avatar: UNAVAILABLE_VALUE,
      balance: UNAVAILABLE_VALUE,
    });
  });

  test('bytes columns arrive as base64 text, the form the JSON converter gives', async () => {
    const e = await eventOf(
      decoder,
      avroRecord(
        envelope(
          'c',
          null,
          userRow(1, { avatar: Buffer.from([0, 1, 254, 255]).toString('base64') }),
          pgSource({ lsn: 1 }),
        ),
      ),
    );
    expect(e.after?.['avatar']).toBe('AAH+/w==');
  });

  test('unwrapped Avro rows decode like unwrapped JSON rows', async () => {
    const row = unwrapEnvelope(envelope('d', userRow(2), null, pgSource({ lsn: 77 })));
    const e = await eventOf(
      decoder,
      rawRecord(avroBytes(KEY_SCHEMA_ID, KEY_SCHEMA, { id: 2 }), avroBytes(UNWRAPPED_SCHEMA_ID, UNWRAPPED_SCHEMA, row)),
    );
    expect(e).toMatchObject({ op: 'd', after: null, key: { id: 2 }, version: encodePostgresVersion(0n, 77n) });
    expect(e.before).toMatchObject({ id: 2, balance: '123.45', created_at: '2023-11-14T22:13:20.123456Z' });
  });
});

describe('schema ids and the registry', () => {
  test('each schema id is fetched once; later records decode without the registry', async () => {
    const { registry, calls } = countingRegistry();
    const decoder = createDecoder({ format: 'avro', registry });
    const records = [1, 2, 3].map((id) => avroRecord(envelope('c', null, userRow(id), pgSource({ lsn: id })), { id }));
    // Concurrent first sightings share one lookup per id.
    const results = await Promise.all(records.map((r) => decoder.decode(r)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect([...calls].sort()).toEqual([ENVELOPE_SCHEMA_ID, KEY_SCHEMA_ID].sort());
    let settled = false;
    void decoder.decode(records[0] as RawRecord).then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(true); // cached: no await on the network
  });

  test('an unknown schema id is a DecodeError naming the id and the record', async () => {
    const decoder = createDecoder({ format: 'avro', registry: createRecordedSchemaRegistry(AVRO_SCHEMAS) });
    const record = rawRecord(null, writeWireHeader(4242, Buffer.from([2, 0])));
    const error = await errorOf(decoder, record);
    expect(error).toBeInstanceOf(DecodeError);
    expect(error.retriable).toBe(false);
    expect(error.message).toBe('schema id 4242 is not among the 3 recorded schemas');
    expect(error.context).toMatchObject({
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      schemaId: 4242,
    });
  });

  test('an unreachable registry is a retriable SchemaRegistryUnavailableError, per record', async () => {
    // A real connection to a port nobody listens on: no stub.
    const registry = createConfluentSchemaRegistry({ host: 'http://127.0.0.1:9', retries: 0 });
    const decoder = createDecoder({ format: 'avro', registry });
    const a = avroRecord(envelope('c', null, userRow(1), pgSource({ lsn: 1 })));
    const b = avroRecord(envelope('c', null, userRow(2), pgSource({ lsn: 2 })));
    const [ea, eb] = await Promise.all([errorOf(decoder, a), errorOf(decoder, b)]);
    expect(ea).toBeInstanceOf(SchemaRegistryUnavailableError);
    expect(ea?.retriable).toBe(true);
    expect(ea?.message).toMatch(
      /^schema registry at http:\/\/127\.0\.0\.1:9 did not return schema id \d+: .*ECONNREFUSED/,
    );
    expect(ea?.context).toMatchObject({ offset: a.offset });
    expect(eb?.context).toMatchObject({ offset: b.offset });
  });

  test('Avro without a registry is a DecodeError', async () => {
    const error = await errorOf(
      createDecoder({ format: 'avro' }),
      avroRecord(envelope('c', null, userRow(1), pgSource({ lsn: 1 }))),
    );
    expect(error.message).toMatch(/schema id \d+, but the decoder has no schema registry/);
  });

  test('a schema that is not Avro is a DecodeError', async () => {
    const decoder = createDecoder({
      format: 'avro',
      registry: createRecordedSchemaRegistry({ 5: '{"type":"record","name":"X"' }),
    });
    const error = await errorOf(decoder, rawRecord(null, writeWireHeader(5, Buffer.from([0]))));
    expect(error.message).toMatch(/^schema id 5 is not a usable Avro schema: /);
  });
});

describe('corrupt Avro bytes are DecodeErrors, never crashes', () => {
  const decoder = createDecoder({ format: 'avro', registry: createRecordedSchemaRegistry(AVRO_SCHEMAS) });
  const good = avroBytes(ENVELOPE_SCHEMA_ID, ENVELOPE_SCHEMA, envelope('c', null, userRow(1), pgSource({ lsn: 1 })));

  test('truncated body', async () => {
    const error = await errorOf(decoder, rawRecord(null, good.subarray(0, good.length - 10)));
    expect(error.message).toMatch(
      new RegExp(
        `^value is (truncated: ${good.length - 10} bytes end inside an Avro record of schema id 7|not valid Avro for schema id 7: .*)$`,
      ),
    );
  });

  test('trailing bytes', async () => {
    const error = await errorOf(decoder, rawRecord(null, Buffer.concat([good, Buffer.from([1, 2, 3])])));
    expect(error.message).toBe('value has 3 trailing byte(s) after the Avro record of schema id 7');
  });

  test('wrong magic byte and short header', async () => {
    expect((await errorOf(decoder, rawRecord(null, Buffer.from('{"a":1}')))).message).toBe(
      'value is not Confluent Avro: first byte is 0x7b, not the Confluent magic byte 0x00',
    );
    expect((await errorOf(decoder, rawRecord(null, Buffer.from([0, 0, 7])))).message).toBe(
      'value is not Confluent Avro: only 3 byte(s), shorter than the 5-byte Confluent wire header',
    );
  });

  test('an invalid union branch', async () => {
    const error = await errorOf(
      decoder,
      rawRecord(null, writeWireHeader(ENVELOPE_SCHEMA_ID, Buffer.from([0x7e, 0, 0, 0]))),
    );
    expect(error.message).toMatch(/^value is not valid Avro for schema id 7: /);
  });
});

describe("format 'auto'", () => {
  test('tells Avro from JSON per record by the magic byte', async () => {
    const decoder = createDecoder({ format: 'auto', registry: createRecordedSchemaRegistry(AVRO_SCHEMAS) });
    const value = envelope('c', null, userRow(1), pgSource({ lsn: 1 }));
    const fromAvro = await eventOf(decoder, avroRecord(value));
    const fromJson = await eventOf(
      decoder,
      rawRecord(jsonBytes({ id: 1 }, KEY_SCHEMA), jsonBytes(value, ENVELOPE_SCHEMA)),
    );
    expect({ ...fromAvro, after: { ...fromAvro.after }, key: { ...fromAvro.key }, origin: null }).toEqual({
      ...fromJson,
      origin: null,
    });
  });
});
