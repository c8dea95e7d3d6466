// Kafka Connect's JsonConverter (schemas.enable=true) embeds the schema of every record.
// It is compiled once into a converter that touches only the fields with logical types;
// everything else is already the right JavaScript value after JSON.parse.
import { converterFor, type ValueConverter } from '../logical-types.js';
import type { PlaceholderForms } from '../unavailable.js';

/** The JSON form of a Connect schema (org.apache.kafka.connect.json.JsonConverter#asJsonSchema). */
export interface ConnectSchema {
  type: string;
  optional?: boolean;
  name?: string;
  version?: number;
  parameters?: Record<string, unknown>;
  field?: string;
  fields?: ConnectSchema[];
  items?: ConnectSchema;
  keys?: ConnectSchema;
  values?: ConnectSchema;
}

const isSchema = (value: unknown): value is ConnectSchema =>
  typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';

const structConverter =
  (fields: [string, ValueConverter][]): ValueConverter =>
  (value) => {
    if (typeof value !== 'object' || value === null)
      throw new TypeError(`expected a struct, got ${value === null ? 'null' : typeof value}`);
    const struct = value as Record<string, unknown>;
    for (const [name, convert] of fields) {
      const inner = struct[name];
      if (inner !== null && inner !== undefined) struct[name] = convert(inner);
    }
    return struct;
  };

/**
 * A converter for values of this schema, or undefined when they need no conversion.
 * Throws TypeError on a schema that is not a Connect schema.
 */
export const compileConnectSchema = (schema: unknown, forms: PlaceholderForms): ValueConverter | undefined => {
  if (!isSchema(schema)) throw new TypeError('embedded schema is not a Connect schema (no "type")');
  const logical = converterFor(schema.name, schema.parameters, forms);
  if (logical !== undefined) return logical;
  switch (schema.type) {
    case 'struct': {
      const fields: [string, ValueConverter][] = [];
      for (const field of schema.fields ?? []) {
        if (typeof field.field !== 'string')
          throw new TypeError('struct field without a "field" name in embedded schema');
        const convert = compileConnectSchema(field, forms);
        if (convert !== undefined) fields.push([field.field, convert]);
      }
      return fields.length === 0 ? undefined : structConverter(fields);
    }
    case 'array': {
      const item = schema.items === undefined ? undefined : compileConnectSchema(schema.items, forms);
      if (item === undefined) return undefined;
      return (value) => {
        if (!Array.isArray(value)) throw new TypeError(`expected an array, got ${typeof value}`);
        return value.map((v: unknown) => (v === null ? v : item(v)));
      };
    }
    case 'map': {
      const convertValue = schema.values === undefined ? undefined : compileConnectSchema(schema.values, forms);
      if (convertValue === undefined) return undefined;
      return (value) => {
        // String-keyed maps are JSON objects; other key types are arrays of [key, value] pairs.
        if (Array.isArray(value))
          return value.map((pair: unknown) =>
            Array.isArray(pair) && pair[1] !== null ? [pair[0], convertValue(pair[1])] : pair,
          );
        if (typeof value !== 'object' || value === null) throw new TypeError(`expected a map, got ${typeof value}`);
        const map = value as Record<string, unknown>;
        for (const k in map) if (map[k] !== null) map[k] = convertValue(map[k]);
        return map;
      };
    }
    default:
      return undefined;
  }
};
