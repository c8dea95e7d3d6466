// Kafka Connect JsonConverter output: `{"schema":S,"payload":P}` with schemas.enable=true, or
// the bare payload P. Most of an enveloped record's bytes are the schema, which repeats
// unchanged, so the schema text is split off and looked up instead of being parsed each time.
import type { ValueConverter } from '../logical-types.js';
import type { PlaceholderForms } from '../unavailable.js';
import { compileConnectSchema } from './connect-schema.js';
import { parseJson } from './exact-json.js';

export interface ParsedConnectJson {
  /** The payload as parsed, before logical types are converted. */
  payload: unknown;
  /** Converts the payload in place using the embedded schema; undefined = leave as is. */
  convert: ValueConverter | undefined;
  /** The record carried a schema envelope (schemas.enable=true). */
  enveloped: boolean;
}

const PREFIX = '{"schema":';
const SEPARATOR = ',"payload":';
const MAX_CACHED_SCHEMAS = 256;
const NO_CONVERSION = Symbol('no conversion');

const isEnvelope = (value: unknown): value is { schema: unknown; payload: unknown } => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 2 && 'schema' in value && 'payload' in value;
};

export class ConnectJsonParser {
  /** Schema text -> compiled converter. Schemas change only with DDL, so this stays tiny. */
  private readonly compiled = new Map<string, ValueConverter | typeof NO_CONVERSION>();

  constructor(private readonly placeholder: PlaceholderForms) {}

  /** Throws SyntaxError on invalid JSON and TypeError on an unusable embedded schema. */
  parse(text: string, exact: boolean): ParsedConnectJson {
    if (text.startsWith(PREFIX) && text.endsWith('}')) {
      const split = this.parseSplit(text, exact);
      if (split !== undefined) return split;
    }
    const whole = parseJson(text, exact);
    if (!isEnvelope(whole)) return { payload: whole, convert: undefined, enveloped: false };
    return { payload: whole.payload, convert: this.compile(whole.schema), enveloped: true };
  }

  /**
   * `{"schema":` S `,"payload":` P `}`. The first separator may sit inside a string of S; then S
   * is not valid JSON on its own and the caller falls back to parsing the whole text. When S
   * is a complete JSON value (seen before, or parsed now) the split is exactly the document's.
   */
  private parseSplit(text: string, exact: boolean): ParsedConnectJson | undefined {
    const at = text.indexOf(SEPARATOR, PREFIX.length);
    if (at < 0) return undefined;
    const schemaText = text.slice(PREFIX.length, at);
    let convert = this.compiled.get(schemaText);
    if (convert === undefined) {
      let schema: unknown;
      try {
        schema = JSON.parse(schemaText);
      } catch {
        return undefined;
      }
      convert = this.compile(schema) ?? NO_CONVERSION;
      if (this.compiled.size >= MAX_CACHED_SCHEMAS) this.compiled.clear();
      this.compiled.set(schemaText, convert);
    }
    let payload: unknown;
    try {
      payload = parseJson(text.slice(at + SEPARATOR.length, -1), exact);
    } catch {
      return undefined; // let the whole-text parse report the error at its real position
    }
    return { payload, convert: convert === NO_CONVERSION ? undefined : convert, enveloped: true };
  }

  private compile(schema: unknown): ValueConverter | undefined {
    return schema === null ? undefined : compileConnectSchema(schema, this.placeholder);
  }
}
