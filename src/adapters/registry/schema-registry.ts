// The SchemaRegistry port the decode stage depends on, and its adapter over a
// Confluent-compatible registry (Confluent, or Apicurio at /apis/ccompat/v7).
import createApiClient from '@kafkajs/confluent-schema-registry/dist/api/index.js';
import { DecodeError, SchemaRegistryUnavailableError } from '../../errors.js';

/**
 * Narrow port: the writer schema for a schema id, as the registry's JSON schema text.
 * Rejects with DecodeError when the id is unknown (the record is poison) and with
 * SchemaRegistryUnavailableError when the registry cannot answer now (retriable).
 */
export interface SchemaRegistry {
  getSchema(id: number): Promise<string>;
}

export interface ConfluentSchemaRegistryOptions {
  /** e.g. http://localhost:8080/apis/ccompat/v7 for Apicurio. */
  host: string;
  auth?: { username: string; password: string };
  clientId?: string;
  /** Retries inside one lookup before it counts as unavailable (the pipeline retries again later). */
  retries?: number;
}

interface SchemaResponse {
  schema?: unknown;
  schemaType?: unknown;
}

interface ApiClient {
  Schema: { find(params: { id: number }): Promise<{ data(): unknown }> };
}

// The library's own HTTP client (auth, retries, error responses) without its schema parsing:
// SchemaRegistry#getSchema returns an avsc Type built with its options, which loses the raw
// `connect.*` attributes and rejects int64 values beyond 2^53. The module is CommonJS with an
// ES-module `default`, which Node's ESM loader exposes one level down.
type ApiFactory = (args: {
  host: string;
  auth?: { username: string; password: string };
  clientId?: string;
  retry?: object;
}) => ApiClient;
const factory: ApiFactory =
  (createApiClient as unknown as { default?: ApiFactory }).default ?? (createApiClient as unknown as ApiFactory);

const statusOf = (error: unknown): number | undefined => {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
};

export const createConfluentSchemaRegistry = (options: ConfluentSchemaRegistryOptions): SchemaRegistry => {
  const api = factory({
    host: options.host,
    ...(options.auth ? { auth: options.auth } : {}),
    clientId: options.clientId ?? 'cognito-cdc-sync',
    retry: { retries: options.retries ?? 2, maxRetryTimeInSecs: 2 },
  });
  return {
    async getSchema(id: number): Promise<string> {
      let body: unknown;
      try {
        body = (await api.Schema.find({ id })).data();
      } catch (error) {
        const status = statusOf(error);
        // 404: the registry answered and does not know the id (Confluent error 40403).
        if (status === 404)
          throw new DecodeError(
            `schema id ${id} is not in the schema registry at ${options.host} (HTTP 404)`,
            { schemaId: id, httpStatus: 404 },
            error,
          );
        // Everything else (connection refused, timeouts, 5xx, auth): the record is fine, retry later.
        // mappersmith reports network failures as status 400 responses.
        throw new SchemaRegistryUnavailableError(
          `schema registry at ${options.host} did not return schema id ${id}: ${error instanceof Error ? error.message : String(error)}`,
          error,
        );
      }
      const { schema, schemaType } = (typeof body === 'object' && body !== null ? body : {}) as SchemaResponse;
      if (schemaType !== undefined && schemaType !== null && schemaType !== 'AVRO') {
        throw new DecodeError(`schema id ${id} is a ${String(schemaType)} schema, not Avro`, { schemaId: id });
      }
      if (typeof schema !== 'string')
        throw new SchemaRegistryUnavailableError(
          `schema registry at ${options.host} answered for schema id ${id} without a schema string`,
        );
      return schema;
    },
  };
};
