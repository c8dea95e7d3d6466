// Progress of a backfill or catch-up that people can see: a live bar on a terminal, a
// structured log line every few seconds otherwise (CI, systemd, kubectl logs). It listens to
// the same SyncEvents and Cognito call hooks as the metrics, and to the lag polls of the
// caught-up watcher for the totals: position = committed offsets, goal = end offsets, both
// summed over partitions and counted from where this run started.
import cliProgress from 'cli-progress';
import type { CognitoCallEvent } from '../adapters/cognito/cognito-gateway.js';
import type { PartitionLag } from '../adapters/kafka/lag.js';
import type { QuotaCategory } from '../core/types.js';
import type { SyncEvents } from '../runtime/instrumentation.js';
import { formatDuration, formatRate } from './duration.js';
import type { Logger } from './logger.js';

const WRITE_CATEGORIES: ReadonlySet<QuotaCategory> = new Set(['UserCreation', 'UserUpdate', 'UserResourceUpdate']);

/** Rate of a growing counter over the last `windowMs`, from (time, value) points. */
export class RateWindow {
  private readonly points: [number, number][] = [];
  constructor(private readonly windowMs = 10_000) {}

  add(timeMs: number, value: number): void {
    this.points.push([timeMs, value]);
    while (this.points.length > 2 && this.points[1]![0] <= timeMs - this.windowMs) this.points.shift();
  }

  /** Per second; null until two points span some time. */
  rate(): number | null {
    if (this.points.length < 2) return null;
    const [t0, v0] = this.points[0]!;
    const [t1, v1] = this.points[this.points.length - 1]!;
    return t1 > t0 ? ((v1 - v0) * 1000) / (t1 - t0) : null;
  }
}

export interface ProgressSnapshot {
  elapsedMs: number;
  /** Messages committed since this run started, over all partitions. */
  done: number;
  /** done + what is left to the current end offsets; grows while the source writes. */
  total: number;
  remaining: number;
  /** Records that went through the pipeline (applied, skipped or DLQ). */
  records: number;
  dlq: number;
  cognitoCalls: number;
  /** Successful create/update/group calls: zero for a replay of an already-synced topic. */
  cognitoWrites: number;
  throttles: number;
  eventsPerSec: number | null;
  /** Records per second over the whole run: what the last line shows (the window has decayed by then). */
  averageEventsPerSec: number | null;
  callsPerSec: number | null;
  /** Committed messages per second: what the ETA is based on. */
  commitsPerSec: number | null;
  etaMs: number | null;
  /** False until the first lag poll: totals unknown. */
  known: boolean;
}

/** Counters and windows; the clock is passed in so tests need no timers. */
export class ProgressState {
  private readonly startedMs: number;
  private baseline = new Map<string, bigint>();
  private done = 0;
  private remaining = 0;
  private known = false;
  records = 0;
  dlq = 0;
  calls = 0;
  writes = 0;
  throttles = 0;
  private readonly eventRate = new RateWindow();
  private readonly callRate = new RateWindow();
  private readonly commitRate = new RateWindow(30_000);

  constructor(nowMs: number) {
    this.startedMs = nowMs;
  }

  onRecord(): void {
    this.records++;
  }

  onDlq(): void {
    this.dlq++;
  }

  onCall(e: Pick<CognitoCallEvent, 'outcome' | 'category'>): void {
    this.calls++;
    if (e.outcome === 'throttled') this.throttles++;
    if (e.outcome === 'ok' && e.category !== undefined && WRITE_CATEGORIES.has(e.category)) this.writes++;
  }

  /** A lag poll: the first one fixes the baseline every later position is counted from. */
  onLag(lags: readonly PartitionLag[], nowMs: number): void {
    let done = 0n;
    let remaining = 0;
    for (const l of lags) {
      const key = `${l.topic}:${l.partition}`;
      const position = BigInt(l.committed ?? l.start);
      if (!this.baseline.has(key)) this.baseline.set(key, position);
      const moved = position - this.baseline.get(key)!;
      done += moved > 0n ? moved : 0n;
      remaining += l.lag;
    }
    this.done = Number(done);
    this.remaining = remaining;
    this.known = true;
    this.commitRate.add(nowMs, this.done);
  }

  /** Called about once a second so the windows have points to compute rates from. */
  tick(nowMs: number): void {
    this.eventRate.add(nowMs, this.records);
    this.callRate.add(nowMs, this.calls);
  }

  snapshot(nowMs: number): ProgressSnapshot {
    const commitsPerSec = this.commitRate.rate();
    return {
      elapsedMs: nowMs - this.startedMs,
      done: this.done,
      total: this.done + this.remaining,
      remaining: this.remaining,
      records: this.records,
      dlq: this.dlq,
      cognitoCalls: this.calls,
      cognitoWrites: this.writes,
      throttles: this.throttles,
      eventsPerSec: this.eventRate.rate(),
      averageEventsPerSec: nowMs > this.startedMs ? (this.records * 1000) / (nowMs - this.startedMs) : null,
      callsPerSec: this.callRate.rate(),
      commitsPerSec,
      etaMs:
        this.remaining === 0 ? 0 : commitsPerSec && commitsPerSec > 0 ? (this.remaining / commitsPerSec) * 1000 : null,
      known: this.known,
    };
  }
}

export const percentOf = (s: Pick<ProgressSnapshot, 'done' | 'total'>): number =>
  s.total === 0 ? 100 : Math.floor((s.done / s.total) * 100);

/**
 * One line for people: "1200/5000 msgs (24%) | 310 ev/s | 42 Cognito calls/s (812 writes) | 3 throttled | 1 DLQ | ETA 12s".
 * The last one (`final`) gives the whole run's average rate and its duration instead.
 */
export function formatProgressLine(s: ProgressSnapshot, final = false): string {
  const position = s.known ? `${s.done}/${s.total} msgs (${percentOf(s)}%)` : 'waiting for partitions';
  return [
    position,
    final
      ? `${formatRate(s.averageEventsPerSec)} ev/s average over ${formatDuration(s.elapsedMs)}`
      : `${formatRate(s.eventsPerSec)} ev/s`,
    `${formatRate(s.callsPerSec)} Cognito calls/s (${s.cognitoWrites} writes)`,
    `${s.throttles} throttled`,
    `${s.dlq} DLQ`,
    s.known && s.remaining === 0 ? 'caught up' : `ETA ${s.etaMs === null ? '?' : formatDuration(s.etaMs)}`,
  ].join(' | ');
}

/** Fields of the structured progress log line: numbers stay numbers for log queries. */
export function progressLogFields(s: ProgressSnapshot): Record<string, unknown> {
  const round = (n: number | null): number | null => (n === null ? null : Math.round(n * 10) / 10);
  return {
    done: s.done,
    total: s.total,
    remaining: s.remaining,
    percent: s.known ? percentOf(s) : null,
    records: s.records,
    dlq: s.dlq,
    cognitoCalls: s.cognitoCalls,
    cognitoWrites: s.cognitoWrites,
    throttles: s.throttles,
    eventsPerSec: round(s.eventsPerSec),
    averageEventsPerSec: round(s.averageEventsPerSec),
    callsPerSec: round(s.callsPerSec),
    etaSeconds: s.etaMs === null ? null : Math.round(s.etaMs / 1000),
    elapsedSeconds: Math.round(s.elapsedMs / 1000),
  };
}

export type ProgressMode = 'bar' | 'log' | 'off';

/** A bar only where a person watches: the bar goes to stderr, so that is what must be a TTY. */
export const defaultProgressMode = (stream: { isTTY?: boolean } = process.stderr): ProgressMode =>
  stream.isTTY ? 'bar' : 'log';

export interface ProgressReporter {
  events: Partial<SyncEvents>;
  onCognitoCall(e: CognitoCallEvent): void;
  onLag(lags: readonly PartitionLag[]): void;
  /** Final render / final log line; safe to call twice. */
  stop(): void;
}

export interface ProgressOptions {
  mode: ProgressMode;
  logger: Logger;
  /** Seconds between log lines in 'log' mode. */
  logEveryMs?: number;
  label?: string;
  stream?: NodeJS.WritableStream;
}

export function startProgress(o: ProgressOptions): ProgressReporter {
  const state = new ProgressState(Date.now());
  const reporter: ProgressReporter = {
    events: {
      record: () => state.onRecord(),
      dlq: () => state.onDlq(),
    },
    onCognitoCall: (e) => state.onCall(e),
    onLag: (lags) => state.onLag(lags, Date.now()),
    stop: () => undefined,
  };
  if (o.mode === 'off') return reporter;

  const label = o.label ?? 'sync';
  let bar: cliProgress.SingleBar | undefined;
  if (o.mode === 'bar') {
    bar = new cliProgress.SingleBar(
      {
        format: `${label} {bar} {line}`,
        stream: o.stream ?? process.stderr,
        hideCursor: true,
        barsize: 30,
        fps: 4,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(1, 0, { line: 'waiting for partitions' });
  }
  let lastLog = Date.now();
  const render = (final: boolean): void => {
    const now = Date.now();
    state.tick(now);
    const s = state.snapshot(now);
    if (bar) {
      bar.setTotal(Math.max(1, s.total));
      bar.update(s.total === 0 ? 1 : s.done, { line: formatProgressLine(s, final) });
    } else if (final || now - lastLog >= (o.logEveryMs ?? 10_000)) {
      lastLog = now;
      o.logger.info({ progress: progressLogFields(s), label }, final ? 'progress: finished' : 'progress');
    }
  };
  const timer = setInterval(() => render(false), 1000);
  timer.unref();
  let stopped = false;
  reporter.stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    render(true);
    bar?.stop();
  };
  return reporter;
}
