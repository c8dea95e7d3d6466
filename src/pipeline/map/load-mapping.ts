// Reading the mapping file: JSON or YAML -> schema check -> defaults -> cross-field checks.
// Every problem found is reported at once, each with the path that names it, in one ConfigError.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../../errors.js';
import { checkMapping } from './check-mapping.js';
import type { Issue } from './config-path.js';
import type { MappingSpec } from './mapping-spec.js';
import { normalizeMapping, type RawMapping } from './normalize-mapping.js';
import { schemaIssues } from './schema-issues.js';

const fail = (source: string, issues: Issue[]): never => {
  const summary = issues
    .slice(0, 5)
    .map((i) => `${i.path || '(root)'}: ${i.message}`)
    .join('; ');
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
  throw new ConfigError(`invalid mapping ${source}: ${summary}${more}`, issues);
};

/** Validates and defaults an already-parsed mapping object; `source` names it in messages. */
export const parseMapping = (raw: unknown, source = 'inline'): MappingSpec => {
  const shapeIssues = schemaIssues(raw);
  if (shapeIssues.length > 0) fail(source, shapeIssues);
  const issues: Issue[] = [];
  const spec = normalizeMapping(raw as RawMapping, source, issues);
  checkMapping(spec, issues);
  if (issues.length > 0) fail(source, issues);
  return spec;
};

/** Parses file text; YAML is a superset of JSON, but JSON files get JSON's stricter parser. */
export const parseMappingText = (text: string, source: string): MappingSpec => {
  try {
    return parseMappingTextUnguarded(text, source);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    // Hostile documents (alias bombs, absurd nesting) break the parser, not the rules: still a
    // config error that names the file, so the CLI exits 2 with one line.
    const reason =
      error instanceof RangeError
        ? 'is nested too deeply'
        : `cannot be parsed: ${(error as Error).message.split('\n')[0]}`;
    throw new ConfigError(`mapping ${source} ${reason}`, [{ path: '', message: reason }], error);
  }
};

const parseMappingTextUnguarded = (text: string, source: string): MappingSpec => {
  if (extname(source).toLowerCase() === '.json') {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      fail(source, [{ path: '', message: `is not valid JSON: ${(error as Error).message}` }]);
    }
    return parseMapping(raw, source);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    fail(
      source,
      doc.errors.map((e) => ({ path: '', message: `is not valid YAML: ${e.message.split('\n')[0]}` })),
    );
  }
  return parseMapping(doc.toJS(), source);
};

export const loadMapping = async (path: string): Promise<MappingSpec> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `cannot read mapping ${path}: ${(error as Error).message}`,
      [{ path: '', message: `cannot read ${path}` }],
      error,
    );
  }
  return parseMappingText(text, path);
};
