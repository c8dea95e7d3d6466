// A bug this suite found (first seen in the two-consumers scenario under a saturated budget),
// now fixed and kept as a regression test: a partition batch whose Cognito work takes longer
// than the group's session timeout got the member expelled, because heartbeats went out only
// between batches; the refused commit then crashed `cognito-sync run`. BatchProcessor now
// heartbeats while applying (at most once a second) and a commit refused by a rebalance is
// logged and redelivered instead of crashing.
import { describe, expect, test } from '@jest/globals';
import { FAST_RATES, Scenario } from './support/scenario.js';
import { committedAtLeast } from './support/kafka.js';
import { waitFor } from './support/stack.js';

const SESSION_TIMEOUT_MS = 6_000;
const UPDATE_RATE = 1; // UserUpdate calls per second
const ROWS = 20; // one update each: ~20 s of Cognito work in the batches, beyond the session timeout

describe('faults: a batch longer than the session timeout', () => {
  test(`${ROWS} updates at ${UPDATE_RATE} UserUpdate/s with a ${SESSION_TIMEOUT_MS / 1000}s session timeout: the consumer stays in the group`, async () => {
    const s = await Scenario.start({ name: 'long-batch', cognito: { rates: { ...FAST_RATES, UserUpdate: UPDATE_RATE } }, sessionTimeoutMs: SESSION_TIMEOUT_MS });
    try {
      const sync = await s.consumer('a');
      const writer = s.newWriter({ rate: 1 });
      await writer.fill(ROWS); // creations: UserCreation is fast here
      await s.recovered('rows created', Date.now());
      await writer.burst(1);
      const probe = await writer.insert(undefined, { given_name: 'Probe' }, false);
      // Either everything is applied with the consumer alive, or the consumer is gone.
      await waitFor(
        'the updates applied, or the consumer gone',
        async () => {
          if (!sync.running) return true;
          if (!(await s.cognitoUser(probe))) return false;
          return committedAtLeast(s.admin, s.groupId, s.topics, await s.endOffsets());
        },
        120_000,
        250,
      );
      s.notes.exitCode = sync.exitCode;
      s.notes.crash = sync.recentOutput().includes('The coordinator is not aware of this member') ? 'The coordinator is not aware of this member' : undefined;
      expect(sync.running).toBe(true);
      const f = await s.finish();
      expect(f.drift).toBe(0);
    } finally {
      await s.close();
    }
  }, 600_000);
});
