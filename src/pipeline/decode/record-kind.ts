// What a decoded Debezium value is, judged by its shape: the decoder must route change events,
// flattened rows and Debezium's own bookkeeping records without knowing the connector config.

export type ValueKind = 'envelope' | 'unwrapped' | 'heartbeat' | 'schema-change' | 'transaction-metadata';

type Fields = Record<string, unknown>;

export const classifyValue = (value: Fields): ValueKind => {
  const op = value['op'];
  // A change event envelope: {before, after, source, op, ts_ms, ...}.
  if (typeof op === 'string' && ('source' in value || 'after' in value || 'before' in value)) return 'envelope';
  // Schema change topic (<topic.prefix>): {source, ts_ms, databaseName, schemaName, ddl, tableChanges}.
  if ('ddl' in value || 'tableChanges' in value || ('databaseName' in value && 'source' in value))
    return 'schema-change';
  // Transaction metadata topic (<topic.prefix>.transaction): {status: BEGIN|END, id, event_count, ...}.
  if ((value['status'] === 'BEGIN' || value['status'] === 'END') && 'id' in value) return 'transaction-metadata';
  // Heartbeat topic: {ts_ms} and nothing else.
  if ('ts_ms' in value && Object.keys(value).length === 1) return 'heartbeat';
  return 'unwrapped';
};
