import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { buildPipeline } from '../../runtime/pipeline-factory.js';
import { errorMessage } from '../../errors.js';
import { createLogger } from '../../ops/logger.js';
import { formatProblem, type SourceProblem } from '../../migration/source-check.js';
import { dependenciesOf, waitReachable } from '../../adapters/reachability.js';
import { EXIT } from '../exit-codes.js';
import { sourceProblems } from '../source-check.js';
import { topicFormProblems } from '../topic-form-check.js';

export function registerCheckSource(program: Command): void {
  program
    .command('check-source')
    .description(
      "Check the legacy source against the mapping: with legacyDatabase.url, the users and roles tables' keys and REPLICA IDENTITY (PostgreSQL) " +
        'or binlog_format/binlog_row_image (MySQL/MariaDB), so that every delete and update carries what the sync needs; and the newest records ' +
        'of the topics: ExtractNewRecordState rows without delete rewriting or positions. Each problem is printed with the statement or ' +
        'connector setting that fixes it. Exit 0 when the source is fit, 2 with the problems otherwise (run refuses to start on the database ones), ' +
        '1 when the database cannot be read.',
    )
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { config: string; json?: boolean }) => {
      const config = loadConfig(opts.config);
      const { mapping, decoder } = await buildPipeline(config);
      const logger = createLogger({ level: 'warn', destination: process.stderr });
      const notes: string[] = [];
      let problems: SourceProblem[] = [];
      if (config.legacyDatabase?.url) {
        try {
          problems = await sourceProblems(config, mapping);
          notes.push('database: keys and replica identity checked');
        } catch (error) {
          process.stderr.write(`cognito-sync: check-source: cannot read the legacy database: ${errorMessage(error)}\n`);
          process.exitCode = EXIT.failure;
          return;
        }
      } else notes.push('database: not checked (set legacyDatabase.url to check keys and replica identity)');
      const topics = await waitReachable(dependenciesOf(config, { kafka: true }), config.connectTimeoutMs).then(
        () => topicFormProblems(config, decoder, logger),
        (error: unknown) => ({ problems: [], checked: `not checked: ${errorMessage(error)}` }),
      );
      problems = [...problems, ...topics.problems];
      notes.push(`record form: ${topics.checked}`);
      if (opts.json)
        process.stdout.write(`${JSON.stringify({ fit: problems.length === 0, problems, notes }, null, 2)}\n`);
      else {
        for (const p of problems) process.stderr.write(`problem: ${formatProblem(p)}\n`);
        if (problems.length === 0) process.stdout.write('ok: the source sends what the mapping needs\n');
        for (const note of notes) process.stdout.write(`  ${note}\n`);
      }
      process.exitCode = problems.length === 0 ? EXIT.ok : EXIT.usage;
    });
}
