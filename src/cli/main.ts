// cognito-sync: one command per job an operator has.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../errors.js';
import { EXIT } from './exit-codes.js';
import { registerRun } from './commands/run.js';
import { registerValidateConfig } from './commands/validate-config.js';
import { registerDemo } from './commands/demo.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerLag } from './commands/lag.js';
import { registerReplay } from './commands/replay.js';
import { registerDlq } from './commands/dlq.js';
import { registerAssess } from './commands/assess.js';
import { registerCheckPool } from './commands/check-pool.js';
import { registerReconcile } from './commands/reconcile.js';
import { registerCheckSource } from './commands/check-source.js';
import { registerCutoverCheck } from './commands/cutover-check.js';
import { registerImport } from './commands/import.js';

/** The package's version, found by walking up from this module (src/ under tests, dist/src/ when built). */
function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}

export function buildProgram(): Command {
  const program = new Command('cognito-sync')
    .description('Keep an Amazon Cognito user pool in sync with a legacy user database through Debezium and Kafka.')
    .version(packageVersion())
    .exitOverride();
  registerRun(program);
  registerValidateConfig(program);
  registerDemo(program);
  registerLag(program);
  registerReplay(program);
  registerDlq(program);
  registerAssess(program);
  registerCheckPool(program);
  registerCheckSource(program);
  registerReconcile(program);
  registerCutoverCheck(program);
  registerImport(program);
  oneLineErrors(program);
  return program;
}

/**
 * A usage error is one line on stderr naming the problem and where the help is, exit 2:
 * `cognito-sync dlq list: unknown option '--bogus' (see cognito-sync dlq list --help)`.
 * (The full help after every error buried the one line that mattered.)
 */
function oneLineErrors(command: Command, path = command.name()): void {
  command.configureOutput({
    outputError: (message, write) =>
      write(
        `${path}: ${message
          .replace(/^error: /, '')
          .trim()
          .replace(/\s*\n\s*/g, ' ')} (see ${path} --help)\n`,
      ),
  });
  for (const sub of command.commands) oneLineErrors(sub, `${path} ${sub.name()}`);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`cognito-sync: ${error.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`cognito-sync: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failure;
  }
}
