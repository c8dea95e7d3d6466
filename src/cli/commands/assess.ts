import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { loadCompiledMapping } from '../../runtime/pipeline-factory.js';
import { assess } from '../../migration/assess.js';
import { formatAssess } from '../../migration/assess-report.js';
import { openLegacySource } from '../../migration/legacy-source.js';
import { toastTemplateWarnings } from '../../migration/toast-templates.js';
import { EXIT } from '../exit-codes.js';
import { integerArg } from '../args.js';

export function registerAssess(program: Command): void {
  program
    .command('assess')
    .description(
      'Scan the legacy users table through the mapping: coverage per column, values Cognito would reject (DLQ), ' +
        'duplicate emails/phones/preferred usernames, backfill duration at the configured rate. Exit 3 when rows would be refused.',
    )
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--db-url <url>', 'legacy database URL (default: legacyDatabase.url or COGNITO_SYNC_LEGACY_DATABASE__URL)')
    .option('--examples <n>', 'redacted examples per finding', integerArg(0), 3)
    .option('--json', 'print the report as JSON')
    .action(async (opts: { config: string; dbUrl?: string; examples: number; json?: boolean }) => {
      const config = loadConfig(opts.config);
      const mapping = await loadCompiledMapping(config.mappingPath);
      const source = await openLegacySource(config, mapping, opts.dbUrl);
      try {
        const report = await assess({
          ...source,
          mapping,
          examples: opts.examples,
          budget: config.budget,
          confirmCreated: config.cognito.createdUserStatus === 'CONFIRMED',
        });
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatAssess(report));
        const url = opts.dbUrl ?? config.legacyDatabase?.url;
        const readsRows = config.legacyDatabase?.url !== undefined;
        if (url)
          for (const warning of await toastTemplateWarnings(url, source.table, mapping, readsRows).catch(() => []))
            process.stderr.write(`${warning}\n`);
        const refused = report.dlq.rows + report.duplicates.reduce((n, d) => n + d.rows, 0);
        process.exitCode = refused > 0 ? EXIT.attention : EXIT.ok;
      } finally {
        await source.db.close();
      }
    });
}
