// Compile config once: file + environment -> validated, defaulted, typed config.
import { accessSync, constants, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { ConfigError, errorMessage } from '../errors.js';
import type { QuotaCategory } from '../core/types.js';
import { ACCOUNT_QUOTAS, configSchema, type Config } from './schema.js';

export const ENV_PREFIX = 'COGNITO_SYNC_';

export interface CompiledConfig extends Config {
  /** Absolute path of the mapping file. */
  mappingPath: string;
  /** Requests per second this instance may spend, by quota category. */
  budget: Record<QuotaCategory, number>;
  source: string;
}

export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): CompiledConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${errorMessage(error)}`, [
      { path: '(file)', message: errorMessage(error) },
    ]);
  }
  let raw: unknown;
  try {
    raw = /\.json$/i.test(path) ? JSON.parse(text) : YAML.parse(text);
  } catch (error) {
    throw new ConfigError(
      `config file ${path} is not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${errorMessage(error)}`,
      [{ path: '(file)', message: errorMessage(error) }],
    );
  }
  const deep = tooDeep(raw, MAX_DEPTH);
  if (deep !== null) {
    const message = `nested deeper than ${MAX_DEPTH} levels (no config setting is): not a config file?`;
    throw new ConfigError(`invalid config in ${path}:\n  ${deep}: ${message}`, [{ path: deep, message }]);
  }
  const overrides = envOverridesOf(raw ?? {}, env);
  return compileWithOverrides(overrides.raw, overrides.sources, path);
}

/** The config is 4 levels deep; validating a pathologically deep document would overflow the stack. */
const MAX_DEPTH = 32;

/** The path of the first value nested deeper than `max`, or null; iterative, so any depth is safe. */
function tooDeep(root: unknown, max: number): string | null {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: root, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (path.length >= max) return formatPath(path);
    for (const [key, child] of Object.entries(value))
      stack.push({ value: child, path: [...path, Array.isArray(value) ? Number(key) : key] });
  }
  return null;
}

export function compileConfig(raw: unknown, source = '(inline)'): CompiledConfig {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw configErrorFrom(parsed.error, source);
  return finish(parsed.data, source);
}

/**
 * Env values are parsed as JSON so numbers and booleans work; but where the schema wants text
 * (a group id "123", a password "12345678" or "true") the text is used as given, and where it
 * wants a list a bare word becomes a one-element list. Issues on paths an env variable set
 * name that variable.
 */
function compileWithOverrides(raw: unknown, sources: EnvSource[], source: string): CompiledConfig {
  for (let round = 0; ; round++) {
    const parsed = configSchema.safeParse(raw);
    if (parsed.success) return finish(parsed.data, source);
    let changed = false;
    for (const issue of parsed.error.issues) {
      if (issue.code !== 'invalid_type' || (issue.expected !== 'string' && issue.expected !== 'array')) continue;
      const from = sources.find((s) => s.path === formatPath(issue.path) && !s.asText);
      if (!from) continue;
      from.asText = true;
      setAt(raw, from.keys, issue.expected === 'string' ? from.text : listOf(from.text));
      changed = true;
    }
    if (!changed || round > sources.length) throw configErrorFrom(parsed.error, source, sources);
  }
}

function finish(config: Config, source: string): CompiledConfig {
  checkFiles(config, source);
  const base = source === '(inline)' ? process.cwd() : dirname(resolve(source));
  return {
    ...config,
    mappingPath: resolve(base, config.mapping),
    budget: budgetOf(config),
    source,
  };
}

/**
 * Files the config names are read when Kafka connects; an unreadable one is a config error
 * named by its path now (and `validate-config` says so), not a bare ENOENT at start.
 */
function checkFiles(config: Config, source: string): void {
  const ssl = config.kafka.ssl;
  if (typeof ssl !== 'object') return;
  const issues: { path: string; message: string }[] = [];
  for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
    const file = ssl[key];
    if (file === undefined) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch (error) {
      issues.push({
        path: `kafka.ssl.${key}`,
        message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}`,
      });
    }
  }
  if (issues.length > 0)
    throw new ConfigError(
      `invalid config in ${source}:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
      issues,
    );
}

function budgetOf(config: Config): Record<QuotaCategory, number> {
  const { quotaShare, instances, rates } = config.cognito;
  const out = {} as Record<QuotaCategory, number>;
  for (const category of Object.keys(ACCOUNT_QUOTAS) as QuotaCategory[]) {
    out[category] = rates[category] ?? (ACCOUNT_QUOTAS[category] * quotaShare) / instances;
  }
  return out;
}

export function configErrorFrom(error: z.ZodError, source: string, env: readonly EnvSource[] = []): ConfigError {
  const issues = error.issues.map((issue) => {
    const path = formatPath(issue.path);
    const keys =
      issue.code === 'unrecognized_keys' ? issue.keys.map((k) => (path === '(root)' ? k : `${path}.${k}`)) : [path];
    const from = env.filter((s) =>
      keys.some(
        (k) => s.path === k || s.path.startsWith(`${k}.`) || k.startsWith(`${s.path}.`) || k.startsWith(`${s.path}[`),
      ),
    );
    return {
      path,
      message: from.length > 0 ? `${issue.message} (set by ${from.map((s) => s.name).join(', ')})` : issue.message,
    };
  });
  const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
  return new ConfigError(`invalid config in ${source}:\n${lines}`, issues);
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

/**
 * COGNITO_SYNC_KAFKA__BROKERS=a:9092,b:9092 sets kafka.brokers; `__` separates levels and
 * SNAKE_CASE becomes camelCase. Values are parsed as JSON when they parse, so numbers and
 * booleans work; a comma list becomes an array where the file has an array.
 */
export function applyEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  return envOverridesOf(raw, env).raw;
}

/** One environment override: which variable set which path, and its text. */
interface EnvSource {
  name: string;
  keys: string[];
  path: string;
  text: string;
  /** Set once the text replaced the JSON-parsed value (see compileWithOverrides). */
  asText?: boolean;
}

function envOverridesOf(raw: unknown, env: NodeJS.ProcessEnv): { raw: unknown; sources: EnvSource[] } {
  const root = structuredClone(raw) as Record<string, unknown>;
  const sources: EnvSource[] = [];
  for (const [name, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const keys = name
      .slice(ENV_PREFIX.length)
      .split('__')
      .map((k) => k.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
    const path = formatPath(keys);
    let node: Record<string, unknown> = root;
    for (const [depth, key] of keys.slice(0, -1).entries()) {
      // A list is set whole (COGNITO_SYNC_KAFKA__BROKERS=a:9092,b:9092): a variable naming a
      // field inside one would be silently ignored.
      if (Array.isArray(node[key])) {
        const list = formatPath(keys.slice(0, depth + 1));
        throw new ConfigError(
          `${name}: ${list} is a list: set it whole (${ENV_PREFIX}${name
            .slice(ENV_PREFIX.length)
            .split('__')
            .slice(0, depth + 1)
            .join('__')}=a,b or a JSON array)`,
          [{ path: list, message: `${name} names a field inside a list` }],
        );
      }
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    const last = keys[keys.length - 1]!;
    node[last] = parseEnvValue(value, Array.isArray(node[last]) || last === 'brokers' || last === 'topics');
    sources.push({ name, keys, path, text: value });
  }
  return { raw: root, sources };
}

function setAt(root: unknown, keys: string[], value: unknown): void {
  let node = root as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys[keys.length - 1]!] = value;
}

const listOf = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function parseEnvValue(value: string, isList: boolean): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return isList ? listOf(value) : value;
  }
}
