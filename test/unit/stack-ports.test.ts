// The stack scripts talk to the stack they started, from any shell (#18): up.sh remembers its
// ports in $STACK_DIR/ports, and status/down/the demo read them instead of the defaults. A
// stack that is not running is reported "stopped" (exit 1), never probed on another port.
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../..');
const stackDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'stack-ports-'));
  writeFileSync(join(dir, 'ports'), 'PG_PORT=25432\nKAFKA_PORT=29092\nCOGNITO_PORT=29229\n');
  return dir;
};
const bash = (script: string, env: Record<string, string>): ReturnType<typeof spawnSync> =>
  spawnSync('bash', ['-c', script], { cwd: REPO, env: { PATH: '/usr/bin:/bin', ...env }, encoding: 'utf8' });

describe('remembered stack ports', () => {
  test('a fresh shell gets the ports the stack was started with; an explicit variable still wins', () => {
    const dir = stackDir();
    const fresh = bash('source scripts/stack/lib.sh; echo "$PG_URL $KAFKA_BROKERS $COGNITO_ENDPOINT"', {
      STACK_DIR: dir,
    });
    expect(String(fresh.stdout).trim()).toBe(
      'postgres://legacy_app:legacy_app@127.0.0.1:25432/legacy 127.0.0.1:29092 http://127.0.0.1:29229',
    );
    const explicit = bash('source scripts/stack/lib.sh; echo "$PG_PORT"', { STACK_DIR: dir, PG_PORT: '35432' });
    expect(String(explicit.stdout).trim()).toBe('35432');
  });

  test('status of a stack that is not running says stopped at its own addresses and exits 1', () => {
    const status = bash('bash scripts/stack/status.sh', { STACK_DIR: stackDir() });
    expect(status.status).toBe(1);
    expect(String(status.stdout)).toMatch(/^postgres\s+stopped\s+pid -\s+postgres:\/\/\S+:25432\/legacy$/m);
    expect(String(status.stdout)).toMatch(/^cognito\s+stopped\s+pid -\s+http:\/\/127\.0\.0\.1:29229$/m);
    expect(String(status.stdout)).not.toMatch(/healthy/);
  });
});
