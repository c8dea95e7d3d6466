// Kafka Connect JsonConverter output: `{"schema":S,"payload":P}` with schemas.enable=true, or
// the bare payload P. Most of an enveloped record's bytes are the schema S, which repeats
// unchanged record after record, so S is recognised by comparing bytes with the schemas seen
// recently and only the payload is turned into a string and parsed.
import type { ValueConverter } from '../logical-types.js';
import type { PlaceholderForms } from '../unavailable.js';
import { compileConnectSchema } from './connect-schema.js';
import { parseJson } from './exact-json.js';

export interface ParsedConnectJson {
  /** The payload as parsed, before logical types are converted. */
  payload: unknown;
  /** Converts the payload in place using the embedded schema; undefined = leave as is. */
  convert: ValueConverter | undefined;
}

const PREFIX = '{"schema":';
const SEPARATOR = ',"payload":';
const PREFIX_BYTES = Buffer.from(PREFIX);
const SEPARATOR_BYTES = Buffer.from(SEPARATOR);
const CLOSE_BRACE = 0x7d;
// Key and value schemas of a few topics; DDL adds versions over time.
const MAX_RECENT_SCHEMAS = 16;

interface KnownSchema {
  /** The schema's exact UTF-8 bytes as they appear after `{"schema":`. */
  bytes: Buffer;
  convert: ValueConverter | undefined;
}

const isEnvelope = (value: unknown): value is { schema: unknown; payload: unknown } => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return 'schema' in value && 'payload' in value && Object.keys(value).length === 2;
};

export class ConnectJsonParser {
  /** Most recently used first. */
  private readonly recent: KnownSchema[] = [];

  constructor(private readonly placeholder: PlaceholderForms) {}

  /** Throws SyntaxError on invalid JSON and TypeError on an unusable embedded schema. */
  parse(bytes: Buffer, exact: boolean): ParsedConnectJson {
    const enveloped =
      bytes.length > PREFIX_BYTES.length &&
      bytes[bytes.length - 1] === CLOSE_BRACE &&
      bytes.subarray(0, PREFIX_BYTES.length).equals(PREFIX_BYTES);
    if (enveloped) {
      const known = this.knownSchemaOf(bytes);
      if (known !== undefined) {
        const payloadStart = PREFIX_BYTES.length + known.bytes.length + SEPARATOR_BYTES.length;
        try {
          return {
            payload: parseJson(bytes.toString('utf8', payloadStart, bytes.length - 1), exact),
            convert: known.convert,
          };
        } catch {
          // fall through: the whole-text parse reports the error at its real position
        }
      } else {
        const split = this.splitNewSchema(bytes.toString('utf8'), exact);
        if (split !== undefined) return split;
      }
    }
    const whole = parseJson(bytes.toString('utf8'), exact);
    if (!isEnvelope(whole)) return { payload: whole, convert: undefined };
    return { payload: whole.payload, convert: this.compile(whole.schema) };
  }

  /**
   * A recent schema whose bytes, followed by `,"payload":`, start right after `{"schema":`.
   * S is a complete JSON object, so that prefix fixes where the document's schema ends.
   */
  private knownSchemaOf(bytes: Buffer): KnownSchema | undefined {
    for (let i = 0; i < this.recent.length; i++) {
      const known = this.recent[i] as KnownSchema;
      const end = PREFIX_BYTES.length + known.bytes.length;
      if (
        bytes.length > end + SEPARATOR_BYTES.length &&
        bytes.compare(known.bytes, 0, known.bytes.length, PREFIX_BYTES.length, end) === 0 &&
        bytes.compare(SEPARATOR_BYTES, 0, SEPARATOR_BYTES.length, end, end + SEPARATOR_BYTES.length) === 0
      ) {
        if (i > 0) {
          this.recent.splice(i, 1);
          this.recent.unshift(known);
        }
        return known;
      }
    }
    return undefined;
  }

  /**
   * First sight of a schema. The first `,"payload":` may lie inside a string of S; then S alone
   * is not valid JSON and the caller parses the whole text instead. A payload that does not
   * parse is also left to the whole-text parse, which reports the error at its real position.
   */
  private splitNewSchema(text: string, exact: boolean): ParsedConnectJson | undefined {
    const at = text.indexOf(SEPARATOR, PREFIX.length);
    if (at < 0) return undefined;
    const schemaText = text.slice(PREFIX.length, at);
    let schema: unknown;
    let payload: unknown;
    try {
      schema = JSON.parse(schemaText);
      payload = parseJson(text.slice(at + SEPARATOR.length, -1), exact);
    } catch {
      return undefined;
    }
    if (typeof schema !== 'object') return undefined; // a complete object (or null) delimits itself
    const known: KnownSchema = { bytes: Buffer.from(schemaText, 'utf8'), convert: this.compile(schema) };
    this.recent.unshift(known);
    if (this.recent.length > MAX_RECENT_SCHEMAS) this.recent.pop();
    return { payload, convert: known.convert };
  }

  private compile(schema: unknown): ValueConverter | undefined {
    return schema === null ? undefined : compileConnectSchema(schema, this.placeholder);
  }
}
