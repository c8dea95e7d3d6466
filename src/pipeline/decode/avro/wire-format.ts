// Confluent wire format: byte 0 = magic 0x00, bytes 1-4 = schema id (big-endian int32),
// then the Avro binary body written with that schema.

export const MAGIC_BYTE = 0x00;
export const HEADER_LENGTH = 5;

export type WireHeader = { ok: true; schemaId: number } | { ok: false; problem: string };

export const readWireHeader = (bytes: Buffer): WireHeader => {
  if (bytes.length < HEADER_LENGTH)
    return { ok: false, problem: `only ${bytes.length} byte(s), shorter than the 5-byte Confluent wire header` };
  if (bytes[0] !== MAGIC_BYTE)
    return {
      ok: false,
      problem: `first byte is 0x${(bytes[0] ?? 0).toString(16).padStart(2, '0')}, not the Confluent magic byte 0x00`,
    };
  return { ok: true, schemaId: bytes.readInt32BE(1) };
};

export const writeWireHeader = (schemaId: number, body: Buffer): Buffer => {
  const out = Buffer.allocUnsafe(HEADER_LENGTH + body.length);
  out[0] = MAGIC_BYTE;
  out.writeInt32BE(schemaId, 1);
  body.copy(out, HEADER_LENGTH);
  return out;
};
