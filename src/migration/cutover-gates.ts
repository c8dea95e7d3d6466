// The go/no-go gates of `cutover-check`: each one a verdict with the numbers behind it. Pure:
// the command gathers the facts (lag, DLQ offsets, a reconcile report, password readiness) and
// these functions judge them, so every threshold is tested without services.
import type { PartitionLag } from '../adapters/kafka/lag.js';
import type { ReconcileReport } from './reconcile.js';

export type GateName = 'lag' | 'dlq' | 'reconcile' | 'cohort' | 'passwords';

export interface GateResult {
  gate: GateName;
  /** 'off': disabled in the config (cutover.gates), so not judged. */
  verdict: 'pass' | 'fail' | 'off';
  /** One sentence: what was found, and when failing, what to do. */
  summary: string;
  figures: Record<string, number | string | null>;
}

export const gateOff = (gate: GateName): GateResult => ({
  gate,
  verdict: 'off',
  summary: `disabled (cutover.gates.${gate}: false)`,
  figures: {},
});

/** Every partition of every topic committed to its end: nothing the legacy side wrote is still on its way. */
export function lagGate(lags: readonly PartitionLag[]): GateResult {
  const behind = lags.filter((l) => l.lag > 0);
  const total = behind.reduce((sum, l) => sum + l.lag, 0);
  const neverCommitted = lags.filter((l) => l.committed === null).length;
  const figures = { partitions: lags.length, behind: behind.length, messages: total, neverCommitted };
  if (lags.length === 0)
    return { gate: 'lag', verdict: 'fail', summary: 'no partitions found for the configured topics', figures };
  if (behind.length > 0)
    return {
      gate: 'lag',
      verdict: 'fail',
      summary: `${total} message(s) not yet synced in ${behind.length} partition(s) (${behind
        .slice(0, 3)
        .map((l) => `${l.topic}:${l.partition}=${l.lag}`)
        .join(', ')}${behind.length > 3 ? ', …' : ''}): let the sync catch up`,
      figures,
    };
  return { gate: 'lag', verdict: 'pass', summary: `every partition (${lags.length}) is synced to its end`, figures };
}

export interface DlqPartitionFacts {
  partition: number;
  low: string;
  high: string;
  /** Where the last `dlq redrive` got to (its group's committed offset), if it ever ran. */
  redriven: bigint | undefined;
  /** Below this offset every record is acknowledged (`dlq ack`). */
  acked: bigint | undefined;
}

/**
 * A DLQ record is settled when a re-drive has handled it (applied, superseded or skipped:
 * records failing again are appended after, so they are pending again) or an operator
 * acknowledged it. Pending = what lies past both, per partition.
 */
export function pendingDlqRecords(p: DlqPartitionFacts): bigint {
  let from = BigInt(p.low);
  for (const mark of [p.redriven, p.acked]) if (mark !== undefined && mark > from) from = mark;
  const high = BigInt(p.high);
  return high > from ? high - from : 0n;
}

export function dlqGate(topic: string, partitions: readonly DlqPartitionFacts[] | null): GateResult {
  if (partitions === null)
    return {
      gate: 'dlq',
      verdict: 'pass',
      summary: `DLQ topic ${topic} does not exist: nothing was ever dead-lettered`,
      figures: { pending: 0, retained: 0 },
    };
  const pending = partitions.reduce((sum, p) => sum + pendingDlqRecords(p), 0n);
  const retained = partitions.reduce((sum, p) => sum + (BigInt(p.high) - BigInt(p.low)), 0n);
  const figures = { pending: Number(pending), retained: Number(retained) };
  if (pending > 0n)
    return {
      gate: 'dlq',
      verdict: 'fail',
      summary: `${pending} DLQ record(s) neither re-driven nor acknowledged: dlq list to see them, dlq redrive once fixed, dlq ack for the ones that need nothing`,
      figures,
    };
  return {
    gate: 'dlq',
    verdict: 'pass',
    summary:
      retained === 0n
        ? 'the DLQ is empty'
        : `every one of the ${retained} retained DLQ record(s) is re-driven or acknowledged`,
    figures,
  };
}

/**
 * No drift, and nobody held at an old state because the legacy row is invalid (held users
 * are not drift for the sync's contract, but after cutover their row is gone).
 */
export function reconcileGate(r: ReconcileReport): GateResult {
  const figures = {
    drift: r.drift,
    missing: r.missing.count,
    extra: r.extra.count,
    different: r.different.count,
    held: r.held.count,
    notMigrated: r.notMigrated,
    legacyUsers: r.legacy.users,
  };
  if (r.drift > 0 || r.held.count > 0) {
    const parts = [
      r.missing.count ? `${r.missing.count} missing` : '',
      r.extra.count ? `${r.extra.count} extra` : '',
      r.different.count ? `${r.different.count} different` : '',
      r.held.count ? `${r.held.count} held at an old state (their legacy row is invalid: fix the row)` : '',
    ].filter(Boolean);
    return {
      gate: 'reconcile',
      verdict: 'fail',
      summary: `${parts.join(', ')}: cognito-sync reconcile shows them, reconcile --repair fixes drift`,
      figures,
    };
  }
  return {
    gate: 'reconcile',
    verdict: 'pass',
    summary: `Cognito equals the mapping of all ${r.legacy.users} legacy row(s)`,
    figures,
  };
}

/**
 * Everyone is in the migration. Users outside the mapping's cohort are not drift for the sync,
 * so the reconcile gate passes with them; but a cutover moves every user to Cognito, and those
 * are not there (or not kept up to date). Turned off (cutover.gates.cohort: false) only for a
 * cutover of the cohort alone, with the application still sending the others to the legacy login.
 */
export function cohortGate(r: ReconcileReport): GateResult {
  const { legacy, inCognito } = r.outsideCohort;
  const figures = { outsideCohort: legacy, outsideCohortInCognito: inCognito, legacyUsers: r.legacy.users };
  if (legacy > 0)
    return {
      gate: 'cohort',
      verdict: 'fail',
      summary:
        `${legacy} legacy user(s) are outside the mapping's cohort (${inCognito} of them in Cognito, not kept in sync): ` +
        'widen the cohort to everyone (remove `cohort` from the mapping, then reconcile --repair), ' +
        'or set cutover.gates.cohort: false to cut over the cohort alone',
      figures,
    };
  return {
    gate: 'cohort',
    verdict: 'pass',
    summary: 'every legacy user is in the migration (no cohort left out)',
    figures,
  };
}

export interface PasswordFacts {
  activeColumn: string;
  activeWithinDays: number;
  minShare: number;
  /** Legacy users who signed in within the window. */
  active: number;
  /** Of those, users Cognito holds as CONFIRMED (a password they can sign in with). */
  ready: number;
  /** Why the share cannot be told from Cognito's user statuses with this config (then: fail, saying so). */
  unmeasurable?: string;
}

/** The share of active users who can sign in to Cognito with a password, against a threshold. */
export function passwordsGate(f: PasswordFacts | null): GateResult {
  if (f === null)
    return {
      gate: 'passwords',
      verdict: 'fail',
      summary:
        'not configured: set cutover.passwords.activeColumn (the legacy last-sign-in column), or turn the gate off with cutover.gates.passwords: false',
      figures: {},
    };
  if (f.unmeasurable !== undefined)
    return { gate: 'passwords', verdict: 'fail', summary: `cannot be measured: ${f.unmeasurable}`, figures: {} };
  const share = f.active === 0 ? 1 : f.ready / f.active;
  const figures = {
    active: f.active,
    ready: f.ready,
    share: Math.round(share * 10_000) / 10_000,
    minShare: f.minShare,
    activeWithinDays: f.activeWithinDays,
  };
  const pct = (x: number): string => `${(Math.floor(x * 1000) / 10).toFixed(1)}%`;
  const what = `${f.ready} of ${f.active} active user(s) (signed in within ${f.activeWithinDays} days, by ${f.activeColumn}) can sign in to Cognito with a password: ${pct(share)}`;
  if (share < f.minShare)
    return {
      gate: 'passwords',
      verdict: 'fail',
      summary: `${what}, below ${pct(f.minShare)}: more users must migrate (User Migration Lambda) or be imported with their hash`,
      figures,
    };
  return { gate: 'passwords', verdict: 'pass', summary: `${what} (at least ${pct(f.minShare)})`, figures };
}

export interface CutoverReport {
  go: boolean;
  gates: GateResult[];
}

/** Go only when every gate that is on passes. */
export const cutoverReport = (gates: GateResult[]): CutoverReport => ({
  go: gates.every((g) => g.verdict !== 'fail'),
  gates,
});

export function formatCutover(r: CutoverReport): string {
  const lines = r.gates.map((g) => `${g.verdict.toUpperCase().padEnd(4)}  ${g.gate.padEnd(9)}  ${g.summary}`);
  const failed = r.gates.filter((g) => g.verdict === 'fail').map((g) => g.gate);
  lines.push('', r.go ? 'GO: every gate passes.' : `NO-GO: ${failed.length} gate(s) fail (${failed.join(', ')}).`);
  return `${lines.join('\n')}\n`;
}
