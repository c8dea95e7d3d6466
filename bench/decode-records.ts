// Hand-built Debezium records for the legacy `users` table, written exactly as the documented
// formats lay them out (Debezium Postgres connector 2.x/3.x, Connect JsonConverter with and
// without schemas, Connect-style Avro in the Confluent wire format, ExtractNewRecordState).
// Shared by the decode unit tests and the decode benchmark; recorded fixtures from the running
// stack complement them in test/fixtures/debezium/.
import type { RawRecord } from '../src/core/types.js';
import { buildAvroType } from '../src/pipeline/decode/avro/connect-avro.js';
import { writeWireHeader } from '../src/pipeline/decode/avro/wire-format.js';
import { DEFAULT_PLACEHOLDER } from '../src/pipeline/decode/unavailable.js';

export const TOPIC = 'legacy.public.users';

export interface ConnectField {
  field?: string;
  type: string;
  optional?: boolean;
  name?: string;
  version?: number;
  parameters?: Record<string, string>;
  fields?: ConnectField[];
}

const f = (field: string, type: string, extra: Partial<ConnectField> = {}): ConnectField => ({
  field,
  type,
  optional: true,
  ...extra,
});

export const USER_COLUMNS: ConnectField[] = [
  f('id', 'int64', { optional: false }),
  f('email', 'string'),
  f('given_name', 'string'),
  f('family_name', 'string'),
  f('phone', 'string'),
  f('status', 'string'),
  f('bio', 'string'),
  f('balance', 'bytes', {
    name: 'org.apache.kafka.connect.data.Decimal',
    version: 1,
    parameters: { scale: '2', 'connect.decimal.precision': '12' },
  }),
  f('score', 'struct', {
    name: 'io.debezium.data.VariableScaleDecimal',
    version: 1,
    fields: [f('scale', 'int32', { optional: false }), f('value', 'bytes', { optional: false })],
  }),
  f('birth_date', 'int32', { name: 'io.debezium.time.Date', version: 1 }),
  f('created_at', 'int64', { name: 'io.debezium.time.MicroTimestamp', version: 1 }),
  f('updated_at', 'string', { name: 'io.debezium.time.ZonedTimestamp', version: 1 }),
  f('login_count', 'int64'),
  f('avatar', 'bytes'),
];

const SOURCE_FIELDS: ConnectField[] = [
  f('version', 'string', { optional: false }),
  f('connector', 'string', { optional: false }),
  f('name', 'string', { optional: false }),
  f('ts_ms', 'int64', { optional: false }),
  f('snapshot', 'string', {
    name: 'io.debezium.data.Enum',
    version: 1,
    parameters: { allowed: 'true,first,first_in_data_collection,last_in_data_collection,last,false,incremental' },
  }),
  f('db', 'string', { optional: false }),
  f('sequence', 'string'),
  f('ts_us', 'int64'),
  f('ts_ns', 'int64'),
  f('schema', 'string', { optional: false }),
  f('table', 'string', { optional: false }),
  f('txId', 'int64'),
  f('lsn', 'int64'),
  f('xmin', 'int64'),
];

const valueStruct = (): ConnectField => ({
  type: 'struct',
  optional: true,
  name: `${TOPIC}.Value`,
  fields: USER_COLUMNS,
});

export const ENVELOPE_SCHEMA: ConnectField = {
  type: 'struct',
  optional: false,
  name: `${TOPIC}.Envelope`,
  version: 2,
  fields: [
    { ...valueStruct(), field: 'before' },
    { ...valueStruct(), field: 'after' },
    {
      type: 'struct',
      optional: false,
      name: 'io.debezium.connector.postgresql.Source',
      field: 'source',
      fields: SOURCE_FIELDS,
    },
    {
      type: 'struct',
      optional: true,
      name: 'event.block',
      version: 1,
      field: 'transaction',
      fields: [
        f('id', 'string', { optional: false }),
        f('total_order', 'int64', { optional: false }),
        f('data_collection_order', 'int64', { optional: false }),
      ],
    },
    f('op', 'string', { optional: false }),
    f('ts_ms', 'int64'),
    f('ts_us', 'int64'),
    f('ts_ns', 'int64'),
  ],
};

export const KEY_SCHEMA: ConnectField = {
  type: 'struct',
  optional: false,
  name: `${TOPIC}.Key`,
  fields: [f('id', 'int64', { optional: false })],
};

export const UNWRAPPED_SCHEMA: ConnectField = {
  type: 'struct',
  optional: false,
  name: `${TOPIC}.Value`,
  fields: [
    ...USER_COLUMNS,
    f('__op', 'string'),
    f('__table', 'string'),
    f('__lsn', 'int64'),
    f('__source_ts_ms', 'int64'),
    f('__deleted', 'string'),
  ],
};

/** Wire-form column values (as the connector emits them, before logical conversion). */
export type WireRow = Record<string, unknown>;

export const base64 = (bytes: number[]): string => Buffer.from(bytes).toString('base64');

export const userRow = (id: number | bigint, overrides: WireRow = {}): WireRow => ({
  id,
  email: `user${id}@example.com`,
  given_name: 'Ada',
  family_name: 'Lovelace',
  phone: '+15555550100',
  status: 'active',
  bio: 'Analyst',
  balance: base64([0x30, 0x39]), // 12345 unscaled, scale 2 -> "123.45"
  score: { scale: 3, value: base64([0xfb, 0x2e]) }, // -1234 unscaled, scale 3 -> "-1.234"
  birth_date: 19000, // 2022-01-08
  created_at: 1_700_000_000_123_456, // 2023-11-14T22:13:20.123456Z
  updated_at: '2024-02-29T12:00:00.5+01:00',
  login_count: 42,
  avatar: null,
  ...overrides,
});

export interface SourceOptions {
  lsn: number | bigint;
  lastCommitLsn?: number | bigint | null;
  tsMs?: number;
  snapshot?: string;
  txId?: number;
}

export const pgSource = (s: SourceOptions): WireRow => ({
  version: '3.0.0.Final',
  connector: 'postgresql',
  name: 'legacy',
  ts_ms: s.tsMs ?? 1_700_000_000_000,
  snapshot: s.snapshot ?? 'false',
  db: 'legacy',
  sequence:
    s.lastCommitLsn === undefined ? null : `[${s.lastCommitLsn === null ? 'null' : `"${s.lastCommitLsn}"`},"${s.lsn}"]`,
  ts_us: BigInt(s.tsMs ?? 1_700_000_000_000) * 1000n,
  ts_ns: BigInt(s.tsMs ?? 1_700_000_000_000) * 1_000_000n,
  schema: 'public',
  table: 'users',
  txId: s.txId ?? 780,
  lsn: s.lsn,
  xmin: null,
});

export const envelope = (op: string, before: WireRow | null, after: WireRow | null, source: WireRow): WireRow => ({
  before,
  after,
  source,
  transaction: null,
  op,
  ts_ms: 1_700_000_000_500,
  ts_us: 1_700_000_000_500_000n,
  ts_ns: 1_700_000_000_500_000_000n,
});

/** JSON.stringify that writes bigint as a bare JSON integer, as Jackson writes Java longs. */
export const stringifyJson = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `@@big:${v}@@` : v)).replace(
    /"@@big:(-?\d+)@@"/g,
    '$1',
  );

export const jsonBytes = (payload: unknown, schema?: ConnectField): Buffer =>
  Buffer.from(schema === undefined ? stringifyJson(payload) : stringifyJson({ schema, payload }), 'utf8');

let nextOffset = 0;

export const rawRecord = (key: Buffer | null, value: Buffer | null, topic = TOPIC, partition = 0): RawRecord => ({
  topic,
  partition,
  offset: String(nextOffset++),
  key,
  value,
  headers: {},
});

// ---- Connect schema -> Connect-style Avro, as Confluent's/Apicurio's AvroData writes it. ----

const AVRO_PRIMITIVE: Record<string, string> = {
  int8: 'int',
  int16: 'int',
  int32: 'int',
  int64: 'long',
  float32: 'float',
  float64: 'double',
  boolean: 'boolean',
  string: 'string',
  bytes: 'bytes',
};

export const connectToAvro = (schema: ConnectField, defined = new Set<string>()): unknown => {
  let type: unknown;
  if (schema.type === 'struct') {
    const fullName = schema.name ?? 'ConnectDefault';
    if (defined.has(fullName)) type = fullName;
    else {
      defined.add(fullName);
      const dot = fullName.lastIndexOf('.');
      type = {
        type: 'record',
        name: fullName.slice(dot + 1),
        ...(dot > 0 ? { namespace: fullName.slice(0, dot) } : {}),
        fields: (schema.fields ?? []).map((field) => ({
          name: field.field,
          type: connectToAvro(field, defined),
          ...(field.optional ? { default: null } : {}),
        })),
        ...(schema.name ? { 'connect.name': schema.name } : {}),
        ...(schema.version ? { 'connect.version': schema.version } : {}),
      };
    }
  } else {
    const primitive = AVRO_PRIMITIVE[schema.type];
    if (primitive === undefined) throw new Error(`no Avro mapping for ${schema.type}`);
    const decimal = schema.name === 'org.apache.kafka.connect.data.Decimal';
    type = schema.name
      ? {
          type: primitive,
          ...(decimal
            ? {
                scale: Number(schema.parameters?.['scale']),
                precision: Number(schema.parameters?.['connect.decimal.precision'] ?? 64),
                logicalType: 'decimal',
              }
            : {}),
          ...(schema.version ? { 'connect.version': schema.version } : {}),
          ...(schema.parameters ? { 'connect.parameters': schema.parameters } : {}),
          'connect.name': schema.name,
        }
      : primitive;
  }
  return schema.optional && schema.field !== undefined ? ['null', type] : type;
};

/** Wire-form JSON values -> the values an Avro writer takes (bytes as Buffer). */
const toAvroValue = (schema: ConnectField, value: unknown): unknown => {
  if (value === null || value === undefined) return null;
  if (schema.type === 'bytes') return typeof value === 'string' ? Buffer.from(value, 'base64') : value;
  if (schema.type === 'struct') {
    const out: Record<string, unknown> = {};
    for (const field of schema.fields ?? [])
      out[field.field ?? ''] = toAvroValue(field, (value as WireRow)[field.field ?? '']);
    return out;
  }
  return value;
};

export const ENVELOPE_SCHEMA_ID = 7;
export const KEY_SCHEMA_ID = 8;
export const UNWRAPPED_SCHEMA_ID = 9;

export const AVRO_SCHEMAS: Record<string, string> = {
  [ENVELOPE_SCHEMA_ID]: JSON.stringify(connectToAvro(ENVELOPE_SCHEMA)),
  [KEY_SCHEMA_ID]: JSON.stringify(connectToAvro(KEY_SCHEMA)),
  [UNWRAPPED_SCHEMA_ID]: JSON.stringify(connectToAvro(UNWRAPPED_SCHEMA)),
};

const writers = new Map<number, ReturnType<typeof buildAvroType>>();

export const avroBytes = (schemaId: number, schema: ConnectField, payload: unknown): Buffer => {
  let type = writers.get(schemaId);
  if (type === undefined) {
    type = buildAvroType(AVRO_SCHEMAS[schemaId] ?? '', DEFAULT_PLACEHOLDER);
    writers.set(schemaId, type);
  }
  return writeWireHeader(schemaId, type.toBuffer(toAvroValue(schema, payload)));
};

// ---- A realistic stream: snapshot, inserts, updates (some with TOASTed bio), deletes. ----

export type RecordForm = 'json' | 'json-noschema' | 'avro' | 'unwrap';

export interface StreamEvent {
  key: WireRow;
  value: WireRow | null; // envelope, or null for a tombstone
}

/** n change events over ~n/4 users, each with a growing LSN; deletes are followed by tombstones. */
export const userStream = (n: number): StreamEvent[] => {
  const events: StreamEvent[] = [];
  let lsn = 24_000_000;
  for (let i = 0; events.length < n; i++) {
    const id = Math.floor(i / 4) + 1;
    const step = i % 4;
    lsn += 56;
    const key = { id };
    if (step === 0) events.push({ key, value: envelope('r', null, userRow(id), pgSource({ lsn, snapshot: 'true' })) });
    else if (step === 1)
      events.push({ key, value: envelope('c', null, userRow(id), pgSource({ lsn, lastCommitLsn: lsn - 8 })) });
    else if (step === 2)
      events.push({
        key,
        value: envelope(
          'u',
          userRow(id),
          userRow(id, { status: 'disabled', bio: DEFAULT_PLACEHOLDER.text }),
          pgSource({ lsn, lastCommitLsn: lsn - 8 }),
        ),
      });
    else {
      events.push({ key, value: envelope('d', userRow(id), null, pgSource({ lsn, lastCommitLsn: lsn - 8 })) });
      if (events.length < n) events.push({ key, value: null });
    }
  }
  return events.slice(0, n);
};

/** The ExtractNewRecordState form of an envelope (add.fields=op,table,lsn,source.ts_ms; delete rewrite). */
export const unwrapEnvelope = (value: WireRow): WireRow => {
  const source = value['source'] as WireRow;
  const op = value['op'] as string;
  const row = (op === 'd' ? value['before'] : value['after']) as WireRow;
  return {
    ...row,
    __op: op,
    __table: source['table'],
    __lsn: source['lsn'],
    __source_ts_ms: source['ts_ms'],
    __deleted: op === 'd' ? 'true' : 'false',
  };
};

export const encodeEvent = (event: StreamEvent, form: RecordForm): RawRecord => {
  const value = event.value;
  switch (form) {
    case 'json':
      return rawRecord(jsonBytes(event.key, KEY_SCHEMA), value === null ? null : jsonBytes(value, ENVELOPE_SCHEMA));
    case 'json-noschema':
      return rawRecord(jsonBytes(event.key), value === null ? null : jsonBytes(value));
    case 'avro':
      return rawRecord(
        avroBytes(KEY_SCHEMA_ID, KEY_SCHEMA, event.key),
        value === null ? null : avroBytes(ENVELOPE_SCHEMA_ID, ENVELOPE_SCHEMA, value),
      );
    case 'unwrap':
      return rawRecord(jsonBytes(event.key), value === null ? null : jsonBytes(unwrapEnvelope(value)));
  }
};

export const encodeStream = (n: number, form: RecordForm): RawRecord[] =>
  userStream(n).map((e) => encodeEvent(e, form));
