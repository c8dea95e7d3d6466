// Debezium change records -> ChangeEvent, for both record forms: the full envelope and the flat
// row that the ExtractNewRecordState SMT ("unwrap") leaves. Format-independent: JSON and Avro
// both hand over plain objects whose logical types are already converted.
import type { ChangeEvent, DecodeOutcome, Op, Row } from '../../core/types.js';
import { decodeError, type DecodeContext } from './context.js';
import { finishRow } from './row-values.js';
import { hasPosition, versionOf } from './source-position.js';
import { NO_VERSION, withEpoch } from './version.js';
import { requireUnwrapSettings } from './unwrap-settings.js';

type Fields = Record<string, unknown>;

const OPS: ReadonlySet<string> = new Set(['c', 'u', 'd', 'r', 't']);

const isObject = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);

/** The last dot-separated segment of a topic: legacy.public.users -> users. */
export const tableFromTopic = (topic: string): string => topic.slice(topic.lastIndexOf('.') + 1);

const tableName = (ctx: DecodeContext, fromRecord: unknown): string =>
  ctx.tableOf?.(ctx.origin.topic) ??
  (typeof fromRecord === 'string' && fromRecord !== '' ? fromRecord : tableFromTopic(ctx.origin.topic));

const epochMs = (value: unknown): number | null =>
  typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : null;

/** source.snapshot: "true", "first", "last", "incremental", ... or "false"; boolean in old versions. */
const isSnapshot = (op: Op, snapshot: unknown): boolean =>
  op === 'r' || snapshot === true || (typeof snapshot === 'string' && snapshot !== 'false' && snapshot !== '');

/** The position's version in the event's source epoch (version.ts, epochs.ts). */
const versioned = (ctx: DecodeContext, position: string, sourceTsMs: number | null): string => {
  if (ctx.epochAt === undefined || position === NO_VERSION) return position;
  const epoch = ctx.epochAt(sourceTsMs);
  return epoch === 0 ? position : withEpoch(epoch, position);
};

const origin = (ctx: DecodeContext): ChangeEvent['origin'] => ctx.origin;

const event = (e: ChangeEvent): DecodeOutcome => ({ kind: 'event', event: e });

const skip = (ctx: DecodeContext, reason: 'truncate' | 'filtered'): DecodeOutcome => ({
  kind: 'skip',
  reason,
  origin: ctx.origin,
});

const rowOrNull = (ctx: DecodeContext, value: unknown, what: string): Row | null => {
  if (value === null || value === undefined) return null;
  if (!isObject(value))
    throw decodeError(
      ctx,
      `envelope field "${what}" is not a row (got ${Array.isArray(value) ? 'array' : typeof value})`,
    );
  return finishRow(value, ctx);
};

/** Full Debezium envelope {before, after, source, op, ts_ms, transaction}. */
export const fromEnvelope = (ctx: DecodeContext, value: Fields, key: Row | null): DecodeOutcome => {
  const op = value['op'];
  if (op === 'm') return skip(ctx, 'filtered'); // logical decoding message: not a row change
  if (typeof op !== 'string' || !OPS.has(op))
    throw decodeError(ctx, `envelope has unknown op ${JSON.stringify(op)} (expected c, u, d, r or t)`);
  if (op === 't') return skip(ctx, 'truncate');
  const source = value['source'];
  if (!isObject(source)) throw decodeError(ctx, 'envelope has no "source" block: cannot derive a version');
  const before = rowOrNull(ctx, value['before'], 'before');
  const after = rowOrNull(ctx, value['after'], 'after');
  if (op === 'd' ? before === null && key === null : after === null) {
    throw decodeError(
      ctx,
      op === 'd' ? 'delete envelope has neither "before" nor a record key' : `op "${op}" envelope has no "after" row`,
    );
  }
  const sourceTsMs = epochMs(source['ts_ms']) ?? epochMs(value['ts_ms']);
  return event({
    table: tableName(ctx, source['table']),
    key: key ?? after ?? before ?? {},
    op: op as Op,
    before,
    after,
    version: versioned(ctx, versionOf(ctx, source, 'source'), sourceTsMs),
    sourceTsMs,
    tombstone: false,
    snapshot: isSnapshot(op as Op, source['snapshot']),
    origin: origin(ctx),
  });
};

const field = (row: Fields, name: string): unknown => row[`__source_${name}`] ?? row[`__${name}`];

/**
 * ExtractNewRecordState output: the row itself plus `__`-prefixed metadata chosen by its
 * `add.fields` (`__op`, `__lsn`, `__source_ts_ms`, `__table`, ...) and, with delete rewriting,
 * `__deleted`. Metadata is stripped from the row; a rewritten delete becomes op 'd' with the
 * row as `before`. A row without `__deleted`, `__op` or (outside snapshot reads) a position
 * is refused with the connector setting that adds it (unwrap-settings.ts).
 */
export const fromUnwrapped = (ctx: DecodeContext, value: Fields, key: Row | null): DecodeOutcome => {
  const deleted = value['__deleted'] === 'true' || value['__deleted'] === true;
  const rawOp = value['__op'];
  if (rawOp !== undefined && rawOp !== null && (typeof rawOp !== 'string' || !OPS.has(rawOp))) {
    throw decodeError(ctx, `row has unknown __op ${JSON.stringify(rawOp)} (expected c, u, d, r or t)`);
  }
  if (rawOp === 't') return skip(ctx, 'truncate');
  const op: Op = deleted ? 'd' : ((rawOp as Op | null | undefined) ?? 'u');
  const row: Row = {};
  let hasMetadata = false;
  for (const name in value) {
    if (name.startsWith('__')) hasMetadata = true;
    else row[name] = value[name];
  }
  finishRow(row, ctx);
  const position = {
    lsn: field(value, 'lsn'),
    sequence: field(value, 'sequence'),
    gtid: field(value, 'gtid'),
    file: field(value, 'file'),
    pos: field(value, 'pos'),
    row: field(value, 'row'),
  };
  requireUnwrapSettings(ctx, value, position);
  const sourceTsMs = epochMs(field(value, 'ts_ms'));
  return event({
    table: tableName(ctx, field(value, 'table')),
    key: key ?? row,
    op,
    before: op === 'd' ? row : null,
    after: op === 'd' ? null : row,
    version: versioned(
      ctx,
      hasMetadata && hasPosition(position)
        ? versionOf(ctx, position, 'row metadata (__lsn/__gtid/__file)')
        : NO_VERSION,
      sourceTsMs,
    ),
    sourceTsMs,
    tombstone: false,
    snapshot: isSnapshot(op, field(value, 'snapshot')),
    origin: origin(ctx),
  });
};

/** A Kafka tombstone: the key's latest state is "deleted". No position, so NO_VERSION. */
export const fromTombstone = (ctx: DecodeContext, key: Row | null): DecodeOutcome => {
  if (key === null)
    throw decodeError(ctx, 'tombstone (null value) without a key: nothing identifies the row to delete');
  return event({
    table: tableName(ctx, undefined),
    key,
    op: 'd',
    before: null,
    after: null,
    version: NO_VERSION,
    sourceTsMs: null,
    tombstone: true,
    snapshot: false,
    origin: origin(ctx),
  });
};

/** A decoded key must be a struct of primary-key columns. */
export const keyRow = (ctx: DecodeContext, key: unknown): Row | null => {
  if (key === null || key === undefined) return null;
  if (!isObject(key))
    throw decodeError(
      ctx,
      `record key is not a struct of key columns (got ${Array.isArray(key) ? 'array' : typeof key})`,
    );
  return finishRow(key, ctx);
};
