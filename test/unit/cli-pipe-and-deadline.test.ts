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
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      done({ status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), ms: Date.now() - started });
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
    writeFileSync(path, JSON.stringify({ kafka: { brokers, topics: ['t'] }, cognito: { userPoolId: 'us-east-1_x', region: 'us-east-1' }, mapping: 'm.yaml' }));
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
