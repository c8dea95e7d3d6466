// What `dlq list` and `dlq inspect` show, built from DLQ entries and (for inspect) what the
// current pipeline makes of the record. Pure, so the redaction rules are tested directly:
// nothing personal leaves unless the operator asked with --show-personal-data.
import { createHash } from 'node:crypto';
import type { DecodeOutcome, Result } from '../core/types.js';
import type { SyncError } from '../errors.js';
import type { MappedEvent } from '../pipeline/map/map-event.js';
import { headerText, OWN_HEADER_PREFIX, type DlqEntry } from '../adapters/kafka/dlq-reader.js';
import { redactText, redactValue } from './redact.js';
import type { RedriveVerdict } from './redrive-verdict.js';

export interface DlqListRow {
  partition: number;
  offset: string;
  /** The record's key as Debezium wrote it (the row's primary key), redacted like everything else. */
  key: unknown;
  source: string | null;
  stage: string | null;
  errorClass: string | null;
  message: string | null;
  failedAt: string | null;
}

export function listRow(entry: DlqEntry, showPersonal = false): DlqListRow {
  const m = entry.meta;
  return {
    partition: entry.partition,
    offset: entry.offset,
    key: keyView(entry.record.key, showPersonal),
    source: m.sourceTopic === null ? null : `${m.sourceTopic}:${m.sourcePartition ?? '?'}@${m.sourceOffset ?? '?'}`,
    stage: m.stage,
    errorClass: m.errorClass,
    message: m.message === null ? null : showPersonal ? m.message : redactText(m.message),
    failedAt: m.failedAt,
  };
}

export function formatDlqList(rows: DlqListRow[], width = 80): string {
  const header = ['PARTITION', 'OFFSET', 'FAILED AT', 'SOURCE', 'STAGE', 'ERROR', 'MESSAGE'];
  const clip = (s: string): string => (s.length > width ? `${s.slice(0, width - 1)}…` : s);
  const body = rows.map((r) => [
    String(r.partition),
    r.offset,
    r.failedAt ?? '-',
    r.source ?? '-',
    r.stage ?? '-',
    r.errorClass ?? '-',
    clip((r.message ?? '-').replace(/\s+/g, ' ')),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...body.map(line)].join('\n');
}

/**
 * A record key for the listing: Debezium's JSON key without its schema envelope ({"id": 7}),
 * else what rawView makes of the bytes (Avro: the schema id; null for a keyless record).
 */
export function keyView(bytes: Buffer | null, showPersonal: boolean): unknown {
  const view = rawView(bytes, showPersonal);
  if (view !== null && typeof view === 'object' && 'schema' in view && 'payload' in view)
    return (view as { payload: unknown }).payload;
  return view;
}

/**
 * Retained offsets per partition, both ends included: "0: 17..41", "0: 5" for one record,
 * "0: empty". (The high watermark is the NEXT offset: "0..1" was one record, read as two.)
 */
export function formatRetained(partitions: readonly { partition: number; low: string; high: string }[]): string {
  return partitions
    .map((p) => {
      const last = BigInt(p.high) - 1n;
      if (last < BigInt(p.low)) return `${p.partition}: empty`;
      return last === BigInt(p.low) ? `${p.partition}: ${p.low}` : `${p.partition}: ${p.low}..${last}`;
    })
    .join(', ');
}

/** JSON-safe deep copy: bigint as string, bytes as base64, dates as ISO. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `base64:${Buffer.from(value).toString('base64')}`;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = jsonSafe(v);
    return out;
  }
  return value;
}

/**
 * Raw bytes as something readable: parsed JSON when they are JSON, the schema id when they
 * are Confluent-framed Avro, else the size and a hash (text of unknown shape cannot be
 * redacted field by field, so it is only shown in full when personal data is allowed).
 */
export function rawView(bytes: Buffer | null, showPersonal: boolean): unknown {
  if (bytes === null) return null;
  if (bytes.length >= 5 && bytes[0] === 0)
    return {
      format: 'confluent-avro',
      schemaId: bytes.readInt32BE(1),
      bytes: bytes.length,
      ...(showPersonal ? { base64: bytes.toString('base64') } : {}),
    };
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    return showPersonal ? parsed : redactValue(parsed);
  } catch {
    return {
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      ...(showPersonal ? { base64: bytes.toString('base64') } : {}),
    };
  }
}

export interface InspectView {
  dlq: { topic: string; partition: number; offset: string; timestamp: string | null };
  source: { topic: string | null; partition: number | null; offset: string | null };
  error: {
    stage: string | null;
    class: string | null;
    message: string | null;
    failedAt: string | null;
    redrivenFrom: string | null;
  };
  /** The record's own headers (ours are shown above). */
  headers: Record<string, string>;
  /** What the current decoder makes of the record. */
  decoded:
    | { ok: true; skip?: string; event?: unknown }
    | { ok: false; error: { class: string; stage: string; message: string } };
  /** What the current mapping makes of the decoded event. */
  mapping?:
    | { ok: true; skip?: string; intents?: unknown[] }
    | { ok: false; error: { class: string; stage: string; message: string } };
  /** What a re-drive would do with it against the user's current state (redrive-verdict.ts). */
  now?: { verdict: 'superseded' | 'user-missing' | 'redrive'; reason: string };
  /** The bytes as they are, when the decoder could not read them. */
  raw?: { key: unknown; value: unknown };
  redacted: boolean;
}

export interface InspectInput {
  topic: string;
  entry: DlqEntry;
  decoded: Result<DecodeOutcome, SyncError> | null;
  mapped: Result<MappedEvent, SyncError> | null;
  /** The verdict against the user's current state; null when the record has no user to judge by. */
  verdict?: RedriveVerdict | null;
  showPersonal: boolean;
}

export function buildInspectView(i: InspectInput): InspectView {
  const hide = !i.showPersonal;
  const clean = (v: unknown): unknown => (hide ? redactValue(jsonSafe(v)) : jsonSafe(v));
  const text = (s: string | null): string | null => (s === null || !hide ? s : redactText(s));
  const errorOf = (e: SyncError): { class: string; stage: string; message: string } => ({
    class: e.constructor.name,
    stage: e.stage,
    message: text(e.message)!,
  });
  const m = i.entry.meta;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(i.entry.record.headers)) {
    const t = headerText(value);
    if (!name.startsWith(OWN_HEADER_PREFIX) && t !== null) headers[name] = text(t)!;
  }
  const view: InspectView = {
    dlq: {
      topic: i.topic,
      partition: i.entry.partition,
      offset: i.entry.offset,
      timestamp: i.entry.timestamp ? new Date(Number(i.entry.timestamp)).toISOString() : null,
    },
    source: { topic: m.sourceTopic, partition: m.sourcePartition, offset: m.sourceOffset },
    error: {
      stage: m.stage,
      class: m.errorClass,
      message: text(m.message),
      failedAt: m.failedAt,
      redrivenFrom: m.redrivenFrom,
    },
    headers,
    decoded: {
      ok: false,
      error: {
        class: 'none',
        stage: 'decode',
        message: 'no source headers: cannot decode (the decoder needs the source topic)',
      },
    },
    redacted: hide,
  };
  if (i.decoded?.ok) {
    const outcome = i.decoded.value;
    if (outcome.kind === 'skip') view.decoded = { ok: true, skip: outcome.reason };
    else {
      const { table, op, key, before, after, version, sourceTsMs, tombstone, snapshot } = outcome.event;
      view.decoded = {
        ok: true,
        event: clean({
          table,
          op,
          key,
          before,
          after,
          version,
          sourceTs: sourceTsMs === null ? null : new Date(sourceTsMs).toISOString(),
          tombstone,
          snapshot,
        }),
      };
    }
  } else if (i.decoded) view.decoded = { ok: false, error: errorOf(i.decoded.error) };
  if (i.mapped) {
    if (!i.mapped.ok) view.mapping = { ok: false, error: errorOf(i.mapped.error) };
    else if (i.mapped.value.kind === 'skip') view.mapping = { ok: true, skip: i.mapped.value.reason };
    else {
      const intents = i.mapped.value.intents.map(({ origin: _origin, ...intent }) => intent);
      view.mapping = { ok: true, intents: intents.map(clean) };
    }
  }
  if (i.verdict) view.now = { verdict: i.verdict.kind, reason: text(i.verdict.reason)! };
  if (!i.decoded?.ok)
    view.raw = {
      key: rawView(i.entry.record.key, i.showPersonal),
      value: rawView(i.entry.record.value, i.showPersonal),
    };
  return view;
}

export function formatInspect(v: InspectView): string {
  const json = (x: unknown): string => JSON.stringify(x, null, 2).replace(/\n/g, '\n  ');
  const out = [
    `DLQ record ${v.dlq.topic} partition ${v.dlq.partition} offset ${v.dlq.offset}${v.dlq.timestamp ? ` (written ${v.dlq.timestamp})` : ''}`,
    `source      ${v.source.topic ?? '?'}:${v.source.partition ?? '?'}@${v.source.offset ?? '?'}`,
    `failed at   ${v.error.failedAt ?? '?'} in stage ${v.error.stage ?? '?'}`,
    `error       ${v.error.class ?? '?'}: ${v.error.message ?? ''}`,
  ];
  if (v.error.redrivenFrom) out.push(`re-driven   from ${v.error.redrivenFrom} and failed again`);
  if (Object.keys(v.headers).length > 0) out.push(`headers     ${JSON.stringify(v.headers)}`);
  out.push('');
  if (v.decoded.ok)
    out.push(v.decoded.skip ? `decoded now: skipped (${v.decoded.skip})` : `decoded now:\n  ${json(v.decoded.event)}`);
  else out.push(`decoded now: fails: ${v.decoded.error.class}: ${v.decoded.error.message}`);
  if (v.mapping) {
    if (!v.mapping.ok) out.push(`mapping now: fails: ${v.mapping.error.class}: ${v.mapping.error.message}`);
    else if (v.mapping.skip) out.push(`mapping now: skipped (${v.mapping.skip})`);
    else out.push(`mapping now: ${v.mapping.intents?.length ?? 0} intent(s):\n  ${json(v.mapping.intents)}`);
  }
  if (v.now)
    out.push(
      v.now.verdict === 'superseded'
        ? `re-drive:   resolves it without a write (${v.now.reason})`
        : v.now.verdict === 'user-missing'
          ? `re-drive:   sends it back to the DLQ for now (${v.now.reason})`
          : 're-drive:   applies what the mapping makes of it (Cognito holds an older version of this user, or none)',
    );
  if (v.raw) out.push(`raw key:\n  ${json(v.raw.key)}`, `raw value:\n  ${json(v.raw.value)}`);
  if (v.redacted) out.push('', 'personal data (emails, phones, names) redacted: --show-personal-data to see it.');
  return `${out.join('\n')}\n`;
}
