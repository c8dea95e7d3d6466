// Debezium's unavailable-value placeholder. Postgres does not put unchanged TOASTed columns in
// the WAL, so Debezium emits a placeholder instead of the value (as a string for text-like
// columns, as the placeholder's UTF-8 bytes for bytea/decimal, as a one-element array for
// arrays). The decoder keeps it visible, always as the one string UNAVAILABLE_VALUE, so the
// map stage can treat the column as "unknown, keep what Cognito has" and never write it.

/** Debezium's default `unavailable.value.placeholder`; decoded rows always carry this string. */
export const UNAVAILABLE_VALUE = '__debezium_unavailable_value';

export const isUnavailable = (value: unknown): value is typeof UNAVAILABLE_VALUE => value === UNAVAILABLE_VALUE;

/** Recognises the placeholder in every form the connector and converters emit it. */
export interface PlaceholderForms {
  readonly text: string;
  readonly bytes: Buffer;
  /** The bytes form as the JSON converter writes bytes: base64. */
  readonly base64: string;
}

export const placeholderForms = (text: string = UNAVAILABLE_VALUE): PlaceholderForms => {
  const bytes = Buffer.from(text, 'utf8');
  return { text, bytes, base64: bytes.toString('base64') };
};

export const DEFAULT_PLACEHOLDER = placeholderForms();

/** True for the placeholder in any of its forms (string, custom text, bytes, base64 bytes). */
export const isPlaceholderForm = (value: unknown, forms: PlaceholderForms): boolean =>
  typeof value === 'string'
    ? value === forms.text || value === forms.base64
    : Buffer.isBuffer(value) && value.equals(forms.bytes);

/** For converters: a decimal/bytes value that is really the placeholder must not be converted. */
export const isPlaceholderBytes = (value: Buffer | string, forms: PlaceholderForms): boolean =>
  typeof value === 'string' ? value === forms.base64 || value === forms.text : value.equals(forms.bytes);
