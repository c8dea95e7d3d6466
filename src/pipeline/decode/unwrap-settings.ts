// What the sync needs from the ExtractNewRecordState ("unwrap") SMT, checked on every flat row.
// Under the SMT's defaults a flat row says neither that its row was deleted nor where in the
// log it happened: the delete event is dropped (only a tombstone without a position follows,
// which cannot be ordered and is skipped), and rows without a position all get the empty
// version, which the version guard treats as older than anything applied. Both lose changes
// without a trace, so such a row is refused (a DecodeError: DLQ, or a stop under tolerance
// none) with the connector setting that fixes it. Setting names are Debezium 3.x's
// (https://debezium.io/documentation/reference/stable/transformations/event-flattening.html);
// before 3.0 the first one was delete.handling.mode=rewrite with drop.tombstones.
import { DecodeError } from '../../errors.js';
import type { DecodeContext } from './context.js';
import { hasPosition, type SourcePosition } from './source-position.js';

/** A flat row the connector's SMT settings left without what the sync needs; `fixes` names the settings. */
export class UnwrapSettingsError extends DecodeError {
  constructor(
    message: string,
    context: DecodeError['context'],
    readonly fixes: readonly string[],
  ) {
    super(message, context);
  }
}

export const UNWRAP_DELETES_SETTING = 'transforms.<unwrap>.delete.tombstone.handling.mode=rewrite';
export const UNWRAP_FIELDS_SETTING =
  'transforms.<unwrap>.add.fields=op,lsn,source.ts_ms (PostgreSQL) or op,gtid,file,pos,row,source.ts_ms (MySQL/MariaDB)';

/**
 * Throws unless the row carries `__deleted` (delete rewriting), `__op`, and, for anything but
 * a snapshot read, a source position (an incremental snapshot's reads have none: they are
 * ordered as reads, see coalesce).
 */
export const requireUnwrapSettings = (
  ctx: DecodeContext,
  value: Record<string, unknown>,
  position: SourcePosition,
): void => {
  const missing: string[] = [];
  const fixes = new Set<string>();
  if (!('__deleted' in value)) {
    missing.push(
      `no __deleted field, so deletes are not in the stream (the SMT's default drops them): set ${UNWRAP_DELETES_SETTING}`,
    );
    fixes.add(UNWRAP_DELETES_SETTING);
  }
  const op = value['__op'];
  if (op === undefined || op === null) {
    missing.push(`no __op field, so creates, updates and reads look alike: set ${UNWRAP_FIELDS_SETTING}`);
    fixes.add(UNWRAP_FIELDS_SETTING);
  } else if (op !== 'r' && !hasPosition(position)) {
    missing.push(
      `no source position (__lsn, or __gtid/__file/__pos), so changes cannot be ordered and all but the first would be taken as stale: set ${UNWRAP_FIELDS_SETTING}`,
    );
    fixes.add(UNWRAP_FIELDS_SETTING);
  }
  if (missing.length > 0)
    throw new UnwrapSettingsError(
      `ExtractNewRecordState row lacks what the sync needs: ${missing.join('; ')}`,
      { topic: ctx.origin.topic, partition: ctx.origin.partition, offset: ctx.origin.offset },
      [...fixes],
    );
};
