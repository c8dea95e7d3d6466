import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { loadCompiledMapping } from '../../runtime/pipeline-factory.js';
import { ConfigError, errorMessage } from '../../errors.js';
import { formatProblem, type SourceProblem } from '../../migration/source-check.js';
import { EXIT } from '../exit-codes.js';
import { sourceProblems } from '../source-check.js';

export function registerCheckSource(program: Command): void {
  program
    .command('check-source')
    .description(
      "Check the legacy database (legacyDatabase.url) against the mapping: the users and roles tables' keys and REPLICA IDENTITY (PostgreSQL) " +
        'or binlog_format/binlog_row_image (MySQL/MariaDB), so that every delete and update carries what the sync needs. ' +
        'Each problem is printed with the statement that fixes it. Exit 0 when the source is fit, 2 with the problems otherwise (run refuses to start on them too), 1 when the database cannot be read.',
    )
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { config: string; json?: boolean }) => {
      const config = loadConfig(opts.config);
      if (!config.legacyDatabase?.url)
        throw new ConfigError('check-source needs legacyDatabase.url in the config: the database to check', [
          { path: 'legacyDatabase.url', message: 'required by check-source' },
        ]);
      const mapping = await loadCompiledMapping(config.mappingPath);
      let problems: SourceProblem[];
      try {
        problems = await sourceProblems(config, mapping);
      } catch (error) {
        process.stderr.write(`cognito-sync: check-source: cannot read the legacy database: ${errorMessage(error)}\n`);
        process.exitCode = EXIT.failure;
        return;
      }
      if (opts.json) process.stdout.write(`${JSON.stringify({ fit: problems.length === 0, problems }, null, 2)}\n`);
      else if (problems.length === 0)
        process.stdout.write(
          'ok: the legacy source sends what the mapping needs (keys and replica identity checked)\n',
        );
      else for (const p of problems) process.stderr.write(`problem: ${formatProblem(p)}\n`);
      process.exitCode = problems.length === 0 ? EXIT.ok : EXIT.usage;
    });
}
