// Fault 1: the consumer (the real CLI, `cognito-sync run`) is SIGKILLed mid-batch, repeatedly,
// while a writer keeps changing rows. "Mid-batch" is made certain rather than likely: the kill
// is sent while one of the process's Cognito calls is in flight at the fault proxy (which adds
// a little latency so that batches take a while). Offsets are only committed after Cognito has
// the change, so the restarted process re-reads the unfinished batch and nothing is lost.
// Against each legacy database: PostgreSQL, and MariaDB through its binlog.
import { describe, expect, test } from '@jest/globals';
import { SOURCES } from '../e2e/support/sources.js';
import { Scenario } from './support/scenario.js';
import { LONG, hold, waitFor } from './support/stack.js';

const KILLS = LONG ? 8 : 3;
/** The writer runs from before the first kill until this long after the last recovery. */
const TAIL_MS = 5_000;
const BETWEEN_KILLS_MS = LONG ? 12_000 : 5_000;

describe.each(SOURCES)('faults: consumer killed, changes from %s', (source) => {
  test(`SIGKILL mid-batch ${KILLS} times under a steady write load: zero drift, nothing in the DLQ`, async () => {
    const s = await Scenario.start({
      name: source === 'postgres' ? 'consumer-kill' : `consumer-kill-${source}`,
      source,
    });
    try {
      await s.proxy.setFault({ kind: 'delay', delayMs: 25 });
      const sync = await s.consumer('a');
      const inFlightAtKill: number[] = [];
      s.notes.cognitoCallsInFlightAtKill = inFlightAtKill;
      const writer = s.newWriter({ rate: 20, maxLive: 150, transactionEvery: 10 });
      const load = writer.start(30 * 60_000); // stopped below, once the kills are done
      for (let k = 1; k <= KILLS; k++) {
        await hold(BETWEEN_KILLS_MS); // the load runs undisturbed for a while between kills
        await waitFor('a Cognito call of the consumer in flight', async () => s.proxy.state.inFlight > 0, 60_000, 2);
        inFlightAtKill.push(s.proxy.state.inFlight);
        await sync.kill('SIGKILL');
        const killedAt = Date.now();
        const recovery = s.recovered(`SIGKILL ${k}`, killedAt); // target: the topics' end at the kill
        await sync.start();
        await recovery;
      }
      await hold(TAIL_MS);
      await writer.stop();
      await load;
      const f = await s.finish();
      expect(f.drift).toBe(0);
      expect(f.dlq).toBe(0);
      expect(f.topic).toBeGreaterThanOrEqual(f.written + writer.byOp.delete); // Debezium lost nothing (a delete is followed by a tombstone)
      expect(f.consumed).toBeGreaterThanOrEqual(f.topic); // every record went through a finished batch
      expect(s.totals.kills).toBe(KILLS);
    } finally {
      await s.close();
    }
  }, 900_000);
});
