// Connect's Decimal is the unscaled value as big-endian two's-complement bytes plus a scale;
// Debezium's VariableScaleDecimal is the same with the scale carried per value. Both become
// exact decimal strings: numbers would lose precision, and Cognito stores strings anyway.

/** Big-endian two's-complement bytes -> bigint (or number when it fits in 6 bytes: faster). */
const unscaledNumber = (bytes: Uint8Array): number => {
  let value = 0;
  for (const byte of bytes) value = value * 256 + byte;
  return (bytes[0] ?? 0) & 0x80 ? value - 2 ** (bytes.length * 8) : value;
};

/** Big-endian two's-complement bytes -> bigint. */
export const unscaledFromBytes = (bytes: Uint8Array): bigint => {
  if (bytes.length === 0) return 0n;
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  // Negative when the top bit is set: subtract 2^(8n).
  return (bytes[0] ?? 0) & 0x80 ? value - (1n << BigInt(bytes.length * 8)) : value;
};

/** unscaled * 10^-scale as a plain decimal string (no exponent), e.g. (-1234n, 2) -> "-12.34". */
export const formatDecimal = (unscaled: bigint | number, scale: number): string => {
  if (scale <= 0) return scale === 0 ? unscaled.toString() : (BigInt(unscaled) * 10n ** BigInt(-scale)).toString();
  const negative = unscaled < 0;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const cut = digits.length - scale;
  return `${negative ? '-' : ''}${digits.slice(0, cut)}.${digits.slice(cut)}`;
};

export const decimalFromBytes = (bytes: Uint8Array, scale: number): string =>
  formatDecimal(bytes.length <= 6 ? unscaledNumber(bytes) : unscaledFromBytes(bytes), scale);

/** The JSON converter writes bytes as base64. */
export const decimalFromBase64 = (base64: string, scale: number): string =>
  decimalFromBytes(Buffer.from(base64, 'base64'), scale);
