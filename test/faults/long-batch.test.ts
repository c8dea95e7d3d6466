// Regression test for a bug this suite found (first in the two-consumers scenario under a
// saturated budget): a partition batch whose Cognito work takes longer than the consumer group's
// session timeout got the member expelled. kafkajs sends heartbeats only between batches or when
// eachBatch calls heartbeat(), and BatchProcessor called it only while waiting between retries,
// not while applying users at the rate the token buckets allow; the commit then failed with
// "The coordinator is not aware of this member", which kafkajs treats as non-retriable, and
// `cognito-sync run` exited 1. With a real budget (UserUpdate 25/s * quotaShare 0.5) a backlog of
// ~400 updates in one batch exceeds the default 30 s session timeout. Fixed in src/runtime
// (heartbeat while applying; a commit refused by a rebalance is not fatal).
//
// Deterministic setup: the updates queue up on the topic while the consumer is stopped, so the
// first fetch after the restart brings all of them: three partition batches of ~10 updates at
// 1 UserUpdate/s, each taking far longer than the 6 s session timeout.
import { describe, expect, test } from '@jest/globals';
import { FAST_RATES, Scenario } from './support/scenario.js';
import { committedAtLeast, sumOffsets } from './support/kafka.js';
import { waitFor } from './support/stack.js';

const SESSION_TIMEOUT_MS = 6_000;
const UPDATE_RATE = 1; // UserUpdate calls per second
const ROWS = 30; // one update each, ~10 per partition: every partition batch takes ~20 s or more

describe('faults: a batch longer than the session timeout', () => {
  test(`${ROWS} updates at ${UPDATE_RATE} UserUpdate/s with a ${SESSION_TIMEOUT_MS / 1000}s session timeout: batches outlast the session, the consumer stays in the group, zero drift`, async () => {
    const s = await Scenario.start({
      name: 'long-batch',
      cognito: { rates: { ...FAST_RATES, UserUpdate: UPDATE_RATE } },
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
    });
    try {
      const sync = await s.consumer('a');
      const writer = s.newWriter({ rate: 1 });
      await writer.fill(ROWS); // creations: UserCreation is fast here
      await s.recovered('rows created', Date.now());
      expect((await sync.stop()).code).toBe(0);
      const before = await s.endOffsets();
      const updates = await writer.burst(1);
      const probe = await writer.insert(undefined, { given_name: 'Probe' }, false);
      await waitFor(
        'the updates on the topic',
        async () => sumOffsets(await s.endOffsets()) >= sumOffsets(before) + BigInt(updates + 1),
        60_000,
      );
      await sync.start();
      // Either everything is applied with the consumer alive, or the consumer is gone.
      await waitFor(
        'the updates applied, or the consumer gone',
        async () => {
          if (!sync.running) return true;
          if (!(await s.cognitoUser(probe))) return false;
          return committedAtLeast(s.admin, s.groupId, s.topics, await s.endOffsets());
        },
        180_000,
        250,
      );
      const expelled = sync.recentOutput().includes('The coordinator is not aware of this member');
      s.notes.consumer = { running: sync.running, exitCode: sync.exitCode, expelled };
      process.stdout.write(
        `[faults] long-batch         consumer ${sync.running ? 'stayed in the group' : `exited ${sync.exitCode}${expelled ? ' (The coordinator is not aware of this member)' : ''}`}\n`,
      );
      expect(sync.running).toBe(true);
      s.notes.maxBatchMs = s.totals.maxBatchMs;
      const f = await s.finish();
      expect(f.drift).toBe(0);
      expect(s.totals.maxBatchMs).toBeGreaterThan(2 * SESSION_TIMEOUT_MS); // the batches did outlast the session
    } finally {
      await s.close();
    }
  }, 600_000);
});
