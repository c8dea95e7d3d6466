// The stack the fault suite runs against, and how it stops and starts single components.
//
// Which stack: $STACK_DIR (default <repo>/.stack, the one `npm test` starts). The connection
// settings come from $STACK_DIR/env.json (written by scripts/stack/up.sh); the stack scripts are
// called with this process's environment, so the same STACK_DIR and *_PORT variables that
// started an isolated instance reach them (see scripts/faults/stack-env.sh).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { waitFor, type StackEnv as E2eStackEnv } from '../../e2e/support/stack.js';

export const REPO = resolve(import.meta.dirname, '../../..');
export const STACK_DIR = process.env.STACK_DIR ? resolve(process.env.STACK_DIR) : join(REPO, '.stack');
/** FAULTS_LONG=1: longer loads, more repetitions. */
export const LONG = process.env.FAULTS_LONG === '1';
/** Scratch space of this suite: configs, per-process logs, the summary. */
export const FAULTS_DIR = join(STACK_DIR, 'faults');
export const REPORT_DIR = join(STACK_DIR, 'test-reports');
mkdirSync(join(FAULTS_DIR, 'logs'), { recursive: true });

/** The e2e tests' view of the stack (minus the demo pool, which scenarios never use), plus where it lives. */
export type StackEnv = Omit<E2eStackEnv, 'COGNITO_USER_POOL_ID'> & { STACK_DIR: string };

export function stackEnv(): StackEnv {
  const file = join(STACK_DIR, 'env.json');
  let env: StackEnv;
  try {
    env = JSON.parse(readFileSync(file, 'utf8')) as StackEnv;
  } catch (error) {
    throw new Error(
      `the fault suite needs a running stack: ${file} is missing (STACK_DIR=${STACK_DIR}; run "npm run stack:up" with the same environment)`,
      { cause: error },
    );
  }
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  return env;
}

export type Component = 'postgres' | 'kafka' | 'connect' | 'registry' | 'cognito';

export interface ScriptResult {
  code: number | null;
  out: string;
  ms: number;
}

/** Runs scripts/stack/<name>.sh with STACK_DIR (and the caller's ports) set; rejects on failure. */
export function stackScript(
  name: 'up' | 'down' | 'status' | 'connector',
  args: string[] = [],
  extraEnv: Record<string, string> = {},
  allowFail = false,
): Promise<ScriptResult> {
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', [join(REPO, 'scripts/stack', `${name}.sh`), ...args], {
      cwd: REPO,
      env: { ...process.env, STACK_DIR, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const result = { code, out, ms: Date.now() - started };
      if (code !== 0 && !allowFail)
        reject(new Error(`scripts/stack/${name}.sh ${args.join(' ')} exited ${code}:\n${out}`));
      else resolvePromise(result);
    });
  });
}

/** Graceful stop of one component (SIGTERM, as scripts/stack/down.sh does it). */
export const stopComponent = (c: Component): Promise<ScriptResult> => stackScript('down', [], { STACK_COMPONENTS: c });

/** Start one component and wait until it is ready (up.sh is idempotent for the others). */
export const startComponent = (c: Component): Promise<ScriptResult> => stackScript('up', [], { STACK_COMPONENTS: c });

/** Every component healthy (status.sh exit code), e.g. before a scenario starts. */
export async function stackHealthy(): Promise<boolean> {
  return (await stackScript('status', ['--quiet'], {}, true)).code === 0;
}

/**
 * A crash: SIGKILL the component's recorded pid (only a process this stack started: its command
 * line or environment names STACK_DIR, as pid_alive in lib.sh checks) and wait until it is gone.
 */
export async function crashComponent(c: Component): Promise<number> {
  const pid = Number(
    readFileSync(join(STACK_DIR, 'pids', `${c}.pid`), 'utf8')
      .trim()
      .split('\n')[0],
  );
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no pid recorded for ${c}`);
  const ours = (file: string): boolean => {
    try {
      return readFileSync(`/proc/${pid}/${file}`)
        .toString('utf8')
        .replace(/\0/g, ' ')
        .includes(file === 'environ' ? `CDC_STACK_DIR=${STACK_DIR}` : STACK_DIR);
    } catch {
      return false;
    }
  };
  if (!ours('cmdline') && !ours('environ')) throw new Error(`pid ${pid} of ${c} does not belong to ${STACK_DIR}`);
  process.kill(pid, 'SIGKILL');
  await waitFor(`${c} (pid ${pid}) to die`, async () => !alive(pid), 30_000, 100);
  return pid;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export { waitFor };

/** A fault's duration: a deliberate, timed interval (never a stand-in for readiness). */
export const hold = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const runId = (): string => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
