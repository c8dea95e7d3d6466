// The decode stage: RawRecord -> DecodeOutcome, as a Result. Nothing throws out of decode():
// undecodable input becomes a DecodeError carrying topic/partition/offset, a registry outage a
// retriable SchemaRegistryUnavailableError. JSON, and Avro with a cached schema, decode
// synchronously; only a schema id seen for the first time waits for the registry.
import type avro from 'avsc';
import type { SchemaRegistry } from '../../adapters/registry/schema-registry.js';
import { err, ok, type DecodeOutcome, type RawRecord, type RecordOrigin, type Result } from '../../core/types.js';
import { DecodeError, SyncError } from '../../errors.js';
import { AvroTypes, forRecord } from './avro/avro-types.js';
import { HEADER_LENGTH, readWireHeader } from './avro/wire-format.js';
import { fromEnvelope, fromTombstone, fromUnwrapped, keyRow } from './change-event.js';
import { markKeyChange } from './key-change-header.js';
import type { EpochAt } from './epochs.js';
import { ImpreciseNumber, decodeError, type DecodeContext } from './context.js';
import { ConnectJsonParser } from './json/connect-json.js';
import { classifyValue } from './record-kind.js';
import { placeholderForms, type PlaceholderForms } from './unavailable.js';

export type DecoderFormat = 'json' | 'avro' | 'auto';

export interface DecoderOptions {
  /** 'auto' tells the formats apart per key/value: Confluent magic byte 0x00 = Avro, else JSON. */
  format: DecoderFormat;
  /** Needed for Avro. */
  registry?: SchemaRegistry;
  /** Overrides the table name (default: source.table / __table, else the topic's last segment). */
  tableOf?: (topic: string) => string | undefined;
  /** Debezium `topic.heartbeat.prefix`; records on topics starting with it are skipped unread. */
  heartbeatTopicPrefix?: string;
  /** Debezium `unavailable.value.placeholder`, if changed; decoded rows always use UNAVAILABLE_VALUE. */
  unavailableValuePlaceholder?: string;
  /** The source epoch of an event by its commit time (mapping versionEpochs); unset: epoch 0. */
  epochAt?: EpochAt;
}

export interface Decoder {
  decode(raw: RawRecord): Promise<Result<DecodeOutcome, SyncError>>;
}

type Part = 'key' | 'value';

const originOf = (raw: RawRecord): RecordOrigin =>
  raw.timestamp === undefined
    ? { topic: raw.topic, partition: raw.partition, offset: raw.offset }
    : { topic: raw.topic, partition: raw.partition, offset: raw.offset, timestamp: raw.timestamp };

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * V8's JSON errors quote the input around the bad byte ("...\"email\":\"Dave..." is not valid
 * JSON): that fragment can be personal data and would reach logs and DLQ headers. Keep the
 * position, drop the quoted text.
 */
const withoutQuotedInput = (message: string): string =>
  message.replace(/"(?:[^"\\]|\\.)*"|\.\.\.[^\s]*/g, '…').slice(0, 200);

class RecordDecoder implements Decoder {
  private readonly json: ConnectJsonParser;
  private readonly avro: AvroTypes;
  private readonly placeholder: PlaceholderForms;
  private readonly heartbeatPrefix: string;

  constructor(private readonly options: DecoderOptions) {
    this.placeholder = placeholderForms(options.unavailableValuePlaceholder);
    this.json = new ConnectJsonParser(this.placeholder);
    this.avro = new AvroTypes(options.registry, this.placeholder);
    this.heartbeatPrefix = options.heartbeatTopicPrefix ?? '__debezium-heartbeat';
  }

  decode(raw: RawRecord): Promise<Result<DecodeOutcome, SyncError>> {
    const origin = originOf(raw);
    try {
      if (raw.topic.startsWith(this.heartbeatPrefix))
        return Promise.resolve(ok({ kind: 'skip', reason: 'heartbeat', origin }));
      const missing = this.missingSchemaIds(raw);
      if (missing === undefined) return Promise.resolve(this.decodeNow(raw, origin));
      return this.decodeAfterLoading(raw, origin, missing);
    } catch (error) {
      return Promise.resolve(err(this.unexpected(origin, error)));
    }
  }

  private async decodeAfterLoading(
    raw: RawRecord,
    origin: RecordOrigin,
    ids: number[],
  ): Promise<Result<DecodeOutcome, SyncError>> {
    try {
      await Promise.all(ids.map((id) => this.avro.load(id)));
    } catch (error) {
      return err(forRecord(error, origin));
    }
    return this.decodeNow(raw, origin);
  }

  /** Schema ids of Avro parts whose Type is not cached yet; undefined when none. */
  private missingSchemaIds(raw: RawRecord): number[] | undefined {
    let missing: number[] | undefined;
    for (const bytes of [raw.value, raw.key]) {
      if (bytes === null || !this.isAvro(bytes) || bytes.length < HEADER_LENGTH) continue;
      const header = readWireHeader(bytes);
      if (header.ok && this.avro.cached(header.schemaId) === undefined) (missing ??= []).push(header.schemaId);
    }
    return missing;
  }

  private isAvro(bytes: Buffer): boolean {
    return this.options.format === 'avro' || (this.options.format === 'auto' && bytes[0] === 0x00);
  }

  private decodeNow(raw: RawRecord, origin: RecordOrigin): Result<DecodeOutcome, SyncError> {
    const fast: DecodeContext = {
      origin,
      placeholder: this.placeholder,
      precise: false,
      tableOf: this.options.tableOf,
      epochAt: this.options.epochAt,
    };
    try {
      return ok(markKeyChange(raw, this.decodeRecord(raw, fast)));
    } catch (error) {
      if (!(error instanceof ImpreciseNumber)) return err(this.toSyncError(fast, error));
    }
    // Some int64 was beyond 2^53: decode again with exact integers.
    const exact: DecodeContext = { ...fast, precise: true };
    try {
      return ok(markKeyChange(raw, this.decodeRecord(raw, exact)));
    } catch (error) {
      return err(this.toSyncError(exact, error));
    }
  }

  private decodeRecord(raw: RawRecord, ctx: DecodeContext): DecodeOutcome {
    if (raw.value === null) return fromTombstone(ctx, keyRow(ctx, this.decodePart(raw.key, 'key', ctx)));
    const value = this.decodePart(raw.value, 'value', ctx);
    // JsonConverter writes a null payload for a null value in some versions: a tombstone too.
    if (value === null) return fromTombstone(ctx, keyRow(ctx, this.decodePart(raw.key, 'key', ctx)));
    if (typeof value !== 'object' || Array.isArray(value) || Buffer.isBuffer(value)) {
      throw decodeError(
        ctx,
        `value is not a Debezium record: decoded to ${Array.isArray(value) ? 'an array' : typeof value}`,
      );
    }
    const fields = value as Record<string, unknown>;
    switch (classifyValue(fields)) {
      case 'envelope':
        return fromEnvelope(ctx, fields, keyRow(ctx, this.decodePart(raw.key, 'key', ctx)));
      case 'unwrapped':
        return fromUnwrapped(ctx, fields, keyRow(ctx, this.decodePart(raw.key, 'key', ctx)));
      case 'heartbeat':
        return { kind: 'skip', reason: 'heartbeat', origin: ctx.origin };
      case 'schema-change':
        return { kind: 'skip', reason: 'schema-change', origin: ctx.origin };
      case 'transaction-metadata':
        return { kind: 'skip', reason: 'transaction-metadata', origin: ctx.origin };
    }
  }

  private decodePart(bytes: Buffer | null, part: Part, ctx: DecodeContext): unknown {
    if (bytes === null) return null;
    if (bytes.length === 0) throw decodeError(ctx, `${part} is empty (0 bytes)`);
    if (this.isAvro(bytes)) return this.decodeAvro(bytes, part, ctx);
    if (bytes[0] === 0x00) {
      throw decodeError(
        ctx,
        `${part} starts with 0x00 (Confluent Avro wire format?) but the decoder is configured for JSON`,
      );
    }
    return this.decodeJson(bytes, part, ctx);
  }

  private decodeJson(bytes: Buffer, part: Part, ctx: DecodeContext): unknown {
    let parsed: ReturnType<ConnectJsonParser['parse']>;
    try {
      parsed = this.json.parse(bytes, ctx.precise);
    } catch (error) {
      throw decodeError(
        ctx,
        `${part} is not ${error instanceof SyntaxError ? 'valid JSON' : 'a usable Connect JSON record'}: ${withoutQuotedInput(messageOf(error))}`,
        error,
      );
    }
    if (parsed.convert === undefined || parsed.payload === null) return parsed.payload;
    try {
      return parsed.convert(parsed.payload);
    } catch (error) {
      if (error instanceof ImpreciseNumber) throw error;
      throw decodeError(ctx, `${part} payload does not match its embedded schema: ${messageOf(error)}`, error);
    }
  }

  private decodeAvro(bytes: Buffer, part: Part, ctx: DecodeContext): unknown {
    const header = readWireHeader(bytes);
    if (!header.ok) throw decodeError(ctx, `${part} is not Confluent Avro: ${header.problem}`);
    const type: avro.Type | undefined = this.avro.cached(header.schemaId);
    if (type === undefined) throw decodeError(ctx, `${part} schema id ${header.schemaId} was not loaded`); // missingSchemaIds loads it first
    let decoded: { value: unknown; offset: number };
    try {
      decoded = type.decode(bytes, HEADER_LENGTH);
    } catch (error) {
      throw decodeError(ctx, `${part} is not valid Avro for schema id ${header.schemaId}: ${messageOf(error)}`, error);
    }
    if (decoded.offset < 0)
      throw decodeError(
        ctx,
        `${part} is truncated: ${bytes.length} bytes end inside an Avro record of schema id ${header.schemaId}`,
      );
    if (decoded.offset !== bytes.length) {
      throw decodeError(
        ctx,
        `${part} has ${bytes.length - decoded.offset} trailing byte(s) after the Avro record of schema id ${header.schemaId}`,
      );
    }
    return decoded.value;
  }

  private toSyncError(ctx: DecodeContext, error: unknown): SyncError {
    if (error instanceof SyncError) return error;
    if (error instanceof ImpreciseNumber) return decodeError(ctx, 'an integer beyond 2^53 could not be read exactly');
    return this.unexpected(ctx.origin, error);
  }

  /** A bug in the decoder, not in the record: still a Result, still with the record's origin. */
  private unexpected(origin: RecordOrigin, error: unknown): SyncError {
    return new DecodeError(
      `record could not be decoded: ${messageOf(error)}`,
      { topic: origin.topic, partition: origin.partition, offset: origin.offset },
      error,
    );
  }
}

export const createDecoder = (options: DecoderOptions): Decoder => new RecordDecoder(options);
