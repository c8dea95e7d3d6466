// JSON.parse rounds integers beyond 2^53 (int64 columns, NanoTimestamp, huge LSNs). Parsing
// every record with a reviver would be slow, so the decoder parses plainly and only when it meets
// a rounded integer parses the text again with this reviver. Node 22 passes each primitive's
// source text to revivers (TC39 "JSON.parse source text access"), so no bigint JSON library is
// needed: unsafe integer literals become bigint, everything else stays as JSON.parse made it.

const INTEGER_LITERAL = /^-?\d+$/;

const exactIntegers = (_key: string, value: unknown, context?: { source?: string }): unknown => {
  if (typeof value !== 'number' || Number.isSafeInteger(value)) return value;
  const source = context?.source;
  return source !== undefined && INTEGER_LITERAL.test(source) ? BigInt(source) : value;
};

export const parseJsonExact = (text: string): unknown => JSON.parse(text, exactIntegers);

export const parseJson = (text: string, exact: boolean): unknown => (exact ? parseJsonExact(text) : JSON.parse(text));
