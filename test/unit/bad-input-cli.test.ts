// Bad input at the command line, for every command `cognito-sync --help` lists: unknown
// commands and options, missing required options, missing and invalid values. Each gets exit
// code 2 and ONE line on stderr naming the problem, no stack trace, nothing on stdout, and
// nothing is started (the config points at closed ports: a command that tried to connect
// would fail with exit 1 instead, or hang). The matrix runs the built CLI's `main()` many times
// in one process (fast); a sample runs bin/cognito-sync.js itself, one process per call.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../..');
const BIN = join(REPO, 'bin/cognito-sync.js');

interface Run {
  args: string[];
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A driver that runs the built CLI's `main()` once per argv in ONE node process, capturing
 * stdout/stderr per run: what the binary does, without paying a process start per case.
 * (src/cli/main.ts finds package.json relative to dist/, so the matrix runs the build.)
 */
const DRIVER = `
import { main } from ${JSON.stringify(`file://${join(REPO, 'dist/src/cli/main.js')}`)};
const cases = JSON.parse(process.argv[2]);
const write = { out: process.stdout.write.bind(process.stdout) };
const results = [];
for (const args of cases) {
  let stdout = '', stderr = '';
  process.stdout.write = (c) => ((stdout += String(c)), true);
  process.stderr.write = (c) => ((stderr += String(c)), true);
  process.exitCode = undefined;
  let status;
  try { status = await main(['node', 'cognito-sync', ...args]); }
  catch (e) { stderr += 'THREW: ' + (e && e.stack || String(e)) + '\\n'; status = null; }
  results.push({ args, status, stdout, stderr });
}
write.out('\\n@@RESULTS@@' + JSON.stringify(results) + '\\n', () => process.exit(0));
`;
let driverPath: string;

/** Runs many CLI invocations through the driver (one process). */
function all(cases: string[][]): Promise<Run[]> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [driverPath, JSON.stringify(cases)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A case that got as far as connecting somewhere would hang the driver: fail, don't wait.
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', () => {
      clearTimeout(timer);
      const at = stdout.lastIndexOf('@@RESULTS@@');
      if (at < 0)
        return fail(
          new Error(`the CLI driver did not report (is the build current? npm run build)\n${stdout}\n${stderr}`),
        );
      done(JSON.parse(stdout.slice(at + '@@RESULTS@@'.length)) as Run[]);
    });
  });
}

const cli = async (args: string[]): Promise<Run> => (await all([args]))[0]!;

/** The built binary as a child process. */
function binary(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      done({ args, status, stdout, stderr });
    });
  });
}

/** The usage-error contract, with the argv in the failure message. */
function expectUsageError(run: Run, names: RegExp): void {
  const where = `cognito-sync ${run.args.join(' ')}\nstatus ${run.status}\nstderr: ${run.stderr}\nstdout: ${run.stdout}`;
  expect({ where, status: run.status }).toEqual({ where, status: 2 });
  const lines = run.stderr.trimEnd().split('\n');
  expect({ where, lines: lines.length }).toEqual({ where, lines: 1 });
  expect({ where, names: names.test(lines[0]!) }).toEqual({ where, names: true });
  expect({ where, stack: /\n\s+at |Error:|node:internal/.test(run.stderr) }).toEqual({ where, stack: false });
  expect({ where, stdout: run.stdout }).toEqual({ where, stdout: '' });
}

let config: string;
let leaves: string[][];

/** Other options a command requires, so that the case under test is the only thing wrong. */
const REQUIRED: Record<string, string[]> = { replay: ['--from-earliest'], 'dlq inspect': ['--offset', '0'] };
const withConfig = (leaf: string[], path = config): string[] => [
  ...leaf,
  ...(leaf[0] === 'demo' ? [] : ['-c', path, ...(REQUIRED[leaf.join(' ')] ?? [])]),
];

/** Commands listed by `<prefix> --help`. */
async function commandsOf(prefix: string[]): Promise<string[]> {
  const help = await cli([...prefix, '--help']);
  expect(help.status).toBe(0);
  const section = help.stdout.split(/^Commands:$/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bad-input-cli-'));
  driverPath = join(dir, 'driver.mjs');
  writeFileSync(driverPath, DRIVER);
  config = join(dir, 'sync.yaml');
  // Valid, but every endpoint is a closed port: nothing here may get as far as connecting.
  writeFileSync(
    config,
    [
      'kafka: { brokers: ["127.0.0.1:1"], topics: [legacy.public.users] }',
      'cognito: { userPoolId: local_badinput, region: us-east-1, endpoint: "http://127.0.0.1:1" }',
      `mapping: ${join(REPO, 'examples/mapping.yaml')}`,
      'legacyDatabase: { url: "postgres://nobody:secret@127.0.0.1:1/none" }',
    ].join('\n'),
  );
  const top = await commandsOf([]);
  leaves = [];
  for (const command of top) {
    const subs = await commandsOf([command]);
    if (subs.length === 0) leaves.push([command]);
    else for (const sub of subs) leaves.push([command, sub]);
  }
}, 60_000);

describe('cognito-sync --help', () => {
  test('lists every command of the design (run, replay, lag, dlq, assess, check-pool, reconcile, validate-config, demo)', async () => {
    const top = await commandsOf([]);
    for (const command of [
      'run',
      'replay',
      'lag',
      'dlq',
      'assess',
      'check-pool',
      'reconcile',
      'validate-config',
      'demo',
    ])
      expect(top).toContain(command);
    expect(leaves.map((l) => l.join(' '))).toEqual(expect.arrayContaining(['dlq list', 'dlq inspect', 'dlq redrive']));
  });

  test('every command has --help (exit 0, usage on stdout)', async () => {
    for (const run of await all(leaves.map((l) => [...l, '--help']))) {
      expect({ args: run.args, status: run.status }).toEqual({ args: run.args, status: 0 });
      expect(run.stdout).toContain(`Usage: cognito-sync ${run.args.slice(0, -1).join(' ')}`);
    }
  });
});

describe('every command refuses bad arguments with exit 2 and one line', () => {
  test('unknown commands and subcommands', async () => {
    const runs = await all([['frobnicate'], ['dlq', 'frobnicate'], ['rnu', '-c', 'x'], ['--bogus']]);
    expectUsageError(runs[0]!, /unknown command 'frobnicate'/);
    expectUsageError(runs[1]!, /unknown command 'frobnicate'/);
    expectUsageError(runs[2]!, /unknown command 'rnu'.*run/); // with a suggestion
    expectUsageError(runs[3]!, /unknown option '--bogus'/);
  });

  test('an unknown option, on every command', async () => {
    const runs = await all(leaves.map((l) => [...withConfig(l), '--no-such-option']));
    for (const run of runs) expectUsageError(run, /unknown option '--no-such-option'/);
  });

  test('a stray positional argument, on every command', async () => {
    const runs = await all(leaves.map((l) => [...withConfig(l), 'stray']));
    for (const run of runs) expectUsageError(run, /too many arguments.*Expected 0 arguments but got 1/);
  });

  test('a missing --config, and --config without its value, on every command that reads one', async () => {
    const needConfig = leaves.filter((l) => l[0] !== 'demo');
    for (const run of await all(needConfig))
      expectUsageError(run, /required option '-c, --config <file>' not specified/);
    for (const run of await all(needConfig.map((l) => [...l, '--config'])))
      expectUsageError(run, /option '-c, --config <file>' argument missing/);
  });

  test('a config file that does not exist names the file, on every command that reads one', async () => {
    const runs = await all(leaves.filter((l) => l[0] !== 'demo').map((l) => withConfig(l, '/nonexistent/sync.yaml')));
    for (const run of runs) expectUsageError(run, /cannot read config file \/nonexistent\/sync\.yaml/);
  });

  test('invalid option values name the option (before anything connects)', async () => {
    const c = ['-c', 'CONFIG'];
    const cases: [string[], RegExp][] = [
      [['lag', ...c, '--window', '0s'], /--window.*must be positive/],
      [['lag', ...c, '--window', 'soon'], /--window.*invalid duration/],
      [['lag', ...c, '--samples', '1'], /--samples.*'1' is invalid/],
      [['lag', ...c, '--samples', 'many'], /--samples.*'many' is invalid/],
      [['replay', ...c], /say where to replay from/],
      [
        ['replay', ...c, '--from-earliest', '--from-timestamp', '2024-01-01T00:00:00Z'],
        /choose one of --from-earliest, --from-timestamp/,
      ],
      [['replay', ...c, '--from-timestamp', 'yesterday'], /--from-timestamp: "yesterday" is not an ISO-8601/],
      [['replay', ...c, '--to-offsets', 'legacy.public.users'], /--to-offsets: .* is not topic:partition=offset/],
      [['replay', ...c, '--to-offsets', 'legacy.public.users:0=-5'], /--to-offsets/],
      [['replay', ...c, '--from-earliest', '--dry-run', '--run'], /--dry-run and --run exclude each other/],
      // stdin is not a terminal here: a real reset needs --yes, refused before connecting.
      [['replay', ...c, '--from-earliest'], /resets the committed offsets .*add --yes/],
      [['replay', ...c, '--from-earliest', '--group', ''], /--group.*non-empty name/],
      [['replay', ...c, '--from-earliest', '--group', '  '], /--group.*non-empty name/],
      [['dlq', 'list', ...c, '--limit', '0'], /--limit.*integer >= 1/],
      [['dlq', 'list', ...c, '--limit', 'lots'], /--limit.*integer >= 1/],
      [['dlq', 'list', ...c, '--from-offset', '-1'], /--from-offset.*non-negative offset/],
      [['dlq', 'list', ...c, '--partition', 'first'], /--partition.*integer >= 0/],
      [['dlq', 'inspect', ...c], /required option '--offset <n>' not specified/],
      [['dlq', 'inspect', ...c, '--offset', '1e3'], /--offset.*non-negative offset/],
      [['dlq', 'redrive', ...c, '--retry-for', 'forever'], /--retry-for.*invalid duration/],
      [['assess', ...c, '--examples', 'abc'], /--examples.*integer >= 0/],
      [['assess', ...c, '--examples', '-1'], /--examples.*integer >= 0/],
      [['assess', ...c, '--db-url', 'sqlserver://legacy'], /--db-url: expected a postgres:\/\/.*mariadb:\/\/ URL/],
      [['reconcile', ...c, '--examples', '2.5'], /--examples.*integer >= 0/],
      [['reconcile', ...c, '--delete-extra'], /--delete-extra needs --repair/],
      [['reconcile', ...c, '--db-url', ''], /no legacy database/],
      [['check-pool', ...c, '--apply=yes'], /unknown option '--apply=yes'/],
      [['demo', '--users', 'abc'], /--users.*integer >= 1/],
      [['demo', '--users', '0'], /--users.*integer >= 1/],
      [['demo', '--users'], /--users <n>' argument missing/],
    ];
    const runs = await all(cases.map(([args]) => args.map((a) => (a === 'CONFIG' ? config : a))));
    for (const [i, run] of runs.entries()) expectUsageError(run, cases[i]![1]);
  });

  test('a bad config or mapping stops every command with exit 2 before it connects', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bad-input-cli-'));
    const badConfig = join(dir, 'bad.yaml');
    writeFileSync(
      badConfig,
      'kafka: { brokers: [nohostport], topics: [t] }\ncognito: { userPoolId: local_x, region: r }\nmapping: m.yaml\n',
    );
    for (const run of await all(leaves.filter((l) => l[0] !== 'demo').map((l) => withConfig(l, badConfig)))) {
      expect({ args: run.args, status: run.status }).toEqual({ args: run.args, status: 2 });
      expect(run.stderr).toContain('kafka.brokers[0]: expected host:port');
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('the built binary (bin/cognito-sync.js) behaves the same', () => {
  test('usage errors: exit 2, one line, no stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['run', '-c', config, '--bogus'], /unknown option '--bogus'/],
      [['dlq', 'list'], /required option '-c, --config <file>' not specified/],
      [['lag', '-c', config, '--samples', '1'], /--samples.*'1' is invalid/],
      [['reconcile', '-c', config, '--examples', 'abc'], /--examples.*integer >= 0/],
      [['assess', '-c', '/nonexistent/sync.yaml'], /cannot read config file/],
    ];
    const runs = await Promise.all(cases.map(([args]) => binary(args)));
    for (const [i, run] of runs.entries()) expectUsageError(run, cases[i]![1]);
  });

  test('--help and --version exit 0', async () => {
    const [help, version] = await Promise.all([binary(['--help']), binary(['--version'])]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Commands:');
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
