import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { loadCompiledMapping } from '../../runtime/pipeline-factory.js';
import { ConfigError } from '../../errors.js';
import { EXIT } from '../exit-codes.js';

export function registerValidateConfig(program: Command): void {
  program
    .command('validate-config')
    .description('Check the config file and the mapping it names, offline. Exit 0 when valid, 2 with each bad field named otherwise.')
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { config: string; json?: boolean }) => {
      try {
        const config = loadConfig(opts.config);
        await loadCompiledMapping(config.mappingPath);
        if (opts.json) process.stdout.write(`${JSON.stringify({ valid: true, config: opts.config, mapping: config.mappingPath })}\n`);
        else process.stdout.write(`ok: ${opts.config} and mapping ${config.mappingPath} are valid\n`);
        process.exitCode = EXIT.ok;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        if (opts.json) process.stdout.write(`${JSON.stringify({ valid: false, issues: error.issues })}\n`);
        else process.stderr.write(`cognito-sync: ${error.message}\n`);
        process.exitCode = EXIT.usage;
      }
    });
}
