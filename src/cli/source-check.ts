// The source check as the commands use it: `check-source`, `validate-config` and `run` (when
// legacyDatabase.url is set) read the legacy database's keys and replica identity / binlog
// settings and refuse a source whose change events cannot carry what the mapping needs.
import type { CompiledConfig } from '../config/load-config.js';
import { ConfigError } from '../errors.js';
import { readSourceFacts } from '../adapters/legacy-db/source-facts.js';
import { formatProblem, judgeSource, sourceNeedsOf, type SourceProblem } from '../migration/source-check.js';
import type { CompiledMapping } from '../pipeline/map/compile-mapping.js';
import { invokedAs } from './invoked-as.js';

/** The problems of the configured legacy source; throws LegacyDatabaseError when it cannot be read. */
export async function sourceProblems(config: CompiledConfig, mapping: CompiledMapping): Promise<SourceProblem[]> {
  const legacy = config.legacyDatabase;
  if (!legacy?.url) return [];
  const needs = sourceNeedsOf(mapping, { table: legacy.table, rolesTable: legacy.rolesTable });
  const tables = [needs.users.table, ...(needs.roles ? [needs.roles.table] : [])];
  return judgeSource(await readSourceFacts(legacy.url, tables), needs);
}

/** ConfigError (exit 2): one line per problem, each with its fix. */
export function sourceProblemsError(problems: readonly SourceProblem[]): ConfigError {
  const lines = problems.map((p) => `  ${formatProblem(p)}`);
  return new ConfigError(
    `the legacy source cannot send what the mapping needs (${problems.length} problem${problems.length === 1 ? '' : 's'}; ${invokedAs()} check-source lists them):\n${lines.join('\n')}`,
    problems.map((p) => ({ path: `legacyDatabase: ${p.subject}`, message: `${p.problem}. Fix: ${p.fix}` })),
  );
}
