import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { createGateway, loadCompiledMapping } from '../../runtime/pipeline-factory.js';
import { checkPool, problemsOf, type CheckPoolOptions, type PoolFinding } from '../../migration/check-pool.js';
import { EXIT } from '../exit-codes.js';
import { dependenciesOf, waitReachable } from '../../adapters/reachability.js';

const line = (f: PoolFinding): string =>
  `  ${f.severity === 'problem' ? 'PROBLEM' : 'note   '} ${f.code}${f.attribute ? ` (${f.attribute})` : ''}: ${f.message}${f.fix ? ' [--apply adds it]' : ''}`;

export function registerCheckPool(program: Command): void {
  program
    .command('check-pool')
    .description(
      'Check the user pool against the mapping: custom attributes (missing, type, mutability), the version attribute, required attributes, ' +
        'username/alias settings. --apply adds missing custom attributes, the one thing fixable after pool creation. Exit 3 while problems remain.',
    )
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--apply', 'add missing custom attributes (AddCustomAttributes); everything else is explained, not changed')
    .option(
      '--pending-groups-attribute <name>',
      "also check the Lambdas' PENDING_GROUPS_ATTRIBUTE (e.g. custom:cdc_jit_groups): present, String, mutable",
    )
    .option('--json', 'print the findings as JSON')
    .action(async (opts: { config: string; apply?: boolean; json?: boolean; pendingGroupsAttribute?: string }) => {
      const config = loadConfig(opts.config);
      const mapping = await loadCompiledMapping(config.mappingPath);
      // The SDK retries an endpoint that does not answer for a long time: one line instead.
      await waitReachable(dependenciesOf(config, { cognito: true }), config.connectTimeoutMs);
      const gateway = createGateway(config);
      const check: CheckPoolOptions =
        opts.pendingGroupsAttribute === undefined ? {} : { pendingGroupsAttribute: opts.pendingGroupsAttribute };
      let findings = checkPool(mapping, await gateway.describeUserPool(), check);
      const fixes = findings.flatMap((f) => (f.fix ? [f.fix] : []));
      const applied: string[] = [];
      if (opts.apply && fixes.length > 0) {
        await gateway.addCustomAttributes(fixes);
        applied.push(...fixes.map((f) => `custom:${f.Name}`));
        findings = checkPool(mapping, await gateway.describeUserPool(), check);
      }
      const problems = problemsOf(findings);
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ pool: config.cognito.userPoolId, applied, problems: problems.length, findings }, null, 2)}\n`,
        );
      } else {
        const out = [
          `check-pool ${config.cognito.userPoolId}: ${problems.length} problem(s), ${findings.length - problems.length} note(s)`,
        ];
        if (applied.length > 0) out.push(`  applied: added ${applied.join(', ')}`);
        out.push(...findings.map(line));
        if (!opts.apply && fixes.length > 0)
          out.push(`  run with --apply to add ${fixes.map((f) => `custom:${f.Name}`).join(', ')}`);
        process.stdout.write(`${out.join('\n')}\n`);
      }
      process.exitCode = problems.length > 0 ? EXIT.attention : EXIT.ok;
    });
}
