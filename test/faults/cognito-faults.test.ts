// Fault 3: the Cognito endpoint misbehaves, through the fault proxy in front of cognito-local,
// while a writer keeps changing rows. One phase after the other, each followed by a recovery
// measurement (a probe row must reach Cognito and the group must commit what was on the topic):
//   throttle       every call answered 400 TooManyRequestsException (AWS JSON 1.1 encoding)
//   error500       500 InternalErrorException
//   error503       503 with an HTML body (a load balancer's answer, not AWS JSON)
//   timeout        calls are never answered (a black hole: the client's own timeout must end them)
//   drop-response  calls reach Cognito and take effect, but the answer is lost
//   refuse         nothing listens: connection refused
// Throttling must never turn into data loss, and nothing here is poison: DLQ 0, drift 0.
import { describe, expect, test } from '@jest/globals';
import type { FaultKind } from '../../scripts/faults/fault-proxy.mjs';
import { Scenario } from './support/scenario.js';
import { LONG, hold } from './support/stack.js';

const PHASES: { kind: FaultKind; ms: number }[] = [
  { kind: 'throttle', ms: LONG ? 30_000 : 6_000 },
  { kind: 'error500', ms: LONG ? 15_000 : 4_000 },
  { kind: 'error503', ms: LONG ? 15_000 : 3_000 },
  { kind: 'timeout', ms: LONG ? 20_000 : 5_000 },
  { kind: 'drop-response', ms: LONG ? 20_000 : 4_000 },
  { kind: 'refuse', ms: LONG ? 30_000 : 6_000 },
];

describe('faults: Cognito endpoint', () => {
  test(`throttling, 5xx, timeouts, lost responses and refused connections (${PHASES.map((p) => `${p.kind} ${p.ms / 1000}s`).join(', ')}): zero drift`, async () => {
    const s = await Scenario.start({ name: 'cognito-faults', cognito: { requestTimeoutMs: 2000, maxAttempts: 4 } });
    try {
      const sync = await s.consumer('a');
      const writer = s.newWriter({ rate: 15, maxLive: 150, transactionEvery: 10 });
      const load = writer.start(30 * 60_000);
      await hold(LONG ? 10_000 : 3_000);
      for (const phase of PHASES) {
        await s.proxy.setFault({ kind: phase.kind });
        await hold(phase.ms); // the fault's duration
        await s.proxy.setFault(null);
        await s.recovered(phase.kind, Date.now());
      }
      await writer.stop();
      await load;
      expect(sync.running).toBe(true);
      s.notes.proxy = { ...s.proxy.state.counts };
      s.notes.retryLogs = sync.count('retrying');
      const f = await s.finish();
      expect(f.drift).toBe(0);
      expect(f.dlq).toBe(0);
      expect(f.topic).toBeGreaterThanOrEqual(f.written + writer.byOp.delete);
      for (const phase of PHASES)
        if (phase.kind !== 'refuse') expect(s.proxy.state.counts[phase.kind] ?? 0).toBeGreaterThan(0);
    } finally {
      await s.close();
    }
  }, 900_000);
});
