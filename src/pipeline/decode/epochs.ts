// Which source epoch an event belongs to (see version.ts for how the epoch is encoded).
//
// PostgreSQL's identity (system identifier, timeline) is not in Debezium's source block, and a
// topic can hold events of the old and of the new history at once (a consumer behind, a
// replay), so the epoch cannot come from the database the sync happens to reach now. The
// operator names each new history in the mapping (versionEpochs) with the instant it began
// taking writes; an event belongs to the last epoch whose `since` is not after its source
// commit time (source.ts_ms). Kept in the mapping because the sync, `reconcile` and the User
// Migration Lambda all stamp versions and all read the one mapping file.
import type { VersionEpoch } from '../map/mapping-spec.js';

export type EpochAt = (sourceTsMs: number | null) => number;

/**
 * The epoch of an event committed at `sourceTsMs`. Without a commit time (a record form that
 * does not carry ts_ms) the newest epoch: the operator's current word.
 */
export const epochAt =
  (epochs: readonly VersionEpoch[]): EpochAt =>
  (sourceTsMs) => {
    let epoch = 0;
    for (const e of epochs) {
      if (e.sinceMs === undefined || sourceTsMs === null || sourceTsMs >= e.sinceMs) epoch = e.epoch;
      else break;
    }
    return epoch;
  };

/** The epoch a read made now belongs to (the Lambda, reconcile): the newest that has begun. */
export const currentEpoch = (epochs: readonly VersionEpoch[], nowMs: number = Date.now()): number =>
  epochAt(epochs)(nowMs);
