// Public surface of the decode stage: Kafka record bytes -> ChangeEvent, pure and I/O-free
// except for the first lookup of each Avro schema id through the injected SchemaRegistry.
//
// What a decoded row holds (the contract with the map stage):
// - strings, booleans, null as sent; int64 as number when |n| <= 2^53 - 1, else exact bigint;
// - Connect Decimal / VariableScaleDecimal as exact decimal strings ("123.45");
// - io.debezium.time.* and Connect Date/Time/Timestamp as ISO-8601 strings; ZonedTimestamp as
//   Debezium wrote it; Postgres 'infinity' as 'infinity' / '-infinity';
// - other bytes as base64 text (JSON and Avro alike);
// - UNAVAILABLE_VALUE where Debezium could not read the column (unchanged TOASTed value):
//   "unknown, keep what Cognito has", never a value to write;
// - without an embedded schema (schemas.enable=false) values are left exactly as they come.
// Delete before-images with REPLICA IDENTITY DEFAULT carry only the key columns' real values;
// Debezium fills NOT NULL columns with their Connect defaults ("" or 1970-01-01...).
export { createDecoder, type Decoder, type DecoderFormat, type DecoderOptions } from './decoder.js';
export { UNAVAILABLE_VALUE, isUnavailable } from './unavailable.js';
export {
  NO_VERSION,
  compareVersions,
  decodePostgresVersion,
  encodeMysqlGtidVersion,
  encodeMysqlVersion,
  encodePostgresVersion,
  formatLsn,
  isNewerVersion,
  type PositionNumber,
} from './version.js';
export { tableFromTopic } from './change-event.js';
export { parseGtid, type Gtid } from './gtid.js';
