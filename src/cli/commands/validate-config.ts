import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { loadCompiledMapping } from '../../runtime/pipeline-factory.js';
import { ConfigError } from '../../errors.js';
import { EXIT } from '../exit-codes.js';
import { createLogger } from '../../ops/logger.js';
import { checkMappingColumns } from '../source-columns.js';
import { sourceProblems, sourceProblemsError } from '../source-check.js';
import { toastTemplateWarnings } from '../../migration/toast-templates.js';

export function registerValidateConfig(program: Command): void {
  program
    .command('validate-config')
    .description(
      'Check the config file and the mapping it names: offline, plus (when legacyDatabase.url is set) that every column the mapping reads exists in the legacy tables and that their keys and replica identity let deletes and updates carry what the mapping needs (see check-source). ' +
        'Exit 0 when valid, 2 with each bad field named otherwise.',
    )
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { config: string; json?: boolean }) => {
      try {
        const config = loadConfig(opts.config);
        const mapping = await loadCompiledMapping(config.mappingPath);
        const logger = createLogger({ level: 'warn', destination: process.stderr });
        const checked = config.legacyDatabase?.url
          ? await checkMappingColumns({ config, spec: mapping.spec, logger })
          : [];
        // The source's keys and replica identity: problems are ConfigErrors too (exit 2).
        const problems = config.legacyDatabase?.url ? await sourceProblems(config, mapping) : [];
        if (problems.length > 0) throw sourceProblemsError(problems);
        const columnsFrom = checked.map((k) => k.from);
        const url = config.legacyDatabase?.url;
        const warnings = url
          ? await toastTemplateWarnings(url, config.legacyDatabase?.table ?? mapping.usersTable, mapping, true).catch(
              () => [],
            )
          : [];
        for (const warning of warnings) process.stderr.write(`${warning}\n`);
        if (opts.json)
          process.stdout.write(
            `${JSON.stringify({ valid: true, config: opts.config, mapping: config.mappingPath, columnsCheckedAgainst: columnsFrom, warnings })}\n`,
          );
        else {
          process.stdout.write(`ok: ${opts.config} and mapping ${config.mappingPath} are valid\n`);
          process.stdout.write(
            columnsFrom.length > 0
              ? `ok: every column the mapping reads exists (${columnsFrom.join('; ')}); keys and replica identity fit the mapping\n`
              : 'columns not checked: set legacyDatabase.url to check them against the legacy tables (run checks them against the topics at start)\n',
          );
        }
        process.exitCode = EXIT.ok;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        if (opts.json) process.stdout.write(`${JSON.stringify({ valid: false, issues: error.issues })}\n`);
        else process.stderr.write(`cognito-sync: ${error.message}\n`);
        process.exitCode = EXIT.usage;
      }
    });
}
