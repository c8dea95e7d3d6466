// Consumer lag health in the manner of LinkedIn's Burrow: a partition is judged by how its
// committed offset and its lag move over a window of samples, not by one lag number (a
// large lag that shrinks is fine; a small one that never moves is not). Pure: the `lag`
// command takes the samples, this module decides and formats.
import { formatDuration, formatRate } from './duration.js';

export type LagStatus = 'OK' | 'WARNING' | 'STALLED' | 'STOPPED' | 'REWOUND';

/** Worst last: used to pick a group's overall status. */
export const STATUS_SEVERITY: Record<LagStatus, number> = { OK: 0, WARNING: 1, STALLED: 2, STOPPED: 3, REWOUND: 4 };

/** One observation of a partition. Offsets are Kafka int64s kept as strings. */
export interface LagSample {
  timeMs: number;
  /** Next offset the group will read; null when the group never committed here. */
  committed: string | null;
  /** Log start offset: where a group with no commit would begin. */
  start: string;
  /** Log end offset (high watermark). */
  end: string;
}

export interface PartitionVerdict {
  status: LagStatus;
  /** One sentence an operator can act on. */
  reason: string;
  /** Lag in messages at the last sample. */
  lag: number;
  /** Committed offsets per second over the window; null with fewer than two samples. */
  consumeRate: number | null;
  /** End offsets per second over the window (how fast the source writes). */
  produceRate: number | null;
}

/**
 * The shortest window in which an unmoving committed offset is called STALLED. The sync commits
 * once per batch, and a batch applied within Cognito's quota can take tens of seconds: in a
 * shorter window a healthy burst looks exactly like a stall (`--window 6s` said STALLED).
 */
export const STALL_MIN_MS = 30_000;

const position = (s: LagSample): bigint => BigInt(s.committed ?? s.start);
const lagOf = (s: LagSample): number => {
  const lag = BigInt(s.end) - position(s);
  return Number(lag < 0n ? 0n : lag);
};

/**
 * The rules, first match wins:
 *  REWOUND  the committed offset went backwards between two samples (a reset or replay);
 *  OK       the lag was 0 at some sample;
 *  STOPPED  lag > 0 and the group has no active member: nothing will consume it;
 *  STALLED  lag > 0, members are there, but the committed offset did not move in a window of
 *           at least STALL_MIN_MS (in a shorter one: OK, not judged, saying so);
 *  WARNING  the committed offset moves but the lag grew at every sample (falling behind);
 *  OK       otherwise: consuming and not falling behind.
 */
export function partitionStatus(samples: readonly LagSample[], groupActive: boolean): PartitionVerdict {
  if (samples.length === 0) throw new RangeError('partitionStatus needs at least one sample');
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const lags = samples.map(lagOf);
  const lag = lags[lags.length - 1]!;
  const seconds = (last.timeMs - first.timeMs) / 1000;
  const consumeRate = seconds > 0 ? Number(position(last) - position(first)) / seconds : null;
  const produceRate = seconds > 0 ? Number(BigInt(last.end) - BigInt(first.end)) / seconds : null;
  const verdict = (status: LagStatus, reason: string): PartitionVerdict => ({
    status,
    reason,
    lag,
    consumeRate,
    produceRate,
  });

  for (let i = 1; i < samples.length; i++) {
    const before = samples[i - 1]!.committed;
    const after = samples[i]!.committed;
    if (before !== null && after !== null && BigInt(after) < BigInt(before)) {
      return verdict('REWOUND', `committed offset went back from ${before} to ${after} (offsets reset or replayed)`);
    }
  }
  if (lags.some((l) => l === 0)) return verdict('OK', lag === 0 ? 'caught up' : 'caught up during the window');
  if (!groupActive) return verdict('STOPPED', 'lag and no active member in the group: is the sync running?');
  if (samples.length < 2) return verdict('OK', 'one sample only: movement not judged');
  if (position(last) === position(first)) {
    if (last.timeMs - first.timeMs < STALL_MIN_MS) {
      return verdict(
        'OK',
        `no commit in ${formatDuration(last.timeMs - first.timeMs)}, too short to tell a batch still applying from a stall: watch ${formatDuration(STALL_MIN_MS)} or more`,
      );
    }
    return verdict(
      'STALLED',
      'members are there but the committed offset did not move: stuck on a record, paused, or throttled?',
    );
  }
  const growing = lags.every((l, i) => i === 0 || l > lags[i - 1]!);
  if (growing) return verdict('WARNING', 'consuming, but the lag grew at every sample: falling behind');
  return verdict('OK', 'consuming and keeping up');
}

export function worstStatus(statuses: Iterable<LagStatus>): LagStatus {
  let worst: LagStatus = 'OK';
  for (const s of statuses) if (STATUS_SEVERITY[s] > STATUS_SEVERITY[worst]) worst = s;
  return worst;
}

/** How the time lag was obtained, so nobody mistakes an estimate for a measurement. */
export type TimeLagSource = 'record-timestamp' | 'lag/rate';

export interface LagRow {
  topic: string;
  partition: number;
  committed: string | null;
  end: string;
  lag: number;
  /** Age of the oldest unconsumed record, or lag / consumption rate; null when unknown. */
  timeLagMs: number | null;
  timeLagSource: TimeLagSource | null;
  consumeRate: number | null;
  produceRate: number | null;
  status: LagStatus;
  reason: string;
}

export interface LagReport {
  groupId: string;
  groupState: string;
  members: number;
  windowMs: number;
  samples: number;
  status: LagStatus;
  totalLag: number;
  partitions: LagRow[];
}

export interface LagReportInput {
  groupId: string;
  groupState: string;
  members: number;
  /** Samples per "topic:partition", oldest first. */
  series: Map<string, LagSample[]>;
  /** Kafka timestamp (ms) of the first unconsumed record per "topic:partition", when read. */
  firstUnconsumedTs: Map<string, number>;
  nowMs: number;
}

export function buildLagReport(input: LagReportInput): LagReport {
  const rows: LagRow[] = [];
  let windowMs = 0;
  let samples = 0;
  for (const [key, series] of input.series) {
    const sep = key.lastIndexOf(':');
    const verdict = partitionStatus(series, input.members > 0);
    const last = series[series.length - 1]!;
    windowMs = Math.max(windowMs, last.timeMs - series[0]!.timeMs);
    samples = Math.max(samples, series.length);
    const ts = input.firstUnconsumedTs.get(key);
    let timeLagMs: number | null = null;
    let timeLagSource: TimeLagSource | null = null;
    if (verdict.lag === 0) {
      timeLagMs = 0;
    } else if (ts !== undefined) {
      timeLagMs = Math.max(0, input.nowMs - ts);
      timeLagSource = 'record-timestamp';
    } else if (verdict.consumeRate !== null && verdict.consumeRate > 0) {
      timeLagMs = (verdict.lag / verdict.consumeRate) * 1000;
      timeLagSource = 'lag/rate';
    }
    rows.push({
      topic: key.slice(0, sep),
      partition: Number(key.slice(sep + 1)),
      committed: last.committed,
      end: last.end,
      lag: verdict.lag,
      timeLagMs: timeLagMs === null ? null : Math.round(timeLagMs),
      timeLagSource,
      consumeRate: verdict.consumeRate,
      produceRate: verdict.produceRate,
      status: verdict.status,
      reason: verdict.reason,
    });
  }
  rows.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  return {
    groupId: input.groupId,
    groupState: input.groupState,
    members: input.members,
    windowMs,
    samples,
    status: worstStatus(rows.map((r) => r.status)),
    totalLag: rows.reduce((sum, r) => sum + r.lag, 0),
    partitions: rows,
  };
}

/** "2m05s" measured, "~2m05s" estimated from the rate, "?" unknown (lag and no progress). */
export function formatTimeLag(row: Pick<LagRow, 'timeLagMs' | 'timeLagSource'>): string {
  if (row.timeLagMs === null) return '?';
  if (row.timeLagMs === 0) return '0s';
  return `${row.timeLagSource === 'lag/rate' ? '~' : ''}${formatDuration(row.timeLagMs)}`;
}

export function formatLagTable(report: LagReport): string {
  const header = ['TOPIC', 'PARTITION', 'COMMITTED', 'END', 'LAG', 'TIME LAG', 'CONSUMED/S', 'STATUS', 'WHY'];
  const body = report.partitions.map((r) => [
    r.topic,
    String(r.partition),
    r.committed ?? '-',
    r.end,
    String(r.lag),
    formatTimeLag(r),
    formatRate(r.consumeRate),
    r.status,
    r.reason,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [
    `group ${report.groupId}: ${report.status}  (state ${report.groupState}, ${report.members} member${report.members === 1 ? '' : 's'}, ` +
      `total lag ${report.totalLag}, ${report.samples} samples over ${formatDuration(report.windowMs)})`,
    '',
    line(header),
    ...body.map(line),
  ];
  if (report.partitions.some((r) => r.timeLagSource === 'lag/rate')) {
    out.push(
      '',
      'TIME LAG: age of the first unconsumed record (its Kafka timestamp); ~ = estimated as lag / consumption rate.',
    );
  } else if (report.partitions.some((r) => r.timeLagSource === 'record-timestamp')) {
    out.push('', 'TIME LAG: age of the first unconsumed record (its Kafka timestamp).');
  }
  return `${out.join('\n')}\n`;
}
