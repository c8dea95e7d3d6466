import { describe, expect, test } from '@jest/globals';
import type { ChangeEvent, RawRecord } from '../../src/core/types.js';
import { MappingError, DecodeError } from '../../src/errors.js';
import { dlqHeaders } from '../../src/adapters/kafka/dlq-producer.js';
import { REDRIVE_HEADER, sourceRecordOf, toDlqEntry } from '../../src/adapters/kafka/dlq-reader.js';
import {
  buildInspectView,
  formatDlqList,
  formatInspect,
  formatRetained,
  listRow,
  rawView,
} from '../../src/ops/dlq-view.js';
import { redactText, redactValue } from '../../src/ops/redact.js';

const source: RawRecord = {
  topic: 'legacy.public.users',
  partition: 2,
  offset: '41',
  key: Buffer.from('{"id":7}'),
  value: Buffer.from(
    JSON.stringify({
      schema: { type: 'struct', name: 'legacy.public.users.Envelope' },
      payload: {
        op: 'u',
        before: null,
        after: {
          id: 7,
          username: 'anna.m',
          email: 'Anna.Muller@Example.com',
          phone: '+49 151 2345 6789',
          given_name: 'Änna',
          family_name: 'Müller',
          locale: 'de-DE',
        },
        source: { name: 'legacy', lsn: 123 },
      },
    }),
  ),
  headers: { traceparent: '00-abc-def-01' },
};

/** A record as the DLQ producer writes it: the original bytes plus our headers. */
function dlqRecord(error: MappingError | DecodeError, offset = '3'): RawRecord {
  const headers = { ...source.headers, ...dlqHeaders(source, error, new Date('2024-05-01T10:00:00Z')) };
  return {
    topic: 'cognito-sync.dlq',
    partition: 0,
    offset,
    timestamp: String(Date.parse('2024-05-01T10:00:01Z')),
    key: source.key,
    value: source.value,
    headers,
  };
}

const event: ChangeEvent = {
  table: 'users',
  key: { id: 7 },
  op: 'u',
  before: null,
  after: {
    id: 7,
    username: 'anna.m',
    email: 'Anna.Muller@Example.com',
    phone: '+49 151 2345 6789',
    given_name: 'Änna',
    family_name: 'Müller',
    locale: 'de-DE',
    balance: 12n,
  },
  version: '00000000000000ab',
  sourceTsMs: Date.parse('2024-05-01T09:59:59Z'),
  tombstone: false,
  snapshot: false,
  origin: { topic: 'legacy.public.users', partition: 2, offset: '41' },
};

const PERSONAL = ['anna.m', 'Anna.Muller', 'anna.muller', '2345', 'Änna', 'Müller'];

describe('dlq inspect redaction', () => {
  const mappingError = new MappingError(
    "email 'Anna.Muller@Example.com' and phone +49 151 2345 6789 are not valid",
    'email',
  );
  const entry = toDlqEntry(dlqRecord(mappingError));

  test('decoded row, mapping error and header texts: personal data redacted by default', () => {
    const view = buildInspectView({
      topic: 'cognito-sync.dlq',
      entry,
      decoded: { ok: true, value: { kind: 'event', event } },
      mapped: { ok: false, error: mappingError },
      showPersonal: false,
    });
    const text = JSON.stringify(view) + formatInspect(view);
    for (const secret of PERSONAL) expect(text).not.toContain(secret);
    expect(view.decoded).toMatchObject({
      ok: true,
      event: {
        table: 'users',
        op: 'u',
        key: { id: 7 },
        after: {
          id: 7,
          email: '[redacted]',
          phone: '[redacted]',
          username: '[redacted]',
          given_name: '[redacted]',
          locale: 'de-DE',
          balance: '12',
        },
      },
    });
    expect(view.error.message).toBe("email '[redacted-email]' and phone [redacted-phone] are not valid");
    expect(view.mapping).toMatchObject({ ok: false, error: { class: 'MappingError', stage: 'map' } });
    expect(view.source).toEqual({ topic: 'legacy.public.users', partition: 2, offset: '41' });
    expect(view.headers).toEqual({ traceparent: '00-abc-def-01' });
    expect(formatInspect(view)).toContain('--show-personal-data');
  });

  test('--show-personal-data shows the values as they are', () => {
    const view = buildInspectView({
      topic: 'cognito-sync.dlq',
      entry,
      decoded: { ok: true, value: { kind: 'event', event } },
      mapped: null,
      showPersonal: true,
    });
    expect(view.decoded).toMatchObject({
      ok: true,
      event: { after: { email: 'Anna.Muller@Example.com', given_name: 'Änna' } },
    });
    expect(view.error.message).toContain('Anna.Muller@Example.com');
    expect(view.redacted).toBe(false);
  });

  test('when the record does not decode, the raw JSON is shown redacted; Debezium metadata stays readable', () => {
    const error = new DecodeError('unexpected envelope');
    const view = buildInspectView({
      topic: 'cognito-sync.dlq',
      entry: toDlqEntry(dlqRecord(error)),
      decoded: { ok: false, error },
      mapped: null,
      showPersonal: false,
    });
    const text = JSON.stringify(view);
    for (const secret of PERSONAL) expect(text).not.toContain(secret);
    expect(view.raw?.value).toMatchObject({
      schema: { name: 'legacy.public.users.Envelope' },
      payload: { after: { email: '[redacted]', locale: 'de-DE' }, source: { name: 'legacy' } },
    });
    expect(view.decoded).toMatchObject({ ok: false, error: { class: 'DecodeError', message: 'unexpected envelope' } });
  });

  test('bytes that are not JSON: only size and hash unless personal data is allowed; Avro shows its schema id', () => {
    const text = Buffer.from('name=anna.m;email=a@b.example');
    expect(rawView(text, false)).toEqual({ bytes: text.length, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(rawView(text, true)).toMatchObject({ base64: text.toString('base64') });
    const avro = Buffer.from([0, 0, 0, 0, 42, 2, 3]);
    expect(rawView(avro, false)).toEqual({ format: 'confluent-avro', schemaId: 42, bytes: 7 });
  });

  test('free text: e-mails and international phone numbers, not offsets or versions', () => {
    expect(
      redactText('user a.b+c@x.example.org failed at offset 12345678 version 00000000000000ab phone +1 (555) 010-9999'),
    ).toBe('user [redacted-email] failed at offset 12345678 version 00000000000000ab phone [redacted-phone]');
    expect(redactValue({ 'custom:given_name': 'X', Email_Address: 'y', nested: [{ lastName: 'Z', id: 1 }] })).toEqual({
      'custom:given_name': '[redacted]',
      Email_Address: '[redacted]',
      nested: [{ lastName: '[redacted]', id: 1 }],
    });
  });
});

describe('dlq list and re-drive input', () => {
  test('a list row carries the DLQ position, the source and the error context, message redacted', () => {
    const entry = toDlqEntry(dlqRecord(new MappingError('bad email x@y.example', 'email'), '12'));
    const row = listRow(entry);
    expect(row).toEqual({
      partition: 0,
      offset: '12',
      key: { id: 7 },
      source: 'legacy.public.users:2@41',
      stage: 'map',
      errorClass: 'MappingError',
      message: 'bad email [redacted-email]',
      failedAt: '2024-05-01T10:00:00.000Z',
    });
    expect(formatDlqList([row])).toMatch(
      /^PARTITION\s+OFFSET\s+FAILED AT\s+SOURCE\s+STAGE\s+ERROR\s+MESSAGE\n0\s+12\s+2024-05-01T10:00:00.000Z\s+legacy.public.users:2@41\s+map\s+MappingError\s+bad email \[redacted-email\]$/,
    );
  });

  test('a list row gives the key without its JSON schema envelope, and redacts a personal one', () => {
    const entry = toDlqEntry({
      ...dlqRecord(new MappingError('x', 'email')),
      key: Buffer.from(JSON.stringify({ schema: { type: 'struct' }, payload: { id: 7 } })),
    });
    expect(listRow(entry).key).toEqual({ id: 7 });
    const byEmail = toDlqEntry({
      ...dlqRecord(new MappingError('x', 'email')),
      key: Buffer.from('{"email":"a@b.example"}'),
    });
    expect(listRow(byEmail).key).toEqual({ email: '[redacted]' });
    expect(listRow(byEmail, true).key).toEqual({ email: 'a@b.example' });
  });

  test('retained offsets are shown with both ends included: one record is one offset', () => {
    expect(formatRetained([{ partition: 0, low: '0', high: '1' }])).toBe('0: 0');
    expect(
      formatRetained([
        { partition: 0, low: '17', high: '42' },
        { partition: 1, low: '5', high: '5' },
      ]),
    ).toBe('0: 17..41, 1: empty');
  });

  test('the source record for a re-drive: original origin, bytes and headers, none of ours', () => {
    const record = dlqRecord(new MappingError('x', 'email'));
    record.headers[REDRIVE_HEADER] = 'cognito-sync.dlq:0:1';
    const again = sourceRecordOf(toDlqEntry(record));
    expect(again).toMatchObject({
      topic: 'legacy.public.users',
      partition: 2,
      offset: '41',
      headers: { traceparent: '00-abc-def-01' },
    });
    expect(Object.keys(again!.headers)).toEqual(['traceparent']);
    expect(again!.value!.equals(source.value!)).toBe(true);
    expect(sourceRecordOf(toDlqEntry({ ...record, headers: {} }))).toBeNull();
  });
});
