// avsc Types by schema id. Built once per id and kept: the hot path (a cached id) is a Map
// lookup and never touches the network; concurrent misses for one id share one registry call.
import type avro from 'avsc';
import type { SchemaRegistry } from '../../../adapters/registry/schema-registry.js';
import { DecodeError, SchemaRegistryUnavailableError, SyncError } from '../../../errors.js';
import type { PlaceholderForms } from '../unavailable.js';
import { buildAvroType } from './connect-avro.js';

export class AvroTypes {
  private readonly types = new Map<number, avro.Type>();
  private readonly loading = new Map<number, Promise<avro.Type>>();

  constructor(
    private readonly registry: SchemaRegistry | undefined,
    private readonly placeholder: PlaceholderForms,
  ) {}

  cached(id: number): avro.Type | undefined {
    return this.types.get(id);
  }

  /** Rejects with DecodeError (unknown id, unusable schema) or SchemaRegistryUnavailableError. */
  load(id: number): Promise<avro.Type> {
    const type = this.types.get(id);
    if (type !== undefined) return Promise.resolve(type);
    let pending = this.loading.get(id);
    if (pending === undefined) {
      pending = this.fetchAndBuild(id).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    return pending;
  }

  private async fetchAndBuild(id: number): Promise<avro.Type> {
    if (this.registry === undefined)
      throw new DecodeError(`record is Avro with schema id ${id}, but the decoder has no schema registry`, {
        schemaId: id,
      });
    let schema: string;
    try {
      schema = await this.registry.getSchema(id);
    } catch (error) {
      if (error instanceof SyncError) throw error;
      // A port implementation that throws something else has a bug: do not retry it forever.
      throw new DecodeError(
        `schema registry lookup of schema id ${id} failed: ${error instanceof Error ? error.message : String(error)}`,
        { schemaId: id },
        error,
      );
    }
    let type: avro.Type;
    try {
      type = buildAvroType(schema, this.placeholder);
    } catch (error) {
      throw new DecodeError(
        `schema id ${id} is not a usable Avro schema: ${error instanceof Error ? error.message : String(error)}`,
        { schemaId: id },
        error,
      );
    }
    this.types.set(id, type);
    return type;
  }
}

/** The same error, re-created for one record so concurrent records never share a context. */
export const forRecord = (error: unknown, origin: { topic: string; partition: number; offset: string }): SyncError => {
  if (error instanceof SchemaRegistryUnavailableError || (error instanceof SyncError && error.retriable))
    return new SchemaRegistryUnavailableError(error.message, error).withOrigin(origin);
  if (error instanceof SyncError) return new DecodeError(error.message, { ...error.context, ...origin }, error);
  return new DecodeError(
    `schema lookup failed: ${error instanceof Error ? error.message : String(error)}`,
    { ...origin },
    error,
  );
};
