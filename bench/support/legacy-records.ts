// Kafka records for the legacy `users` / `user_roles` tables (scripts/stack/sql/schema.sql),
// written the way Debezium 3.6 (PostgreSQL, pgoutput) writes them through Kafka Connect. The
// shapes are not hand-made: the Connect schemas (JSON converter, with and without schemas, and
// ExtractNewRecordState) and the Avro schemas + ids come from the records captured from the
// running stack in test/fixtures/debezium/ (see its README); only the row values and source
// positions are generated. Shared by the benchmarks (bench/) and the stream property test.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RawRecord } from '../../src/core/types.js';
import { buildAvroType } from '../../src/pipeline/decode/avro/connect-avro.js';
import { writeWireHeader } from '../../src/pipeline/decode/avro/wire-format.js';
import { DEFAULT_PLACEHOLDER, UNAVAILABLE_VALUE } from '../../src/pipeline/decode/unavailable.js';
import { stringifyJson } from '../decode-records.js';

/** The four converter set-ups scripts/stack/connector.sh registers. */
export type LegacyForm = 'json' | 'json-noschema' | 'avro' | 'unwrap';
export const LEGACY_FORMS: readonly LegacyForm[] = ['json', 'json-noschema', 'avro', 'unwrap'];

export const USERS_TOPIC = 'legacy.public.users';
export const ROLES_TOPIC = 'legacy.public.user_roles';

/** One `users` row as the application sees it (before Connect's wire encoding). */
export interface UserRow {
  id: number;
  username: string;
  email: string | null;
  email_verified: boolean;
  phone: string | null;
  phone_verified: boolean;
  given_name: string | null;
  family_name: string | null;
  locale: string | null;
  status: string;
  created_at: string; // io.debezium.time.ZonedTimestamp
  updated_at: string;
  loyalty_tier: string | null;
  marketing_opt_in: boolean;
  legacy_customer_no: bigint | null; // numeric(12,0): Connect Decimal, scale 0
  birthdate: number | null; // io.debezium.time.Date: days since the epoch
  bio: string | null;
  last_login_at: string | null;
  password_hash: string | null;
}

/** Where a change sits in the WAL, as Debezium reports it in `source`. */
export interface Position {
  /** `sequence[0]`: null in the initial snapshot and for the first transaction after it. */
  lastCommitLsn: number | null;
  lsn: number | null;
  /** `sequence[1]` when it differs from `lsn` (incremental snapshots: lsn null, sequence [w, w]). */
  sequenceLsn?: number;
  txId: number | null;
  tsMs: number;
  /** source.snapshot: 'true' | 'first' | 'last' | 'incremental' | 'false' ... */
  snapshot: string;
}

export type SourceChange =
  | {
      table: 'users';
      op: 'r' | 'c' | 'u';
      row: UserRow /** bio is TOASTed and unchanged: Debezium sends the placeholder */;
      toastBio: boolean;
      pos: Position;
    }
  | { table: 'users'; op: 'd'; id: number; pos: Position }
  | { table: 'user_roles'; op: 'r' | 'c' | 'd'; userId: number; role: string; grantedAt: string; pos: Position };

// ---------------------------------------------------------------- captured shapes

interface CapturedRecord {
  topic: string;
  partition: number;
  offset: string | number;
  key_b64: string | null;
  value_b64: string | null;
  headers: { key: string; value_b64: string | null }[];
}

const fixturesDir = (): string => join(process.cwd(), 'test/fixtures/debezium');
const readCaptured = (name: string): CapturedRecord[] =>
  JSON.parse(readFileSync(join(fixturesDir(), `${name}.json`), 'utf8')) as CapturedRecord[];
const json = (b64: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as Record<string, unknown>;

/** The first record of `table` whose value schema predates the fixture scenario's ALTER TABLE. */
const capturedOf = (records: CapturedRecord[], table: string): CapturedRecord => {
  const found = records.find(
    (r) =>
      r.topic.endsWith(`.public.${table}`) &&
      r.key_b64 !== null &&
      r.value_b64 !== null &&
      !Buffer.from(r.value_b64, 'base64').includes('preferred_username'),
  );
  if (!found) throw new Error(`no captured ${table} record in test/fixtures/debezium`);
  return found;
};

interface Shapes {
  jsonKey: Record<string, unknown>; // table -> Connect key schema
  jsonEnvelope: Record<string, unknown>;
  unwrapKey: Record<string, unknown>;
  unwrapValue: Record<string, unknown>;
  avroIds: Record<string, { key: number; value: number }>;
  avroSchemas: Record<string, string>;
  headers: Record<string, Buffer>;
}

let shapes: Shapes | undefined;

const renamePrefix = (schema: unknown, from: string): unknown =>
  JSON.parse(JSON.stringify(schema).replaceAll(`"${from}.`, '"legacy.'));

/** Schemas (and Debezium's context headers) as the captured records carry them. */
export const capturedShapes = (): Shapes => {
  if (shapes) return shapes;
  const jsonRecords = readCaptured('json');
  const unwrapRecords = readCaptured('unwrap-json');
  const avroRecords = readCaptured('avro');
  const s: Shapes = {
    jsonKey: {},
    jsonEnvelope: {},
    unwrapKey: {},
    unwrapValue: {},
    avroIds: {},
    avroSchemas: JSON.parse(readFileSync(join(fixturesDir(), 'avro-schemas.json'), 'utf8')) as Record<string, string>,
    headers: {},
  };
  for (const table of ['users', 'user_roles']) {
    const j = capturedOf(jsonRecords, table);
    s.jsonKey[table] = renamePrefix(json(j.key_b64 as string)['schema'], 'fx_json');
    s.jsonEnvelope[table] = renamePrefix(json(j.value_b64 as string)['schema'], 'fx_json');
    const u = capturedOf(unwrapRecords, table);
    s.unwrapKey[table] = renamePrefix(json(u.key_b64 as string)['schema'], 'fx_unwrap_json');
    s.unwrapValue[table] = renamePrefix(json(u.value_b64 as string)['schema'], 'fx_unwrap_json');
    const a = capturedOf(avroRecords, table);
    s.avroIds[table] = {
      key: Buffer.from(a.key_b64 as string, 'base64').readUInt32BE(1),
      value: Buffer.from(a.value_b64 as string, 'base64').readUInt32BE(1),
    };
    for (const h of j.headers) {
      if (h.value_b64 !== null)
        s.headers[h.key] = Buffer.from(
          h.key.endsWith('connectorLogicalName') ? Buffer.from('legacy') : Buffer.from(h.value_b64, 'base64'),
        );
    }
  }
  shapes = s;
  return s;
};

/** The recorded schema registry content ({id: schema}) the Avro records refer to. */
export const legacyAvroSchemas = (): Record<string, string> => capturedShapes().avroSchemas;

// ---------------------------------------------------------------- wire values

/** Connect Decimal: big-endian two's complement of the unscaled value. */
export const decimalBytes = (value: bigint): Buffer => {
  let hex = (value < 0n ? -value : value).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (value >= 0n) return bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
  // negative: two's complement
  const width = bytes.length + (bytes[0]! & 0x80 ? 1 : 0);
  const twos = (1n << BigInt(width * 8)) + value;
  bytes = Buffer.from(twos.toString(16).padStart(width * 2, '0'), 'hex');
  return bytes;
};

type WireRow = Record<string, unknown>;

/** Column values as the JSON converter writes them (bytes as base64); Avro takes Buffers. */
const wireUser = (row: UserRow, toastBio: boolean, avro: boolean): WireRow => {
  const decimal = row.legacy_customer_no === null ? null : decimalBytes(row.legacy_customer_no);
  return {
    ...row,
    legacy_customer_no: decimal === null ? null : avro ? decimal : decimal.toString('base64'),
    bio: toastBio ? UNAVAILABLE_VALUE : row.bio,
  };
};

/**
 * A delete's before-image with REPLICA IDENTITY DEFAULT: the key's real value, Connect defaults
 * for the NOT NULL columns, null elsewhere (see the fixture README's traps).
 */
const deleteBefore = (id: number): WireRow => ({
  id,
  username: '',
  email: null,
  email_verified: false,
  phone: null,
  phone_verified: false,
  given_name: null,
  family_name: null,
  locale: null,
  status: 'active',
  created_at: '1970-01-01T00:00:00.000000Z',
  updated_at: '1970-01-01T00:00:00.000000Z',
  loyalty_tier: null,
  marketing_opt_in: false,
  legacy_customer_no: null,
  birthdate: null,
  bio: null,
  last_login_at: null,
  password_hash: null,
});

const roleRow = (userId: number, role: string, grantedAt: string): WireRow => ({
  user_id: userId,
  role,
  granted_at: grantedAt,
});
const roleBefore = (userId: number, role: string): WireRow => ({
  user_id: userId,
  role,
  granted_at: '1970-01-01T00:00:00.000000Z',
});

const sequenceOf = (pos: Position): string | null => {
  const lsn = pos.sequenceLsn ?? pos.lsn;
  if (lsn === null && pos.lastCommitLsn === null) return null;
  return `[${pos.lastCommitLsn === null ? 'null' : `"${pos.lastCommitLsn}"`},${lsn === null ? 'null' : `"${lsn}"`}]`;
};

const source = (table: string, pos: Position): WireRow => {
  const tsUs = BigInt(pos.tsMs) * 1000n + 123n;
  return {
    version: '3.6.1.Final',
    connector: 'postgresql',
    name: 'legacy',
    ts_ms: pos.tsMs,
    snapshot: pos.snapshot,
    db: 'legacy',
    sequence: sequenceOf(pos),
    ts_us: tsUs,
    ts_ns: tsUs * 1000n + 456n,
    schema: 'public',
    table,
    txId: pos.txId,
    lsn: pos.lsn,
    xmin: null,
    origin: null,
    origin_lsn: null,
  };
};

const envelope = (op: string, before: WireRow | null, after: WireRow | null, table: string, pos: Position): WireRow => {
  const tsUs = BigInt(pos.tsMs + 40) * 1000n + 789n;
  return {
    before,
    after,
    source: source(table, pos),
    transaction: null,
    op,
    ts_ms: pos.tsMs + 40,
    ts_us: tsUs,
    ts_ns: tsUs * 1000n + 12n,
  };
};

/** ExtractNewRecordState, delete.tombstone.handling.mode=rewrite, add.fields=op,lsn,source.ts_ms. */
const unwrapped = (row: WireRow, op: string, pos: Position): WireRow => ({
  ...row,
  __deleted: op === 'd' ? 'true' : 'false',
  __op: op,
  __lsn: pos.lsn,
  __source_ts_ms: pos.tsMs,
});

// ---------------------------------------------------------------- Avro writers

const avroWriters = new Map<number, ReturnType<typeof buildAvroType>>();
const avroWriter = (id: number): ReturnType<typeof buildAvroType> => {
  let type = avroWriters.get(id);
  if (!type) {
    const schema = legacyAvroSchemas()[String(id)];
    if (schema === undefined) throw new Error(`schema id ${id} not in test/fixtures/debezium/avro-schemas.json`);
    type = buildAvroType(schema, DEFAULT_PLACEHOLDER);
    avroWriters.set(id, type);
  }
  return type;
};
const avroBytes = (id: number, value: unknown): Buffer => writeWireHeader(id, avroWriter(id).toBuffer(value));

// ---------------------------------------------------------------- records

/** Key + value (null = tombstone) of the Kafka records one change becomes, in topic order. */
export interface KeyValue {
  topic: string;
  partitionKey: number; // the user id: records of one user share a partition
  key: Buffer;
  value: Buffer | null;
}

const encodePart = (form: LegacyForm, table: string, part: 'key' | 'value', payload: WireRow | null): Buffer | null => {
  if (payload === null) return null;
  const s = capturedShapes();
  switch (form) {
    case 'json':
      return Buffer.from(
        stringifyJson({ schema: (part === 'key' ? s.jsonKey : s.jsonEnvelope)[table], payload }),
        'utf8',
      );
    case 'json-noschema':
      return Buffer.from(stringifyJson(payload), 'utf8');
    case 'unwrap':
      return Buffer.from(
        stringifyJson({ schema: (part === 'key' ? s.unwrapKey : s.unwrapValue)[table], payload }),
        'utf8',
      );
    case 'avro': {
      const ids = s.avroIds[table]!;
      return avroBytes(part === 'key' ? ids.key : ids.value, payload);
    }
  }
};

/**
 * The records Debezium writes for one change: the event, and for a delete also the tombstone
 * (except with ExtractNewRecordState's rewrite mode, which writes one `__deleted=true` row).
 */
export const changeRecords = (change: SourceChange, form: LegacyForm): KeyValue[] => {
  const avro = form === 'avro';
  const table = change.table;
  const topic = table === 'users' ? USERS_TOPIC : ROLES_TOPIC;
  const keyRow: WireRow =
    change.table === 'users'
      ? { id: change.op === 'd' ? change.id : change.row.id }
      : { user_id: change.userId, role: change.role };
  const partitionKey = change.table === 'users' ? (keyRow['id'] as number) : change.userId;
  const key = encodePart(form, table, 'key', keyRow) as Buffer;
  let before: WireRow | null = null;
  let after: WireRow | null = null;
  if (change.table === 'users') {
    if (change.op === 'd') before = deleteBefore(change.id);
    else after = wireUser(change.row, change.toastBio, avro);
  } else if (change.op === 'd') before = roleBefore(change.userId, change.role);
  else after = roleRow(change.userId, change.role, change.grantedAt);
  if (form === 'unwrap') {
    return [
      {
        topic,
        partitionKey,
        key,
        value: encodePart(form, table, 'value', unwrapped((after ?? before) as WireRow, change.op, change.pos)),
      },
    ];
  }
  const value = encodePart(form, table, 'value', envelope(change.op, before, after, table, change.pos));
  const out: KeyValue[] = [{ topic, partitionKey, key, value }];
  if (change.op === 'd') out.push({ topic, partitionKey, key, value: null });
  return out;
};

/**
 * A Kafka topic as a log: records land in `partitionKey % partitions`, offsets per partition.
 * `trim` drops records below an offset (as retention would), so a long stream can be produced
 * and consumed in chunks without the log holding it all.
 */
export class TopicLog {
  readonly partitions: RawRecord[][];
  /** Offset of partitions[p][0]. */
  readonly base: number[];

  constructor(
    readonly topic: string,
    partitions: number,
    private readonly headers: Record<string, Buffer> = capturedShapes().headers,
  ) {
    this.partitions = Array.from({ length: partitions }, () => []);
    this.base = this.partitions.map(() => 0);
  }

  append(kv: KeyValue): RawRecord {
    const partition = kv.partitionKey % this.partitions.length;
    const log = this.partitions[partition]!;
    const record: RawRecord = {
      topic: this.topic,
      partition,
      offset: String(this.base[partition]! + log.length),
      key: kv.key,
      value: kv.value,
      headers: { ...this.headers },
    };
    log.push(record);
    return record;
  }

  /** Offset after the last record of `partition`. */
  end(partition: number): number {
    return this.base[partition]! + this.partitions[partition]!.length;
  }

  /** Up to `max` records of `partition` from `offset`. */
  read(partition: number, offset: number, max: number): RawRecord[] {
    const from = Math.max(0, offset - this.base[partition]!);
    return this.partitions[partition]!.slice(from, from + max);
  }

  /** Forget records below `offset` in `partition`. */
  trim(partition: number, offset: number): void {
    const drop = Math.min(this.partitions[partition]!.length, Math.max(0, offset - this.base[partition]!));
    this.partitions[partition]!.splice(0, drop);
    this.base[partition]! += drop;
  }

  get size(): number {
    return this.partitions.reduce((n, p) => n + p.length, 0);
  }
}
