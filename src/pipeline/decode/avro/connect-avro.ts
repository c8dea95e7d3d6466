// Builds avsc Types for the Avro that Connect converters (Confluent's, Apicurio's) write.
// They mark Debezium/Connect logical types with `connect.name` (+ `connect.parameters`), and
// only some with a standard Avro `logicalType`; both are mapped onto one logical type that
// applies the shared converter table, and every long is read without precision loss.
import avro from 'avsc';
import { CONNECT_DECIMAL, converterFor, isConvertedLogicalType, type ValueConverter } from '../logical-types.js';
import type { PlaceholderForms } from '../unavailable.js';
import { EXACT_LONG } from './exact-long.js';

const CDC_LOGICAL = 'cdc-connect';
const CONVERTER = Symbol('converter');

// Standard Avro logical types (writers other than Connect) -> the equivalent Connect name.
const STANDARD: Record<string, string> = {
  date: 'org.apache.kafka.connect.data.Date',
  'time-millis': 'io.debezium.time.Time',
  'time-micros': 'io.debezium.time.MicroTime',
  'timestamp-millis': 'io.debezium.time.Timestamp',
  'timestamp-micros': 'io.debezium.time.MicroTimestamp',
  'timestamp-nanos': 'io.debezium.time.NanoTimestamp',
  'local-timestamp-millis': 'io.debezium.time.Timestamp',
  'local-timestamp-micros': 'io.debezium.time.MicroTimestamp',
  decimal: CONNECT_DECIMAL,
};

type SchemaNode = Record<string | symbol, unknown>;

const isNode = (value: unknown): value is SchemaNode =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Plain bytes become base64 text, as the JSON converter writes them: one form for map. */
const toBase64: ValueConverter = (value) => (Buffer.isBuffer(value) ? value.toString('base64') : value);

/**
 * Returns the schema with every converted logical type marked (our logicalType plus the
 * converter attached) and plain bytes marked for base64. Object nodes are changed in place;
 * a bare "bytes" reference is replaced by a marked node. Walks records, unions, arrays, maps.
 */
const markLogicalTypes = (schema: unknown, forms: PlaceholderForms): unknown => {
  if (schema === 'bytes') return markLogicalTypes({ type: 'bytes' }, forms);
  if (Array.isArray(schema)) return schema.map((branch) => markLogicalTypes(branch, forms));
  if (!isNode(schema)) return schema;
  const connectName = schema['connect.name'];
  const standard = typeof schema['logicalType'] === 'string' ? STANDARD[schema['logicalType']] : undefined;
  const name = typeof connectName === 'string' && isConvertedLogicalType(connectName) ? connectName : standard;
  let convert: ValueConverter | undefined;
  if (name !== undefined) {
    const parameters = isNode(schema['connect.parameters']) ? { ...schema['connect.parameters'] } : {};
    // Plain Avro decimals carry the scale as an attribute, not as a Connect parameter.
    if (parameters['scale'] === undefined && schema['scale'] !== undefined)
      parameters['scale'] = String(schema['scale']);
    convert = converterFor(name, parameters, forms);
  } else if (schema['type'] === 'bytes') {
    convert = toBase64;
  }
  if (convert !== undefined) {
    schema['logicalType'] = CDC_LOGICAL;
    schema[CONVERTER] = convert;
  } else if (schema['logicalType'] !== undefined) {
    // Unconverted logical types (uuid, ...) are read as their underlying type.
    delete schema['logicalType'];
  }
  if (Array.isArray(schema['fields']))
    for (const field of schema['fields']) if (isNode(field)) field['type'] = markLogicalTypes(field['type'], forms);
  if (schema['items'] !== undefined) schema['items'] = markLogicalTypes(schema['items'], forms);
  if (schema['values'] !== undefined) schema['values'] = markLogicalTypes(schema['values'], forms);
  // {"type": {...}} nests a full type definition.
  if (isNode(schema['type']) || Array.isArray(schema['type'])) schema['type'] = markLogicalTypes(schema['type'], forms);
  return schema;
};

// The schema node whose underlying type a ConnectLogicalType is building right now: the type
// hook must answer EXACT_LONG for it, where avsc would otherwise use its own long.
let buildingUnderlying: unknown;

class ConnectLogicalType extends avro.types.LogicalType {
  private readonly convert: ValueConverter;

  constructor(schema: avro.Schema, opts?: unknown) {
    buildingUnderlying = schema;
    super(schema, opts);
    buildingUnderlying = undefined;
    this.convert = (schema as unknown as SchemaNode)[CONVERTER] as ValueConverter;
  }

  protected override _fromValue(value: unknown): unknown {
    return this.convert(value);
  }

  protected override _toValue(value: unknown): unknown {
    // Encoding is only used by tests and tools, which pass the underlying value.
    return value;
  }

  protected override _resolve(type: avro.Type): unknown {
    if (avro.Type.isType(type, 'logical:' + CDC_LOGICAL) || type.typeName === this.underlyingType.typeName)
      return (v: unknown) => v;
    return undefined;
  }
}

const typeHook = (schema: avro.Schema): avro.Type | undefined => {
  if (schema === 'long') return EXACT_LONG;
  if (!isNode(schema) || schema['type'] !== 'long') return undefined;
  if (schema['logicalType'] === CDC_LOGICAL && schema !== buildingUnderlying) return undefined; // let avsc build the logical type
  buildingUnderlying = undefined;
  return EXACT_LONG;
};

/** Parses a registry schema string into an avsc Type. Throws on invalid JSON or Avro. */
export const buildAvroType = (schemaJson: string, forms: PlaceholderForms): avro.Type => {
  const schema = markLogicalTypes(JSON.parse(schemaJson), forms);
  return avro.Type.forSchema(schema as avro.Schema, {
    logicalTypes: { [CDC_LOGICAL]: ConnectLogicalType },
    typeHook,
    wrapUnions: 'auto',
    omitRecordMethods: true,
  });
};
