// What the built binary (bin/cognito-sync.js) hands to a script or a pipe: the whole output,
// however large, and one plain line (not two minutes of retries) when a dependency is not
// there. No stack needed: the "dependencies" are closed local ports.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../..');
const BIN = join(REPO, 'bin/cognito-sync.js');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The binary as a child process whose stdout and stderr are pipes, read as a script would. */
function binary(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((done) => {
    const started = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      done({
        status,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        ms: Date.now() - started,
      });
    });
  });
}

/** A local port nobody listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-pipe-'));
});

describe('output through a pipe', () => {
  // validate-config reports every bad field: 4,000 bad broker entries make a report of
  // ~250 KB, nearly four times a Linux pipe's buffer, with no service involved.
  const BAD = 4000;
  const bigBadConfig = (): string => {
    const path = join(dir, 'many-bad-brokers.json');
    const brokers = Array.from({ length: BAD }, (_, i) => `not a broker ${i}`);
    writeFileSync(
      path,
      JSON.stringify({
        kafka: { brokers, topics: ['t'] },
        cognito: { userPoolId: 'us-east-1_x', region: 'us-east-1' },
        mapping: 'm.yaml',
      }),
    );
    return path;
  };

  test('a --json report far larger than the pipe buffer reaches the reader whole and parses', async () => {
    const run = await binary(['validate-config', '--config', bigBadConfig(), '--json']);
    expect(run.stdout.length).toBeGreaterThan(3 * 65_536);
    const report = JSON.parse(run.stdout) as { valid: boolean; issues: { path: string }[] };
    expect(report.valid).toBe(false);
    expect(report.issues).toHaveLength(BAD);
    expect(report.issues[BAD - 1]!.path).toBe(`kafka.brokers[${BAD - 1}]`);
    expect(run.status).toBe(2);
  });

  test('a long plain-text report on stderr is not cut off either', async () => {
    const run = await binary(['validate-config', '--config', bigBadConfig()]);
    expect(run.status).toBe(2);
    const issueLines = run.stderr.split('\n').filter((l) => /^ {2}kafka\.brokers\[\d+\]: /.test(l));
    expect(issueLines).toHaveLength(BAD);
  });
});

describe('a dependency that does not answer', () => {
  const DEADLINE_MS = 3000;
  async function configFor(name: string, extra: Record<string, unknown> = {}): Promise<{ path: string; port: number }> {
    const port = await closedPort();
    const path = join(dir, `${name}.json`);
    writeFileSync(
      path,
      JSON.stringify({
        kafka: { brokers: [`127.0.0.1:${port}`], topics: ['legacy.public.users'] },
        cognito: { userPoolId: 'local_deadline', region: 'us-east-1', endpoint: `http://127.0.0.1:${port}` },
        mapping: join(REPO, 'examples/mapping.yaml'),
        connectTimeoutMs: DEADLINE_MS,
        ops: { port: 0 },
        ...extra,
      }),
    );
    return { path, port };
  }

  /** Exit 1, ONE plain sentence on stderr naming the dependency and its address, no stack. */
  function expectOnePlainLine(run: Run, port: number): void {
    const where = `status ${run.status} after ${run.ms} ms\nstderr: ${run.stderr}\nstdout: ${run.stdout}`;
    expect({ where, status: run.status }).toEqual({ where, status: 1 });
    const lines = run.stderr.trimEnd().split('\n');
    expect({ where, lines: lines.length }).toEqual({ where, lines: 1 });
    expect(lines[0]).toBe(
      `cognito-sync: cannot reach the Kafka broker at 127.0.0.1:${port} within ${DEADLINE_MS / 1000}s (connection refused): check kafka.brokers and that it is running`,
    );
    expect(run.stderr).not.toMatch(/\n\s+at |node:internal|"level"/);
  }

  test('run with a wrong broker address fails within the deadline: one plain line, exit 1, nothing else', async () => {
    const { path, port } = await configFor('run-closed-broker');
    const run = await binary(['run', '--config', path]);
    expectOnePlainLine(run, port);
    // Retried until the deadline (a restarting broker gets that long), then no longer: kafkajs
    // alone took over two minutes. The slack is the process start on a busy 2-core machine.
    expect(run.ms).toBeGreaterThanOrEqual(DEADLINE_MS);
    expect(run.ms).toBeLessThan(DEADLINE_MS + 7000);
    // Nothing was started, so nothing was logged (the ops port was never bound).
    expect(run.stdout).toBe('');
  });

  test('lag, replay and dlq list fail the same way', async () => {
    const { path, port } = await configFor('ops-closed-broker');
    const runs = await Promise.all([
      binary(['lag', '--config', path, '--window', '1s', '--samples', '2']),
      binary(['replay', '--config', path, '--from-earliest', '--dry-run']),
      binary(['dlq', 'list', '--config', path, '--json']),
    ]);
    for (const run of runs) {
      expectOnePlainLine(run, port);
      expect(run.stdout).toBe('');
    }
  });

  test('check-pool with a Cognito endpoint that does not answer: one plain line naming it, exit 1', async () => {
    const { path, port } = await configFor('cognito-closed');
    const run = await binary(['check-pool', '--config', path]);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      `cognito-sync: cannot reach the Cognito endpoint at 127.0.0.1:${port} within ${DEADLINE_MS / 1000}s (connection refused): check cognito.endpoint and that it is running\n`,
    );
    expect(run.ms).toBeLessThan(DEADLINE_MS + 7000);
  });

  test('connectTimeoutMs is validated like every other field', async () => {
    const { path } = await configFor('bad-deadline', { connectTimeoutMs: 'soon' });
    const run = await binary(['validate-config', '--config', path]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('connectTimeoutMs: ');
  });
});
