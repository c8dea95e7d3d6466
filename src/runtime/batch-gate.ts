// When a batch may start no more Cognito calls (the write gate of its applies, write-gate.ts).
import type { WriteGate } from '../pipeline/apply/write-gate.js';
import { errorMessage } from '../errors.js';

export interface BatchCondition {
  /** A heartbeat failed: the group is rebalancing and the partition may be gone. */
  lostGroup: boolean;
  /** Cognito cannot be used at all (CognitoAccessError): the pipeline stops. */
  stopping: boolean;
  /** False once the partition was revoked or the consumer is stopping (BatchControl.isActive). */
  active: boolean;
  /** What a worker of the batch threw: the batch fails and is redelivered. */
  failedWith: unknown;
}

/** The gate of one batch, asked afresh before each call. */
export const batchGate = (condition: () => BatchCondition): WriteGate => ({
  closedBecause: () => {
    const c = condition();
    if (c.failedWith !== undefined) return `another user of its batch failed (${errorMessage(c.failedWith)})`;
    if (c.stopping) return 'the pipeline is stopping';
    if (c.lostGroup) return 'a heartbeat failed: the consumer group is rebalancing';
    if (!c.active) return 'the partition was revoked or the consumer is stopping';
    return undefined;
  },
});
