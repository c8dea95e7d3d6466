// The real CLI (`bin/cognito-sync.js run`) as child processes, with what their pino log lines
// say: batches done (records, Cognito write calls), DLQ routings, group joins, crashes. Figures
// add up over every process a scenario started, so a SIGKILLed process's finished batches count.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { FAULTS_DIR, REPO, waitFor } from './stack.js';

export interface LogLine {
  level: number;
  msg: string;
  time?: string;
  batch?: { size: number; calls: number; users: number; commitOffset: string | null; topic: string; partition: number };
  assignment?: Record<string, number[]>;
  [key: string]: unknown;
}

export interface SyncTotals {
  /** Records in finished batches (redeliveries after a crash count again). */
  consumed: number;
  /** Cognito write calls made by finished batches. */
  writes: number;
  batches: number;
  /** Longest finished batch (ms). */
  maxBatchMs: number;
  dlqLogged: number;
  starts: number;
  kills: number;
}

export class SyncProcess {
  child!: ChildProcess;
  private lines: LogLine[] = [];
  private tail: string[] = [];
  private exitedPromise!: Promise<number | null>;
  exitCode: number | null | undefined;
  private log?: WriteStream;
  /** Starts per process name (across SyncProcess objects), so every run gets its own log file. */
  private static generations = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly configPath: string,
    readonly totals: SyncTotals,
  ) {}

  /** Starts (or restarts) the process; resolves once it has joined the group with partitions. */
  async start(opts: { waitForPartitions?: boolean } = {}): Promise<void> {
    const generation = (SyncProcess.generations.get(this.name) ?? 0) + 1;
    SyncProcess.generations.set(this.name, generation);
    this.lines = [];
    this.exitCode = undefined;
    this.totals.starts++;
    this.log = createWriteStream(join(FAULTS_DIR, 'logs', `${this.name}.${generation}.log`));
    this.child = spawn(process.execPath, [join(REPO, 'bin/cognito-sync.js'), 'run', '--config', this.configPath], {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffer = '';
    const onData = (d: Buffer): void => {
      this.log?.write(d);
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        this.onLine(line);
      }
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exitedPromise = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        this.log?.end();
        resolve(code);
      }),
    );
    await this.waitJoined(opts.waitForPartitions ?? true);
  }

  private onLine(raw: string): void {
    this.tail.push(raw);
    if (this.tail.length > 60) this.tail.shift();
    if (!raw.startsWith('{')) return;
    let line: LogLine;
    try {
      line = JSON.parse(raw) as LogLine;
    } catch {
      return;
    }
    this.lines.push(line);
    if (line.msg === 'batch done' && line.batch) {
      this.totals.consumed += line.batch.size;
      this.totals.writes += line.batch.calls;
      this.totals.batches++;
      this.totals.maxBatchMs = Math.max(
        this.totals.maxBatchMs,
        Math.round(Number((line.batch as { durationMs?: number }).durationMs ?? 0)),
      );
    } else if (line.msg === 'record sent to DLQ') this.totals.dlqLogged++;
  }

  /** The latest join of this process's current run gave it at least one partition (or just joined). */
  async waitJoined(withPartitions = true, timeoutMs = 90_000): Promise<void> {
    await waitFor(
      `${this.name} to join the consumer group`,
      async () => {
        if (this.exitCode !== undefined)
          throw new Error(`${this.name} exited with ${this.exitCode} before joining:\n${this.recentOutput()}`);
        const joins = this.lines.filter((l) => l.msg === 'joined consumer group');
        const last = joins[joins.length - 1];
        if (!last) return false;
        return !withPartitions || Object.values(last.assignment ?? {}).some((p) => p.length > 0);
      },
      timeoutMs,
      100,
    );
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Partitions of the last join, "topic:p". */
  get assignment(): string[] {
    const joins = this.lines.filter((l) => l.msg === 'joined consumer group');
    const last = joins[joins.length - 1];
    return Object.entries(last?.assignment ?? {}).flatMap(([t, ps]) => ps.map((p) => `${t}:${p}`));
  }

  count(msg: string): number {
    return this.lines.filter((l) => l.msg === msg).length;
  }

  /** SIGKILL (a crash) or SIGTERM (a graceful stop); resolves with the exit code once it is gone. */
  async kill(signal: 'SIGKILL' | 'SIGTERM'): Promise<number | null> {
    if (!this.running) return this.exitCode ?? null;
    if (signal === 'SIGKILL') this.totals.kills++;
    this.child.kill(signal);
    return this.exited();
  }

  /**
   * Graceful stop: SIGTERM, then the exit code once the process is gone. A process that logged
   * "sync stopped" but is still there `graceMs` later is SIGKILLed and reported as lingering
   * (exit code null): see the after-restart exit check in kafka-connect-restart.test.ts.
   */
  async stop(graceMs = 10_000): Promise<{ code: number | null; lingered: boolean }> {
    if (!this.running) return { code: this.exitCode ?? null, lingered: false };
    this.child.kill('SIGTERM');
    const stoppedLogged = waitFor(
      `${this.name} to log "sync stopped"`,
      async () => !this.running || this.count('sync stopped') > 0,
      120_000,
      50,
    );
    const outcome = await Promise.race([
      this.exited().then((code) => ({ code, lingered: false })),
      stoppedLogged.then(() => new Promise<void>((r) => setTimeout(r, graceMs).unref())).then(() => null),
    ]);
    if (outcome) return outcome;
    if (!this.running) return { code: this.exitCode ?? null, lingered: false };
    this.child.kill('SIGKILL');
    await this.exited();
    return { code: null, lingered: true };
  }

  exited(): Promise<number | null> {
    return this.exitedPromise;
  }

  recentOutput(): string {
    return this.tail.join('\n');
  }
}

export const newTotals = (): SyncTotals => ({
  consumed: 0,
  writes: 0,
  batches: 0,
  maxBatchMs: 0,
  dlqLogged: 0,
  starts: 0,
  kills: 0,
});
