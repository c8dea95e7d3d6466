// The go/no-go gates of cutover-check, judged from facts (cutover-gates.ts).
import { describe, expect, test } from '@jest/globals';
import {
  cutoverReport,
  dlqGate,
  formatCutover,
  gateOff,
  lagGate,
  passwordsGate,
  pendingDlqRecords,
  reconcileGate,
  cohortGate,
} from '../../src/migration/cutover-gates.js';
import type { ReconcileReport } from '../../src/migration/reconcile.js';

const lag = (partition: number, lagBy: number, committed: string | null = '10') => ({
  topic: 'legacy.public.users',
  partition,
  committed,
  end: String(10 + lagBy),
  start: '0',
  lag: lagBy,
});

const report = (over: Partial<ReconcileReport> = {}): ReconcileReport =>
  ({
    legacy: { users: 10, unmappable: 0 },
    cognito: { indexed: 10, foreign: 0, foreignExamples: [] },
    missing: { count: 0, examples: [] },
    notMigrated: 0,
    extra: { count: 0, examples: [] },
    held: { count: 0, examples: [] },
    different: { count: 0, byAttribute: {}, examples: [] },
    drift: 0,
    outsideCohort: { legacy: 0, inCognito: 0 },
    ...over,
  }) as ReconcileReport;

describe('lag', () => {
  test('passes only when every partition is synced to its end', () => {
    expect(lagGate([lag(0, 0), lag(1, 0)]).verdict).toBe('pass');
    const behind = lagGate([lag(0, 0), lag(1, 7)]);
    expect(behind.verdict).toBe('fail');
    expect(behind.summary).toMatch(/^7 message\(s\) not yet synced in 1 partition\(s\) \(legacy.public.users:1=7\)/);
    expect(lagGate([]).verdict).toBe('fail');
  });
});

describe('dlq', () => {
  const p = (low: string, high: string, redriven?: bigint, acked?: bigint) => ({
    partition: 0,
    low,
    high,
    redriven,
    acked,
  });
  test('a record is settled once re-driven or acknowledged; what failed again was appended, so it is pending again', () => {
    expect(pendingDlqRecords(p('0', '5'))).toBe(5n);
    expect(pendingDlqRecords(p('0', '5', 3n))).toBe(2n);
    expect(pendingDlqRecords(p('0', '5', 3n, 5n))).toBe(0n);
    expect(pendingDlqRecords(p('4', '5', 2n))).toBe(1n); // older ones gone by retention
  });
  test('passes with no DLQ topic or nothing pending; fails naming the commands that settle records', () => {
    expect(dlqGate('dlq', null).verdict).toBe('pass');
    expect(dlqGate('dlq', [p('0', '0')]).summary).toBe('the DLQ is empty');
    expect(dlqGate('dlq', [p('0', '3', undefined, 3n)]).verdict).toBe('pass');
    const pending = dlqGate('dlq', [p('0', '3', 1n)]);
    expect(pending).toMatchObject({ verdict: 'fail', figures: { pending: 2, retained: 3 } });
    expect(pending.summary).toMatch(/dlq redrive .* dlq ack/);
  });
});

describe('cohort', () => {
  test('users outside the cohort are not drift, but a cutover moves everyone: the cohort gate fails until everyone is in', () => {
    const partial = report({ outsideCohort: { legacy: 70, inCognito: 3 } });
    // The reconcile gate alone would say go.
    expect(reconcileGate(partial).verdict).toBe('pass');
    const gate = cohortGate(partial);
    expect(gate).toMatchObject({
      gate: 'cohort',
      verdict: 'fail',
      figures: { outsideCohort: 70, outsideCohortInCognito: 3 },
    });
    expect(gate.summary).toMatch(
      /^70 legacy user\(s\) are outside the mapping's cohort .*cutover\.gates\.cohort: false/,
    );
    expect(cutoverReport([reconcileGate(partial), gate]).go).toBe(false);
    expect(cohortGate(report()).verdict).toBe('pass');
  });
});

describe('reconcile', () => {
  test('drift fails; so do users held at an old state by an invalid row (after cutover the row is gone)', () => {
    expect(reconcileGate(report()).verdict).toBe('pass');
    expect(reconcileGate(report({ drift: 2, missing: { count: 2, examples: [] } })).summary).toMatch(/^2 missing:/);
    const held = reconcileGate(report({ held: { count: 1, examples: [] } }));
    expect(held.verdict).toBe('fail');
    expect(held.summary).toMatch(/1 held at an old state/);
  });
});

describe('passwords', () => {
  const facts = { activeColumn: 'last_login_at', activeWithinDays: 90, minShare: 0.95 };
  test('the share of active users who can sign in with a password against the threshold', () => {
    expect(passwordsGate({ ...facts, active: 100, ready: 95 }).verdict).toBe('pass');
    const low = passwordsGate({ ...facts, active: 100, ready: 94 });
    expect(low.verdict).toBe('fail');
    expect(low.summary).toMatch(/^94 of 100 active user\(s\) .* 94\.0%, below 95\.0%/);
    expect(passwordsGate({ ...facts, active: 0, ready: 0 }).verdict).toBe('pass');
  });
  test('a config under which statuses cannot tell known passwords from random ones fails, saying why, never a false pass', () => {
    const gate = passwordsGate({ ...facts, active: 0, ready: 0, unmeasurable: 'random passwords' });
    expect(gate).toMatchObject({ verdict: 'fail', summary: 'cannot be measured: random passwords' });
  });
  test('not configured is a failure that says how to configure or turn it off, never a silent pass', () => {
    const gate = passwordsGate(null);
    expect(gate.verdict).toBe('fail');
    expect(gate.summary).toMatch(/cutover\.passwords\.activeColumn.*cutover\.gates\.passwords: false/);
  });
});

describe('the report', () => {
  test('go only when no gate that is on fails; the no-go line names the failing gates', () => {
    const pass = lagGate([lag(0, 0)]);
    const fail = dlqGate('dlq', [{ partition: 0, low: '0', high: '1', redriven: undefined, acked: undefined }]);
    expect(cutoverReport([pass, gateOff('passwords')]).go).toBe(true);
    const nogo = cutoverReport([pass, fail, gateOff('passwords')]);
    expect(nogo.go).toBe(false);
    expect(formatCutover(nogo)).toMatch(/\nNO-GO: 1 gate\(s\) fail \(dlq\)\.\n$/);
    expect(formatCutover(nogo)).toMatch(/^PASS  lag /);
  });
});
