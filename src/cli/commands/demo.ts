import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EXIT } from '../exit-codes.js';
import { integerArg } from '../args.js';

/** dist/src/cli/commands -> the package root, where scripts/ lives. */
const packageRoot = (): string => fileURLToPath(new URL('../../../../', import.meta.url));

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'Start the local stack (PostgreSQL, Kafka, Debezium, Apicurio, cognito-local), seed legacy users and sync them into Cognito (same as npm run demo).',
    )
    // Checked here: a typo must not start the whole stack before the seeding step fails.
    .option('--users <n>', 'legacy users to seed', integerArg(1), 300)
    .action((opts: { users: number }) => {
      const script = `${packageRoot()}scripts/demo.sh`;
      if (!existsSync(script)) {
        process.stderr.write(
          `cognito-sync: the demo needs the project's scripts (${script} not found): run it from a clone of the repository\n`,
        );
        process.exitCode = EXIT.usage;
        return;
      }
      const out = spawnSync('bash', [script], {
        stdio: 'inherit',
        env: { ...process.env, DEMO_USERS: String(opts.users) },
      });
      process.exitCode = out.status === 0 ? EXIT.ok : EXIT.failure;
    });
}
