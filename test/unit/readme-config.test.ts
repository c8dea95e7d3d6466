// The configuration example in the README is what people copy: it must be a config the
// program accepts (the schema is strict, so a renamed or removed field there is refused).
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { compileConfig } from '../../src/config/load-config.js';
import { configSchema } from '../../src/config/schema.js';

const README = readFileSync(join(resolve(import.meta.dirname, '../..'), 'README.md'), 'utf8');

/** The first ```yaml block of the "## Configuration" section. */
function configExample(): string {
  const section = README.split(/^## Configuration$/m)[1]!.split(/^## /m)[0]!;
  const block = /```yaml\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('no yaml block in the Configuration section');
  return block[1]!;
}

describe('README configuration example', () => {
  test('is a valid config, field for field', () => {
    const config = compileConfig(YAML.parse(configExample()) as unknown, 'README.md');
    expect(config.connectTimeoutMs).toBe(15_000);
  });

  test('shows every processing setting and the connect deadline', () => {
    const example = YAML.parse(configExample()) as { processing: Record<string, unknown>; connectTimeoutMs?: number };
    const processing = configSchema.shape.processing.unwrap().shape;
    expect(Object.keys(example.processing).sort()).toEqual(Object.keys(processing).sort());
    expect(example.connectTimeoutMs).toBeDefined();
  });
});
