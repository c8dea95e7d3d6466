// The JSON Schema of the mapping file, imported (not read from disk) so it travels with the
// code into dist/ and into a bundled User Migration Lambda.
import schema from '../../../schemas/mapping.schema.json' with { type: 'json' };

export const mappingSchema: Record<string, unknown> = schema;
