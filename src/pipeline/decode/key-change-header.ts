// A primary-key change reaches Kafka as a delete of the old key and a create of the new one.
// Debezium marks the delete with the `__debezium.newkey` header (and the create with
// `__debezium.oldkey`), https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-primary-key-updates
// (MySQL: .../mysql.html#mysql-primary-key-updates). The two go to different partitions, so
// the delete may be applied long before its create; the mapping decides whether it deletes a
// user at all (map-event.ts: not when the username does not come from the key).
import type { DecodeOutcome, RawRecord } from '../../core/types.js';

export const NEW_KEY_HEADER = '__debezium.newkey';

/** Flags a delete event that carries the new-key header. */
export const markKeyChange = (raw: RawRecord, outcome: DecodeOutcome): DecodeOutcome => {
  if (
    outcome.kind === 'event' &&
    outcome.event.op === 'd' &&
    !outcome.event.tombstone &&
    raw.headers[NEW_KEY_HEADER] !== undefined
  )
    outcome.event.keyChanged = true;
  return outcome;
};
