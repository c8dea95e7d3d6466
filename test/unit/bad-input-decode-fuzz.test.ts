// Extends decode-fuzz.test.ts where it was thin: the records CAPTURED from the real stack
// (test/fixtures/debezium: JSON with schemas, JSON without, ExtractNewRecordState JSON, Avro)
// fed to every decoder (json, avro, auto), with keys, values and headers mutated, plus
// structure-aware mutations that byte flips rarely reach (a JSON event whose schema or payload
// lost a field, changed type, or disagrees with the other; an Avro record read with another
// schema id). Invariants: decode() never throws; an event is well-formed; a failure is a
// decode-stage SyncError naming the record — and not a JavaScript TypeError/RangeError caught
// by the decoder's last-resort handler (that would be a decoder bug with a confusing DLQ reason).
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { createRecordedSchemaRegistry } from '../../src/adapters/registry/recorded-schema-registry.js';
import type { DecodeOutcome, RawRecord, Result } from '../../src/core/types.js';
import { SyncError } from '../../src/errors.js';
import { createDecoder, type Decoder } from '../../src/pipeline/decode/index.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/debezium');
const FORMS = ['json', 'json-noschema', 'unwrap-json', 'avro'] as const;
type Form = (typeof FORMS)[number];
const OPS = new Set(['c', 'u', 'd', 'r', 't']);

interface Fixture {
  topic: string;
  partition: number;
  offset: string | number;
  timestamp?: string;
  key_b64: string | null;
  value_b64: string | null;
  headers: { key: string; value_b64: string | null }[];
}

const schemas = JSON.parse(readFileSync(join(FIXTURES, 'avro-schemas.json'), 'utf8')) as Record<string, string>;
const schemaIds = Object.keys(schemas).map(Number);

const captured: Record<Form, RawRecord[]> = Object.fromEntries(
  FORMS.map((form) => {
    const rows = JSON.parse(readFileSync(join(FIXTURES, `${form}.json`), 'utf8')) as Fixture[];
    return [
      form,
      rows.map((r) => ({
        topic: r.topic,
        partition: r.partition,
        offset: String(r.offset),
        ...(r.timestamp === undefined ? {} : { timestamp: r.timestamp }),
        key: r.key_b64 === null ? null : Buffer.from(r.key_b64, 'base64'),
        value: r.value_b64 === null ? null : Buffer.from(r.value_b64, 'base64'),
        headers: Object.fromEntries(
          r.headers.map((h) => [h.key, h.value_b64 === null ? undefined : Buffer.from(h.value_b64, 'base64')]),
        ),
      })),
    ];
  }),
) as Record<Form, RawRecord[]>;

const decoders: Record<'json' | 'avro' | 'auto', Decoder> = {
  json: createDecoder({ format: 'json', registry: createRecordedSchemaRegistry(schemas) }),
  avro: createDecoder({ format: 'avro', registry: createRecordedSchemaRegistry(schemas) }),
  auto: createDecoder({ format: 'auto', registry: createRecordedSchemaRegistry(schemas) }),
};
/** The decoder a deployment of that form would configure. */
const nativeOf = (form: Form): Decoder => (form === 'avro' ? decoders.avro : decoders.json);

const describeRaw = (raw: RawRecord): string =>
  `topic=${raw.topic} offset=${raw.offset} key=${raw.key?.toString('hex').slice(0, 120)} value=${raw.value?.toString('hex').slice(0, 240)}`;

/** Decodes with one decoder and checks every invariant; returns the result. */
async function decodeChecked(decoder: Decoder, raw: RawRecord): Promise<Result<DecodeOutcome, SyncError>> {
  let result: Result<DecodeOutcome, SyncError>;
  try {
    result = await decoder.decode(raw);
  } catch (error) {
    throw new Error(`decode threw (${String(error)}) for ${describeRaw(raw)}`);
  }
  if (result.ok) {
    if (result.value.kind === 'event') {
      const e = result.value.event;
      expect(OPS.has(e.op)).toBe(true);
      expect(typeof e.version).toBe('string');
      expect(typeof e.table).toBe('string');
      expect(e.key !== null && typeof e.key === 'object').toBe(true);
      expect(e.origin).toMatchObject({ topic: raw.topic, partition: raw.partition, offset: raw.offset });
      if (e.after !== null) expect(typeof e.after).toBe('object');
    } else {
      expect(result.value.origin).toMatchObject({ topic: raw.topic, offset: raw.offset });
    }
  } else {
    const error = result.error;
    expect(error).toBeInstanceOf(SyncError);
    expect(error.stage).toBe('decode');
    expect(error.context).toMatchObject({ topic: raw.topic, partition: raw.partition, offset: raw.offset });
    expect(error.message.length).toBeGreaterThan(10);
    const cause = error.cause;
    if (
      error.message.startsWith('record could not be decoded:') &&
      (cause instanceof TypeError || cause instanceof RangeError || cause instanceof ReferenceError)
    ) {
      throw new Error(`decoder bug (${cause.constructor.name}: ${cause.message}) for ${describeRaw(raw)}`);
    }
  }
  return result;
}

async function decodeWithAll(raw: RawRecord): Promise<void> {
  for (const decoder of Object.values(decoders)) await decodeChecked(decoder, raw);
}

const byteMutation = fc.oneof(
  fc
    .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })
    .map((flips) => (b: Buffer) => {
      const out = Buffer.from(b);
      for (const [at, v] of flips) out[at % out.length] = v;
      return out;
    }),
  fc.nat().map((n) => (b: Buffer) => b.subarray(0, n % b.length)),
  fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 40 })).map(
    ([at, extra]) =>
      (b: Buffer) =>
        Buffer.concat([b.subarray(0, at % b.length), Buffer.from(extra), b.subarray(at % b.length)]),
  ),
  fc.constant((b: Buffer) => Buffer.concat([b, b])),
  fc.constant((b: Buffer) => Buffer.from(b.toString('latin1').replace(/\d+/, '99999999999999999999999999'), 'latin1')),
);

describe('captured records, every form', () => {
  test.each(FORMS)(
    '%s: every captured record decodes with its native decoder and with auto, without a decoder bug',
    async (form) => {
      expect(captured[form].length).toBeGreaterThan(20);
      let events = 0;
      for (const raw of captured[form]) {
        const native = await decodeChecked(nativeOf(form), raw);
        const auto = await decodeChecked(decoders.auto, raw);
        expect(native.ok).toBe(true);
        expect(auto.ok).toBe(true);
        if (native.ok && native.value.kind === 'event') events++;
        // The wrong decoder for the form fails cleanly (or, for tombstones, agrees).
        await decodeChecked(form === 'avro' ? decoders.json : decoders.avro, raw);
      }
      expect(events).toBeGreaterThan(10);
    },
  );

  test.each(FORMS)('%s: byte-mutated keys, values and headers, through every decoder', async (form) => {
    const records = captured[form].filter((r) => r.value !== null || r.key !== null);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: records.length - 1 }),
        byteMutation,
        fc.constantFrom('key', 'value', 'both', 'headers'),
        async (i, mutate, where) => {
          const original = records[i]!;
          const raw: RawRecord = { ...original, headers: { ...original.headers } };
          if ((where === 'key' || where === 'both') && raw.key && raw.key.length > 0) raw.key = mutate(raw.key);
          if ((where === 'value' || where === 'both') && raw.value && raw.value.length > 0)
            raw.value = mutate(raw.value);
          if (where === 'headers') {
            for (const name of Object.keys(raw.headers)) {
              const v = raw.headers[name];
              raw.headers[name] = Buffer.isBuffer(v) && v.length > 0 ? mutate(v) : Buffer.from([0xff]);
            }
            raw.headers['__debezium.newkey'] = Buffer.from('{"id": "not a key"');
          }
          await decodeWithAll(raw);
        },
      ),
      { numRuns: 250 },
    );
  });
});

// ---- structure-aware JSON mutations --------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a value inside a JSON document. */
function pathsOf(value: Json, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(path);
  if (Array.isArray(value)) for (const [i, v] of value.entries()) pathsOf(v, [...path, i], out);
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) pathsOf(v, [...path, k], out);
  return out;
}

function edit(doc: Json, path: (string | number)[], change: (v: Json) => Json | undefined): Json {
  if (path.length === 0) return change(doc) ?? null;
  const copy = structuredClone(doc) as Record<string | number, Json>;
  let node = copy as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  const next = change(node[last]!);
  if (next === undefined) {
    if (Array.isArray(node)) (node as Json[]).splice(Number(last), 1);
    else delete node[last];
  } else node[last] = next;
  return copy as Json;
}

const SCHEMA_WORDS = [
  'struct',
  'int8',
  'int16',
  'int32',
  'int64',
  'float64',
  'boolean',
  'string',
  'bytes',
  'array',
  'map',
  'io.debezium.time.Date',
  'io.debezium.time.ZonedTimestamp',
  'io.debezium.time.MicroTimestamp',
  'org.apache.kafka.connect.data.Decimal',
  'io.debezium.data.VariableScaleDecimal',
  'io.debezium.data.Uuid',
  '__debezium_unavailable_value',
];

const valueChange: fc.Arbitrary<(v: Json) => Json | undefined> = fc.oneof(
  fc.constant(() => undefined), // delete the field / element
  fc.constant(() => null),
  fc.jsonValue({ maxDepth: 2 }).map((x) => () => x as Json),
  fc.constantFrom(...SCHEMA_WORDS).map((w) => () => w),
  fc.constantFrom(0, -1, 1.5, 2 ** 53 + 1, 1e308, -0).map((x) => () => x),
  fc.constant((v: Json) => (typeof v === 'string' ? Number(v) || v.length : typeof v === 'number' ? String(v) : v)), // swap string <-> number
  fc.constant((v: Json) => [v]), // wrap in an array
  fc.constant((v: Json) => ({ value: v })), // wrap in an object
  fc.constant((v: Json) => (typeof v === 'string' ? `${v}${v}`.slice(0, 4000) : v)),
);

describe('structure-aware mutations of captured JSON events', () => {
  test.each(['json', 'json-noschema', 'unwrap-json'] as const)(
    '%s: a field of the schema or payload removed, retyped or replaced',
    async (form) => {
      const records = captured[form].filter((r) => r.value !== null);
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: records.length - 1 }),
          fc.nat(),
          valueChange,
          fc.boolean(),
          fc.nat(),
          valueChange,
          async (i, pick, change, twice, pick2, change2) => {
            const original = records[i]!;
            let doc = JSON.parse(original.value!.toString('utf8')) as Json;
            let paths = pathsOf(doc);
            doc = edit(doc, paths[pick % paths.length]!, change);
            if (twice) {
              paths = pathsOf(doc);
              doc = edit(doc, paths[pick2 % paths.length]!, change2);
            }
            const text = JSON.stringify(doc) ?? 'null';
            await decodeWithAll({ ...original, value: Buffer.from(text) });
            // The key too: Debezium keys carry the primary key the username is built from.
            if (original.key !== null) {
              const key = JSON.parse(original.key.toString('utf8')) as Json;
              const keyPaths = pathsOf(key);
              await decodeWithAll({
                ...original,
                key: Buffer.from(JSON.stringify(edit(key, keyPaths[pick % keyPaths.length]!, change)) ?? 'null'),
              });
            }
          },
        ),
        { numRuns: 400 },
      );
    },
  );

  test('a schema/payload swap between two captured events', async () => {
    const records = captured.json.filter((r) => r.value !== null);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: records.length - 1 }),
        fc.integer({ min: 0, max: records.length - 1 }),
        async (a, b) => {
          const schemaOf = JSON.parse(records[a]!.value!.toString('utf8')) as { schema: Json };
          const payloadOf = JSON.parse(records[b]!.value!.toString('utf8')) as { payload: Json };
          await decodeWithAll({
            ...records[b]!,
            value: Buffer.from(JSON.stringify({ schema: schemaOf.schema, payload: payloadOf.payload })),
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('structure-aware mutations of captured Avro events', () => {
  test('a record read with another (or an unknown) schema id', async () => {
    const records = captured.avro.filter((r) => r.value !== null && r.value.length > 5);
    const otherId = fc.oneof(fc.constantFrom(...schemaIds), fc.integer({ min: 0, max: 2 ** 31 - 1 }));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: records.length - 1 }), otherId, fc.boolean(), async (i, id, inKey) => {
        const original = records[i]!;
        const target = inKey && original.key !== null && original.key.length > 5 ? 'key' : 'value';
        const bytes = Buffer.from(original[target]!);
        bytes.writeUInt32BE(id >>> 0, 1);
        await decodeWithAll({ ...original, [target]: bytes });
      }),
      { numRuns: 300 },
    );
  });

  test('the Avro body of one record behind the header of another', async () => {
    const records = captured.avro.filter((r) => r.value !== null && r.value.length > 5);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: records.length - 1 }),
        fc.integer({ min: 0, max: records.length - 1 }),
        async (a, b) => {
          const value = Buffer.concat([records[a]!.value!.subarray(0, 5), records[b]!.value!.subarray(5)]);
          await decodeWithAll({ ...records[a]!, value });
        },
      ),
      { numRuns: 200 },
    );
  });
});

// Known gap (src/pipeline/decode, outside this change): V8's JSON.parse quotes ~10 characters
// either side of an unexpected token, and the decoder passes that message on, so a corrupt
// record can put a fragment of an e-mail or phone into the DecodeError message -> the
// "record sent to DLQ" log line and the DLQ's error-message header. Fix: drop V8's snippet
// (`, "…" is not valid JSON`) and keep the position. When fixed, make this a plain test.
describe('decode errors quote no record content (known gap, see the comment)', () => {
  test('a corrupt byte next to an e-mail does not put the e-mail into the error message', async () => {
    const original = captured.json.find(
      (r) => r.value !== null && r.value.toString().includes('"email":"Dave.OConnor@Example.com"'),
    )!;
    const value = Buffer.from(original.value!.toString().replace('"email":"Dave', '"email":\u0013"Dave'));
    const result = await decoders.json.decode({ ...original, value });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).not.toMatch(/Dave|OConnor/);
  });
});
