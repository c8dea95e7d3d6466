// Compile config once: file + environment -> validated, defaulted, typed config.
import { readFileSync } from 'node:fs';
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
    throw new ConfigError(`cannot read config file ${path}: ${errorMessage(error)}`, [{ path: '(file)', message: errorMessage(error) }]);
  }
  let raw: unknown;
  try {
    raw = /\.json$/i.test(path) ? JSON.parse(text) : YAML.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${errorMessage(error)}`, [
      { path: '(file)', message: errorMessage(error) },
    ]);
  }
  return compileConfig(applyEnvOverrides(raw ?? {}, env), path);
}

export function compileConfig(raw: unknown, source = '(inline)'): CompiledConfig {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw configErrorFrom(parsed.error, source);
  const config = parsed.data;
  const base = source === '(inline)' ? process.cwd() : dirname(resolve(source));
  return {
    ...config,
    mappingPath: resolve(base, config.mapping),
    budget: budgetOf(config),
    source,
  };
}

function budgetOf(config: Config): Record<QuotaCategory, number> {
  const { quotaShare, instances, rates } = config.cognito;
  const out = {} as Record<QuotaCategory, number>;
  for (const category of Object.keys(ACCOUNT_QUOTAS) as QuotaCategory[]) {
    out[category] = rates[category] ?? (ACCOUNT_QUOTAS[category] * quotaShare) / instances;
  }
  return out;
}

export function configErrorFrom(error: z.ZodError, source: string): ConfigError {
  const issues = error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
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
  const root = structuredClone(raw) as Record<string, unknown>;
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const keys = name
      .slice(ENV_PREFIX.length)
      .split('__')
      .map((k) => k.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
    let node: Record<string, unknown> = root;
    for (const key of keys.slice(0, -1)) {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    const last = keys[keys.length - 1]!;
    node[last] = parseEnvValue(value, Array.isArray(node[last]) || last === 'brokers' || last === 'topics');
  }
  return root;
}

function parseEnvValue(value: string, isList: boolean): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return isList ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
  }
}
