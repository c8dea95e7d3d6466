// The figures of one scenario: one line on stdout and an entry (by scenario name) in
// <STACK_DIR>/test-reports/faults-summary.json, which scripts/test.sh prints at the end.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LONG, REPORT_DIR, STACK_DIR } from './stack.js';

export interface Figures {
  scenario: string;
  /** Row changes committed to PostgreSQL (each one change event). */
  written: number;
  /** Records that arrived on the source topics meanwhile: one per change, plus a tombstone per delete. */
  topic: number;
  /** topic - (written + deletes): records Debezium sent twice (after a Connect crash), or poison injected. */
  extraRecords: number;
  /** Records in batches the consumers finished (re-deliveries after a crash count again). */
  consumed: number;
  /** Cognito write calls those batches made. */
  cognitoWrites: number;
  /** Records in the scenario's DLQ topic. */
  dlq: number;
  /** `cognito-sync reconcile` at the end: missing + extra + different. */
  drift: number;
  /** Largest total consumer lag sampled (messages). */
  maxLag: number;
  /** Longest recovery: fault end -> everything on the topics at that moment committed. */
  recoveryMs: number | null;
  faults: number;
  /** Users put in the fresh pool by `reconcile --repair` before the scenario. */
  seeded: number;
  legacyUsers: number;
  durationMs: number;
  recoveries: { fault: string; ms: number }[];
  notes: Record<string, unknown>;
}

export const SUMMARY_FILE = join(REPORT_DIR, 'faults-summary.json');

const s = (ms: number | null): string => (ms === null ? '-' : `${(ms / 1000).toFixed(1)}s`);

export function summaryLine(f: Figures): string {
  return (
    `[faults] ${f.scenario.padEnd(18)} written=${f.written} topic=${f.topic} (+${f.extraRecords}) consumed=${f.consumed} cognitoWrites=${f.cognitoWrites} ` +
    `dlq=${f.dlq} drift=${f.drift} maxLag=${f.maxLag} recovery=${s(f.recoveryMs)} (${f.faults} fault${f.faults === 1 ? '' : 's'}) duration=${s(f.durationMs)}`
  );
}

export function recordFigures(f: Figures): void {
  process.stdout.write(`${summaryLine(f)}\n`);
  mkdirSync(REPORT_DIR, { recursive: true });
  let doc: { stackDir: string; mode: string; updatedAt: string; scenarios: Figures[] } = {
    stackDir: STACK_DIR,
    mode: LONG ? 'long' : 'bounded',
    updatedAt: '',
    scenarios: [],
  };
  if (existsSync(SUMMARY_FILE)) {
    try {
      doc = JSON.parse(readFileSync(SUMMARY_FILE, 'utf8')) as typeof doc;
    } catch {
      // a half-written file from an interrupted run: start again
    }
  }
  doc.mode = LONG ? 'long' : 'bounded';
  doc.updatedAt = new Date().toISOString();
  doc.scenarios = [...doc.scenarios.filter((x) => x.scenario !== f.scenario), f];
  writeFileSync(SUMMARY_FILE, `${JSON.stringify(doc, null, 2)}\n`);
}
