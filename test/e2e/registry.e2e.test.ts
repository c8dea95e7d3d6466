// The schema registry adapter against the real Apicurio (Confluent-compatible API).
import { describe, expect, test } from '@jest/globals';
import { createConfluentSchemaRegistry } from '../../src/adapters/registry/schema-registry.js';
import { DecodeError, SchemaRegistryUnavailableError } from '../../src/errors.js';
import { stackEnv } from './support/stack.js';

describe('schema registry adapter (Apicurio ccompat API)', () => {
  test('an unknown schema id is a DecodeError (the record is poison, not the registry)', async () => {
    const env = stackEnv() as ReturnType<typeof stackEnv> & { REGISTRY_CCOMPAT_URL: string };
    const registry = createConfluentSchemaRegistry({ host: env.REGISTRY_CCOMPAT_URL, retries: 0 });
    await expect(registry.getSchema(987_654_321)).rejects.toBeInstanceOf(DecodeError);
  });

  test('a registry that cannot be reached is a retriable SchemaRegistryUnavailableError', async () => {
    const registry = createConfluentSchemaRegistry({ host: 'http://127.0.0.1:1/apis/ccompat/v7', retries: 0 });
    const error = await registry.getSchema(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaRegistryUnavailableError);
    expect((error as SchemaRegistryUnavailableError).retriable).toBe(true);
  });
});
