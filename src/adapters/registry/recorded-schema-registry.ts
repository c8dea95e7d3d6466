// A SchemaRegistry that replays schemas recorded from a real registry ({id: schema JSON}), as
// captured next to the Kafka records in test/fixtures/debezium/avro-schemas.json. Used to decode
// recorded topics offline (tests, `dlq` inspection) exactly as the live registry would answer.
import { DecodeError } from '../../errors.js';
import type { SchemaRegistry } from './schema-registry.js';

export const createRecordedSchemaRegistry = (schemas: Readonly<Record<string, string>>): SchemaRegistry => ({
  getSchema(id: number): Promise<string> {
    const schema = schemas[String(id)];
    return schema === undefined
      ? Promise.reject(
          new DecodeError(`schema id ${id} is not among the ${Object.keys(schemas).length} recorded schemas`, {
            schemaId: id,
          }),
        )
      : Promise.resolve(schema);
  },
});
