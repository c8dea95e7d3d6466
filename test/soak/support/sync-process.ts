// The sync under test as an operator runs it: `bin/cognito-sync.js run --config F`, a child
// process with its own logs. Shared by the soak and the bad-input e2e test.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../../..');

export interface SyncProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  /** The ops URL from the "sync running" log line. */
  readonly opsUrl: Promise<string>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly running: boolean;
  /** SIGTERM, then wait (SIGKILL after timeoutMs); how it ended and how long it took. */
  stop(
    timeoutMs?: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number; killed: boolean }>;
  /** The log so far (stdout and stderr, pino JSON lines and anything else). */
  log(): string;
}

export function startSyncProcess(o: {
  configPath: string;
  logFile: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
}): SyncProcess {
  const child = spawn(
    process.execPath,
    [join(REPO, 'bin/cognito-sync.js'), 'run', '--config', o.configPath, ...(o.args ?? [])],
    {
      cwd: REPO,
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
        ...o.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const out: WriteStream = createWriteStream(o.logFile);
  let running = true;
  let resolveOps!: (url: string) => void;
  let rejectOps!: (error: Error) => void;
  const opsUrl = new Promise<string>((res, rej) => {
    resolveOps = res;
    rejectOps = rej;
  });
  opsUrl.catch(() => undefined);
  let pending = '';
  child.stdout!.on('data', (d: Buffer) => {
    out.write(d);
    pending += d.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.includes('"sync running"')) {
        try {
          resolveOps(String((JSON.parse(line) as { ops: string }).ops));
        } catch {
          /* not JSON: keep waiting */
        }
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => out.write(d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.on('exit', (code, signal) => {
      running = false;
      rejectOps(
        new Error(`cognito-sync run exited (code ${code}, signal ${signal}) before it was running; see ${o.logFile}`),
      );
      out.end(() => res({ code, signal }));
    });
  });
  return {
    child,
    pid: child.pid!,
    logFile: o.logFile,
    opsUrl,
    exited,
    get running() {
      return running;
    },
    async stop(timeoutMs = 60_000) {
      const started = Date.now();
      if (!running) return { ...(await exited), ms: 0, killed: false };
      child.kill('SIGTERM');
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return { ...result, ms: Date.now() - started, killed };
    },
    log: () => readFileSync(o.logFile, 'utf8'),
  };
}

/** Resident set size of a process in bytes, from /proc (null once it is gone). */
export function rssOf(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** GET on the ops port (or anywhere): status and body; rejects on connection errors. */
export function httpGet(url: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (c: string) => (body += c));
      response.on('end', () => res({ status: response.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', rej);
    req.end();
  });
}

/** The local address a TCP port listens on, from /proc/net/tcp{,6} (e.g. "127.0.0.1"), or null. */
export function listenAddressOf(port: number): string[] {
  const found: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== '0A') continue; // 0A = LISTEN
      const [addrHex, portHex] = cols[1]!.split(':');
      if (parseInt(portHex!, 16) !== port) continue;
      if (addrHex!.length === 8) {
        // little-endian IPv4
        found.push([3, 2, 1, 0].map((i) => parseInt(addrHex!.slice(i * 2, i * 2 + 2), 16)).join('.'));
      } else {
        found.push(
          addrHex === '00000000000000000000000000000000'
            ? '::'
            : addrHex === '00000000000000000000000001000000'
              ? '::1'
              : `ipv6:${addrHex}`,
        );
      }
    }
  }
  return found;
}
