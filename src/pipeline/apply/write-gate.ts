// A batch's Cognito calls stop when the batch loses its partition or fails. Once the partition
// is gone its next owner starts from the last commit and read-plan-writes the same users: a
// call this member starts after that can put an older state over a newer one. So every call
// asks the gate of the batch it runs for, right before it starts (and again after waiting for a
// quota token, in the AWS gateway): a closed gate refuses it with WritesStoppedError. Calls
// already sent are not cut off; the batch awaits them before it hands its partition back.
//
// The gate travels with the async context of the batch's apply (AsyncLocalStorage), so neither
// the applier nor the planner needs to know about batches. The waiting memberships' hand-overs
// run under a gate of their own (closed while the group rebalances or once one of their
// partitions is assigned elsewhere); calls outside any consumer (reconcile, priming the pool
// state) meet no gate.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CognitoGateway } from '../../adapters/cognito/cognito-gateway.js';
import { CognitoApiError } from '../../errors.js';

export interface WriteGate {
  /** Undefined while calls may start; otherwise why they may not. */
  closedBecause(): string | undefined;
}

/**
 * A call refused because its batch may start no more calls. Retriable: the records stay
 * uncommitted, so this member (if it still owns the partition) or the next owner redoes them.
 */
export class WritesStoppedError extends CognitoApiError {
  constructor(api: string, reason: string) {
    super(`${api} not started: ${reason}`, { api, code: 'WritesStopped', retriable: true, action: 'retry' });
  }
}

const gates = new AsyncLocalStorage<WriteGate>();

/** Runs `fn` with every Cognito call it makes (however deep) asking `gate` first. */
export const runGated = <T>(gate: WriteGate, fn: () => Promise<T>): Promise<T> => gates.run(gate, fn);

/** Runs `fn` outside any batch's gate: the rest of a unit of calls already under way. */
export const ungated = <T>(fn: () => Promise<T>): Promise<T> => gates.exit(fn);

/** Throws WritesStoppedError when the batch this code runs for may start no call. */
export const assertMayCall = (api: string): void => {
  const reason = gates.getStore()?.closedBecause();
  if (reason !== undefined) throw new WritesStoppedError(api, reason);
};

/** The gateway the applier uses: each read and write asks the batch's gate before it starts. */
export const gatedGateway = (gateway: CognitoGateway): CognitoGateway => ({
  getUser: (username, withGroups) => {
    assertMayCall('AdminGetUser');
    return gateway.getUser(username, withGroups);
  },
  execute: (call) => {
    assertMayCall(call.api);
    return gateway.execute(call);
  },
});
