// The decoder must never crash: whatever the bytes, decode() resolves to a Result, and a failure
// is a SyncError that names the record. Random bytes, random JSON and mutated real records.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { createRecordedSchemaRegistry } from '../../src/adapters/registry/recorded-schema-registry.js';
import type { DecodeOutcome, RawRecord, Result } from '../../src/core/types.js';
import { SyncError } from '../../src/errors.js';
import { createDecoder, type Decoder } from '../../src/pipeline/decode/index.js';
import { writeWireHeader } from '../../src/pipeline/decode/avro/wire-format.js';
import { AVRO_SCHEMAS, ENVELOPE_SCHEMA_ID, encodeStream, type RecordForm } from '../../bench/decode-records.js';

const OPS = new Set(['c', 'u', 'd', 'r', 't']);

const decoders: Decoder[] = (['json', 'avro', 'auto'] as const).map((format) =>
  createDecoder({ format, registry: createRecordedSchemaRegistry(AVRO_SCHEMAS) }),
);

const record = (key: Buffer | null, value: Buffer | null, offset = 0): RawRecord => ({
  topic: 'legacy.public.users',
  partition: 3,
  offset: String(offset),
  key,
  value,
  headers: {},
});

/** Decodes with every decoder and checks the outcome is well-formed; returns the results. */
const decodeSafely = async (raw: RawRecord): Promise<Result<DecodeOutcome, SyncError>[]> => {
  const results: Result<DecodeOutcome, SyncError>[] = [];
  for (const decoder of decoders) {
    let result: Result<DecodeOutcome, SyncError>;
    try {
      result = await decoder.decode(raw);
    } catch (error) {
      throw new Error(
        `decode threw for key=${raw.key?.toString('hex')} value=${raw.value?.toString('hex')}: ${String(error)}`,
      );
    }
    if (result.ok) {
      if (result.value.kind === 'event') {
        const e = result.value.event;
        expect(OPS.has(e.op)).toBe(true);
        expect(typeof e.version).toBe('string');
        expect(typeof e.table).toBe('string');
        expect(typeof e.key).toBe('object');
        expect(e.origin.offset).toBe(raw.offset);
      }
    } else {
      expect(result.error).toBeInstanceOf(SyncError);
      expect(result.error.stage).toBe('decode');
      expect(result.error.context).toMatchObject({ topic: raw.topic, partition: raw.partition, offset: raw.offset });
      expect(result.error.message.length).toBeGreaterThan(10);
    }
    results.push(result);
  }
  return results;
};

const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });

describe('decode never throws', () => {
  test('on random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(maybe(bytes), maybe(bytes), async (key, value) => void (await decodeSafely(record(key, value)))),
      { numRuns: 400 },
    );
  });

  test('on random bytes behind a valid Confluent header', async () => {
    await fc.assert(
      fc.asyncProperty(
        bytes,
        async (body) => void (await decodeSafely(record(null, writeWireHeader(ENVELOPE_SCHEMA_ID, body)))),
      ),
      { numRuns: 400 },
    );
  });

  test('on random JSON, enveloped or bare, shaped like Debezium or not', async () => {
    const op = fc.constantFrom('c', 'u', 'd', 'r', 't', 'm', 'x', 1, null);
    const anyValue = fc.jsonValue({ maxDepth: 3 });
    const debeziumish = fc.record(
      {
        op,
        before: fc.oneof(anyValue, fc.dictionary(fc.string(), anyValue)),
        after: fc.oneof(anyValue, fc.dictionary(fc.string(), anyValue)),
        source: fc.oneof(
          anyValue,
          fc.record({ lsn: anyValue, sequence: anyValue, file: anyValue, pos: anyValue, table: anyValue }),
        ),
      },
      { requiredKeys: [] },
    );
    const schema = fc.oneof(
      anyValue,
      fc.record(
        {
          type: fc.constantFrom('struct', 'int64', 'bytes', 'array', 'map'),
          name: fc.constantFrom(
            'io.debezium.time.Date',
            'org.apache.kafka.connect.data.Decimal',
            'io.debezium.data.VariableScaleDecimal',
            'x',
          ),
          fields: anyValue,
        },
        { requiredKeys: [] },
      ),
    );
    const payload = fc.oneof(anyValue, debeziumish);
    const text = fc.oneof(
      payload.map((p) => JSON.stringify(p)),
      fc.tuple(schema, payload).map(([s, p]) => JSON.stringify({ schema: s, payload: p })),
    );
    await fc.assert(
      fc.asyncProperty(
        maybe(text),
        maybe(text),
        async (k, v) =>
          void (await decodeSafely(record(k === null ? null : Buffer.from(k), v === null ? null : Buffer.from(v)))),
      ),
      { numRuns: 600 },
    );
  });

  for (const form of ['json', 'json-noschema', 'avro', 'unwrap'] as RecordForm[]) {
    test(`on mutated real ${form} records`, async () => {
      const originals = encodeStream(20, form).filter((r) => r.value !== null);
      const mutation = fc.oneof(
        // flip some bytes
        fc
          .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })
          .map((flips) => (b: Buffer) => {
            const out = Buffer.from(b);
            for (const [at, v] of flips) out[at % out.length] = v;
            return out;
          }),
        // truncate
        fc.nat().map((n) => (b: Buffer) => b.subarray(0, n % b.length)),
        // splice random bytes in
        fc.tuple(fc.nat(), bytes).map(
          ([at, extra]) =>
            (b: Buffer) =>
              Buffer.concat([b.subarray(0, at % b.length), extra, b.subarray(at % b.length)]),
        ),
        // replace a digit run (numbers, lengths) by a huge number
        fc.constant((b: Buffer) =>
          Buffer.from(b.toString('latin1').replace(/\d+/, '123456789012345678901234567890'), 'latin1'),
        ),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: originals.length - 1 }),
          mutation,
          fc.boolean(),
          async (i, mutate, mutateKey) => {
            const original = originals[i] as RawRecord;
            const raw = {
              ...original,
              key: mutateKey && original.key ? mutate(original.key) : original.key,
              value: mutate(original.value as Buffer),
            };
            await decodeSafely(raw);
          },
        ),
        { numRuns: 300 },
      );
    });
  }

  // Records captured from the running stack (test/fixtures/debezium, committed): a missing
  // file fails the test rather than skipping it.
  const fixtureDir = join(process.cwd(), 'test/fixtures/debezium');
  const captured: RawRecord[] = ['json', 'json-noschema', 'unwrap-json', 'avro'].flatMap((name) => {
    const path = join(fixtureDir, `${name}.json`);
    const rows = JSON.parse(readFileSync(path, 'utf8')) as {
      topic: string;
      partition: number;
      offset: string | number;
      key_b64: string | null;
      value_b64: string | null;
    }[];
    return rows
      .filter((r) => r.value_b64 !== null)
      .map((r) => ({
        topic: r.topic,
        partition: r.partition,
        offset: String(r.offset),
        key: r.key_b64 === null ? null : Buffer.from(r.key_b64, 'base64'),
        value: Buffer.from(r.value_b64 as string, 'base64'),
        headers: {},
      }));
  });
  const capturedSchemas = JSON.parse(readFileSync(join(fixtureDir, 'avro-schemas.json'), 'utf8')) as Record<
    string,
    string
  >;

  test('on mutated captured records', async () => {
    expect(captured.length).toBeGreaterThan(0);
    const decoder = createDecoder({ format: 'auto', registry: createRecordedSchemaRegistry(capturedSchemas) });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: captured.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        async (i, flips, cut) => {
          const original = captured[i] as RawRecord;
          const value = Buffer.from(original.value as Buffer);
          for (const [at, v] of flips) value[at % value.length] = v;
          for (const candidate of [value, value.subarray(0, cut % value.length)]) {
            const raw = { ...original, value: candidate };
            const result = await decoder.decode(raw);
            if (!result.ok) expect(result.error.context).toMatchObject({ topic: raw.topic, offset: raw.offset });
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test('the unmutated records all decode', async () => {
    for (const form of ['json', 'json-noschema', 'avro', 'unwrap'] as RecordForm[]) {
      for (const raw of encodeStream(20, form)) {
        const [, , auto] = await decodeSafely(raw);
        expect(auto?.ok).toBe(true);
      }
    }
  });
});
